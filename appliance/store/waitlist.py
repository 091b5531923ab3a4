"""The waitlist (``waitlist``, schema 0010): who waits for an earlier visit, and the desk's view.

The front desk (or a patient, by replying to a reminder or a text-back)
puts a patient on the waitlist: for a provider or a room, a range of days
and hours, or "earliest possible" (:class:`Waitlist`, audited). The freed
slots and the offers that fill them belong to
:mod:`appliance.store.waitlist_offers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from appliance.errors import NotFoundError, ValidationError
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

if TYPE_CHECKING:
    from appliance.store.waitlist_offers import Figures, OfferRow

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class EntryInput:
    """What the desk enters; :meth:`validated` says what is wrong, field by field."""

    patient_id: int
    provider: str = ""
    location: str = ""
    earliest: bool = True
    from_date: str = ""
    to_date: str = ""
    weekdays: str = ""
    from_time: str = ""
    to_time: str = ""
    duration_min: int = 15
    note: str = ""

    def validated(self) -> EntryInput:
        problems: list[str] = []
        for label, value in (("from_date", self.from_date), ("to_date", self.to_date)):
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    problems.append(f"{label}: not a date (YYYY-MM-DD)")
        for label, value in (("from_time", self.from_time), ("to_time", self.to_time)):
            if value and not _HHMM.match(value):
                problems.append(f"{label}: not a time (HH:MM)")
        if self.weekdays and (
            not set(self.weekdays) <= set("0123456") or len(set(self.weekdays)) != len(self.weekdays)
        ):
            problems.append("weekdays: digits 0 (Monday) to 6 (Sunday), each once")
        if not problems and self.from_date and self.to_date and self.to_date < self.from_date:
            problems.append("to_date: before from_date")
        if not problems and self.from_time and self.to_time and self.to_time <= self.from_time:
            problems.append("to_time: not after from_time")
        if not 5 <= self.duration_min <= 480:
            problems.append("duration_min: between 5 and 480 minutes")
        if len(self.provider) > 100 or len(self.location) > 100:
            problems.append("provider/location: longer than 100 characters")
        if len(self.note) > 500:
            problems.append("note: longer than 500 characters")
        if problems:
            raise ValidationError("; ".join(problems))
        ranged = bool(self.from_date or self.to_date or self.weekdays or self.from_time or self.to_time)
        return EntryInput(
            self.patient_id,
            self.provider.strip(),
            self.location.strip(),
            self.earliest and not ranged,
            self.from_date,
            self.to_date,
            "".join(sorted(self.weekdays)),
            self.from_time,
            self.to_time,
            self.duration_min,
            self.note.strip(),
        )


@dataclass(frozen=True)
class Entry:
    id: int
    patient_id: int
    provider: str
    location: str
    earliest: bool
    from_date: str
    to_date: str
    weekdays: str
    from_time: str
    to_time: str
    duration_min: int
    note: str
    state: str
    via: str
    created_at: str
    patient_name: str = ""

    def fits(self, start: datetime, end: datetime, provider: str, location: str, tz: object) -> bool:
        """Does a slot from ``start`` to ``end`` (aware) with this provider and room suit the entry?"""
        if self.provider and self.provider.casefold() != provider.casefold():
            return False
        if self.location and self.location.casefold() != location.casefold():
            return False
        if self.earliest:
            return True
        local_start = start.astimezone(tz)  # type: ignore[arg-type]
        local_end = end.astimezone(tz)  # type: ignore[arg-type]
        day = local_start.date().isoformat()
        if (self.from_date and day < self.from_date) or (self.to_date and day > self.to_date):
            return False
        if self.weekdays and str(local_start.weekday()) not in self.weekdays:
            return False
        if self.from_time and local_start.time() < time.fromisoformat(self.from_time):
            return False
        if self.to_time:
            return local_end.date() == local_start.date() and local_end.time() <= time.fromisoformat(self.to_time)
        return True


_ENTRY = (
    "w.id, w.patient_id, w.provider, w.location, w.earliest, coalesce(w.from_date, ''), coalesce(w.to_date, ''),"
    " w.weekdays, coalesce(w.from_time, ''), coalesce(w.to_time, ''), w.duration_min, w.note, w.state, w.via,"
    " w.created_at, p.display_name"
)


def _entry(r: tuple[object, ...]) -> Entry:
    v: list[object] = list(r)
    v[4] = bool(v[4])
    return Entry(*v)  # type: ignore[arg-type]


def waiting_count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM waitlist WHERE state = 'waiting'").fetchone()[0])


def waiting_entries(conn: Connection) -> list[Entry]:
    """Every waiting entry, oldest first (the order offers follow among equal matches)."""
    return [
        _entry(r)
        for r in conn.execute(
            f"SELECT {_ENTRY} FROM waitlist w JOIN patients p ON p.id = w.patient_id"
            " WHERE w.state = 'waiting' ORDER BY w.created_at, w.id"
        )
    ]


def join_by_sms(conn: Connection, patient_id: int, provider: str, now: datetime) -> int | None:
    """A patient's "waitlist" reply: an "earliest possible" entry, unless one is waiting already."""
    if conn.execute("SELECT 1 FROM waitlist WHERE patient_id = ? AND state = 'waiting'", (patient_id,)).fetchone():
        return None
    cur = conn.execute(
        "INSERT INTO waitlist(patient_id, provider, earliest, via, created_at, created_by, updated_at)"
        " VALUES (?,?,1,'sms',?,'patient',?)",
        (patient_id, provider, to_db(now), to_db(now)),
    )
    return int(cur.lastrowid or 0)


