"""What the reminders are doing, for technicians and scripts (``clinicbox reminders``).

Ids, times, channels, statuses and outcomes only: no names, no phone
numbers, no reasons. Reading it is still audited, because appointment
times belong to patients.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class UpcomingRow:
    reminder_id: int
    appointment_id: int
    patient_id: int
    appointment_at: str
    channel: str
    status: str
    next_attempt_at: str
    expires_at: str
    attempts: int


@dataclass(frozen=True)
class AttemptRow:
    attempt_id: int
    reminder_id: int
    appointment_id: int
    channel: str
    route: str
    state: str
    outcome: str
    started_at: str
    ended_at: str | None
    detail: str


@dataclass(frozen=True)
class Report:
    upcoming: list[UpcomingRow]
    recent: list[AttemptRow]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "upcoming": [asdict(r) for r in self.upcoming],
            "recent": [asdict(r) for r in self.recent],
            "counts": self.counts,
        }


def build(store: Store, now: datetime, actor: str, *, limit: int = 50, days: int = 7) -> Report:
    """Upcoming reminders (soonest first), attempts of the last ``days``, counts by status."""
    upcoming = [
        UpcomingRow(*r)
        for r in store.query(
            "SELECT r.id, r.appointment_id, a.patient_id, a.starts_at, r.channel, r.status, r.next_attempt_at,"
            " r.expires_at, r.attempts FROM reminders r JOIN appointments a ON a.id = r.appointment_id"
            " WHERE r.status IN ('pending', 'active') ORDER BY r.next_attempt_at, r.id LIMIT ?",
            (limit,),
        )
    ]
    recent = [
        AttemptRow(*r)
        for r in store.query(
            "SELECT ra.id, ra.reminder_id, r.appointment_id, ra.channel, ra.route, ra.state, ra.outcome,"
            " ra.started_at, ra.ended_at, ra.detail FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
            " WHERE ra.started_at >= ? ORDER BY ra.id DESC LIMIT ?",
            (to_db(now - timedelta(days=days)), limit),
        )
    ]
    counts = {str(r[0]): int(r[1]) for r in store.query("SELECT status, count(*) FROM reminders GROUP BY status")}
    AuditLog(store).record(actor, "view", "reminders", "", f"{len(upcoming)} upcoming, {len(recent)} attempts")
    return Report(upcoming, recent, counts)
