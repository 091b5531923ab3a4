"""The reminders screen: what is due, what happened, and whether it works.

Read-only: the reminder engine owns these tables. Rates over a period:

- confirmation rate: appointments whose reminder got a "confirmed" answer,
  over appointments with at least one finished reminder attempt;
- no-show rate: no-shows over (attended + no-show) among appointments that
  started in the period;
- freed slots: appointments cancelled in the period (their time can be
  given to someone else), and how many of those came through a reminder.

The list of freed slots shows the upcoming ones (the visit is still ahead
and no booked or confirmed visit with the same provider and location took
its time since), most recently freed first: when, with whom, where, and
whether a reminder freed it. No patient data: a slot is a time, not a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.errors import StoreError
from appliance.store import Store
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class Upcoming:
    reminder_id: int
    due_at: str
    channel: str
    status: str
    attempts: int
    appointment_at: str
    patient_id: int
    patient_name: str


@dataclass(frozen=True)
class Attempt:
    started_at: str
    channel: str
    route: str
    state: str
    outcome: str
    appointment_at: str
    patient_id: int
    patient_name: str


@dataclass(frozen=True)
class FreedSlot:
    starts_at: str
    ends_at: str
    provider: str
    location: str
    freed_at: str
    by_reminder: bool


@dataclass(frozen=True)
class Rates:
    days: int
    reminded: int
    confirmed: int
    attended: int
    no_shows: int
    cancelled: int
    cancelled_by_reminder: int

    @property
    def confirmation_rate(self) -> float | None:
        return self.confirmed / self.reminded if self.reminded else None

    @property
    def no_show_rate(self) -> float | None:
        seen = self.attended + self.no_shows
        return self.no_shows / seen if seen else None


@dataclass(frozen=True)
class RemindersView:
    upcoming: list[Upcoming]
    attempts: list[Attempt]
    rates: Rates
    freed: list[FreedSlot]


def _row(store: Store, sql: str, params: tuple[object, ...]) -> tuple[Any, ...]:
    """An aggregate query's single row."""
    row = store.query_one(sql, params)
    if row is None:
        raise StoreError("an aggregate query returned no row")
    return tuple(row)


def load(repos: Repos, now: datetime, actor: str, days: int = 30, limit: int = 200) -> RemindersView:
    store = repos.store
    since = to_db(now - timedelta(days=days))
    now_s = to_db(now)
    upcoming = [
        Upcoming(*r)
        for r in store.query(
            "SELECT r.id, r.next_attempt_at, r.channel, r.status, r.attempts, a.starts_at, p.id, p.display_name"
            " FROM reminders r JOIN appointments a ON a.id = r.appointment_id JOIN patients p ON p.id = a.patient_id"
            " WHERE r.status IN ('pending', 'active') ORDER BY r.next_attempt_at LIMIT ?",
            (limit,),
        )
    ]
    attempts = [
        Attempt(*r)
        for r in store.query(
            "SELECT ra.started_at, ra.channel, ra.route, ra.state, ra.outcome, a.starts_at, p.id, p.display_name"
            " FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
            " JOIN appointments a ON a.id = r.appointment_id JOIN patients p ON p.id = a.patient_id"
            " WHERE ra.started_at >= ? ORDER BY ra.started_at DESC LIMIT ?",
            (since, limit),
        )
    ]
    reminded, confirmed = _row(
        store,
        "SELECT count(DISTINCT r.appointment_id),"
        " count(DISTINCT CASE WHEN ra.outcome = 'confirmed' THEN r.appointment_id END)"
        " FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
        " WHERE ra.started_at >= ? AND ra.state = 'finished'",
        (since,),
    )
    attended, no_shows = _row(
        store,
        "SELECT coalesce(sum(status = 'attended'), 0), coalesce(sum(status = 'no-show'), 0) FROM appointments"
        " WHERE starts_at >= ? AND starts_at < ?",
        (since, now_s),
    )
    cancelled, by_reminder = _row(
        store,
        "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM reminders r JOIN reminder_attempts ra"
        " ON ra.reminder_id = r.id WHERE r.appointment_id = a.id AND ra.outcome = 'cancelled')), 0)"
        " FROM appointments a WHERE a.status = 'cancelled' AND coalesce(a.status_changed_at, a.updated_at) >= ?",
        (since,),
    )
    rates = Rates(days, int(reminded), int(confirmed), int(attended), int(no_shows), int(cancelled), int(by_reminder))
    freed = freed_slots(store, now, limit)
    repos.audit.record(actor, "view", "reminders", "", f"{len(upcoming)} upcoming, {len(attempts)} attempts")
    return RemindersView(upcoming, attempts, rates, freed)


def freed_slots(store: Store, now: datetime, limit: int = 200) -> list[FreedSlot]:
    """Cancelled visits still ahead whose time nobody took since, most recently freed first."""
    return [
        FreedSlot(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), bool(r[5]))
        for r in store.query(
            "SELECT a.starts_at, a.ends_at, a.provider, a.location, coalesce(a.status_changed_at, a.updated_at),"
            " EXISTS (SELECT 1 FROM reminders r JOIN reminder_attempts ra ON ra.reminder_id = r.id"
            " WHERE r.appointment_id = a.id AND ra.outcome = 'cancelled')"
            " FROM appointments a WHERE a.status = 'cancelled' AND a.starts_at > ?"
            " AND NOT EXISTS (SELECT 1 FROM appointments b WHERE b.status IN ('booked', 'confirmed')"
            " AND b.provider = a.provider AND b.location = a.location"
            " AND b.starts_at < a.ends_at AND b.ends_at > a.starts_at)"
            " ORDER BY coalesce(a.status_changed_at, a.updated_at) DESC, a.starts_at LIMIT ?",
            (to_db(now), limit),
        )
    ]