def mark_booked(conn: Connection, entry_id: int, appointment_id: int, now: datetime) -> None:
    """The entry got a slot (inside the booking's transaction)."""
    conn.execute(
        "UPDATE waitlist SET state = 'booked', appointment_id = ?, updated_at = ? WHERE id = ?",
        (appointment_id, to_db(now), entry_id),
    )


class Waitlist:
    """The desk's waitlist: add, edit, remove, list; every access audited."""

    def __init__(self, store: Store, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit

    def add(self, data: EntryInput, actor: str) -> int:
        clean = data.validated()
        now = to_db(self.store.clock.now())
        with self.store.transaction() as conn:
            if not conn.execute("SELECT 1 FROM patients WHERE id = ?", (clean.patient_id,)).fetchone():
                raise NotFoundError(f"no patient with id {clean.patient_id}")
            cur = conn.execute(
                "INSERT INTO waitlist(patient_id, provider, location, earliest, from_date, to_date, weekdays,"
                " from_time, to_time, duration_min, note, via, created_at, created_by, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,'web',?,?,?)",
                (*_values(clean), now, actor, now),
            )
            entry_id = int(cur.lastrowid or 0)
            self.audit.append(conn, actor, "waitlist-add", "waitlist", entry_id, f"patient {clean.patient_id}")
        return entry_id

    def update(self, entry_id: int, data: EntryInput, actor: str) -> None:
        clean = data.validated()
        with self.store.transaction() as conn:
            self._waiting(conn, entry_id)
            conn.execute(
                "UPDATE waitlist SET patient_id=?, provider=?, location=?, earliest=?, from_date=?, to_date=?,"
                " weekdays=?, from_time=?, to_time=?, duration_min=?, note=?, updated_at=? WHERE id=?",
                (*_values(clean), to_db(self.store.clock.now()), entry_id),
            )
            self.audit.append(conn, actor, "waitlist-edit", "waitlist", entry_id)

    def remove(self, entry_id: int, actor: str) -> None:
        from appliance.store import waitlist_offers as offers  # it builds on this module

        with self.store.transaction() as conn:
            self._waiting(conn, entry_id)
            now = to_db(self.store.clock.now())
            conn.execute("UPDATE waitlist SET state = 'removed', updated_at = ? WHERE id = ?", (now, entry_id))
            offers.withdraw_for_entry(conn, entry_id, self.store.clock.now())
            self.audit.append(conn, actor, "waitlist-remove", "waitlist", entry_id)

    @staticmethod
    def _waiting(conn: Connection, entry_id: int) -> None:
        row = conn.execute("SELECT state FROM waitlist WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no waitlist entry {entry_id}")
        if row[0] != "waiting":
            raise ValidationError(f"this entry is {row[0]} already")

    def get(self, entry_id: int, actor: str) -> Entry:
        with self.store.transaction() as conn:
            row = conn.execute(
                f"SELECT {_ENTRY} FROM waitlist w JOIN patients p ON p.id = w.patient_id WHERE w.id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no waitlist entry {entry_id}")
            self.audit.append(conn, actor, "view", "waitlist", entry_id)
        return _entry(row)

    def entries(self, actor: str, include_closed: bool = False, limit: int = 300) -> list[Entry]:
        where = "" if include_closed else "WHERE w.state = 'waiting'"
        with self.store.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_ENTRY} FROM waitlist w JOIN patients p ON p.id = w.patient_id {where}"
                " ORDER BY w.state != 'waiting', w.created_at, w.id LIMIT ?",
                (limit,),
            ).fetchall()
            self.audit.append(conn, actor, "view", "waitlist", "", f"{len(rows)} entries")
        return [_entry(r) for r in rows]

    def offers(self, actor: str, limit: int = 100) -> list[OfferRow]:
        from appliance.store import waitlist_offers as offers

        with self.store.transaction() as conn:
            rows = offers.offer_rows(conn, limit)
            self.audit.append(conn, actor, "view", "waitlist-offers", "", f"{len(rows)} offers")
        return rows

    def figures(self, since: datetime, until: datetime) -> Figures:
        from appliance.store import waitlist_offers as offers

        return offers.figures(self.store.connection(), since, until)


def _values(clean: EntryInput) -> tuple[object, ...]:
    return (
        clean.patient_id, clean.provider, clean.location, int(clean.earliest), clean.from_date or None,
        clean.to_date or None, clean.weekdays, clean.from_time or None, clean.to_time or None, clean.duration_min,
        clean.note,
    )  # fmt: skip
