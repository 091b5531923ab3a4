"""Calls per hour of the week over the last weeks: when the phone rings.

The store groups calls into 30-minute UTC buckets (cheap in SQL, and exact
for every time zone with a whole or half-hour offset); each bucket is then
placed in the clinic's local weekday and hour, so a DST change moves the
UTC buckets, not the local picture. Values are averages per week.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class HeatMap:
    weeks: int
    calls: tuple[tuple[float, ...], ...]  # [weekday][hour]: inbound calls per week
    queued: tuple[tuple[float, ...], ...]  # [weekday][hour]: calls that entered a queue per week

    def busiest(self, n: int = 5) -> list[tuple[int, int, float]]:
        """The ``n`` hours with the most queued calls: (weekday, hour, calls per hour)."""
        cells = [(self.queued[d][h], d, h) for d in range(7) for h in range(24) if self.queued[d][h] > 0]
        cells.sort(key=lambda c: (-c[0], c[1], c[2]))
        return [(d, h, value) for value, d, h in cells[:n]]


def hour_of_week(buckets: Iterable[tuple[float, int, int]], timezone: str, weeks: int) -> HeatMap:
    """Build the heat map from ``(bucket start epoch, inbound calls, queued calls)``."""
    tz = ZoneInfo(timezone)
    calls = [[0.0] * 24 for _ in range(7)]
    queued = [[0.0] * 24 for _ in range(7)]
    for start, n_calls, n_queued in buckets:
        local = datetime.fromtimestamp(start, UTC).astimezone(tz)
        calls[local.weekday()][local.hour] += n_calls
        queued[local.weekday()][local.hour] += n_queued
    per_week = 1.0 / max(1, weeks)
    return HeatMap(
        weeks,
        tuple(tuple(round(v * per_week, 3) for v in row) for row in calls),
        tuple(tuple(round(v * per_week, 3) for v in row) for row in queued),
    )
