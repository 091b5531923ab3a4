"""How times are written to the store: UTC, fixed width, milliseconds.

Fixed width keeps text comparison equal to time order, so indexes on
``started_at`` and ``due_at`` work with plain ``<`` and ``BETWEEN``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; attach a time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def seconds_between(start: str | None, end: str | None) -> float | None:
    a, b = from_db(start), from_db(end)
    if a is None or b is None:
        return None
    return (b - a).total_seconds()
