"""The callback list: abandoned callers and "call me back" requests.

The table belongs to the queue (the core writes it); the web UI only reads
it here and asks the core to dial (``callback.originate``) or to close an
entry with an outcome (``callback.close``), so a callback is never dialled
twice from two screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.store.repos import Repos
from appliance.store.timefmt import to_db


@dataclass(frozen=True)
class Callback:
    id: int
    number: str
    patient_id: int | None
    patient_name: str | None
    queue: str
    source: str
    requested_at: str
    waited_seconds: float
    status: str
    attempts: int
    last_attempt_at: str | None
    completed_at: str | None
    outcome: str
    handled_by: str | None


_COLS = (
    "c.id, c.number, c.patient_id, p.display_name, c.queue, c.source, c.requested_at, c.waited_seconds, c.status,"
    " c.attempts, c.last_attempt_at, c.completed_at, c.outcome, c.handled_by"
)


def open_callbacks(repos: Repos, actor: str, limit: int = 500) -> list[Callback]:
    """Open entries, oldest first (the order they should be called back)."""
    rows = repos.store.query(
        f"SELECT {_COLS} FROM callbacks c LEFT JOIN patients p ON p.id = c.patient_id"
        " WHERE c.status IN ('open', 'dialing') ORDER BY c.requested_at, c.id LIMIT ?",
        (limit,),
    )
    items = [Callback(*r) for r in rows]
    repos.audit.record(actor, "view", "callbacks", "", f"{len(items)} open")
    return items


def recently_closed(repos: Repos, now: datetime, days: int = 7, limit: int = 100) -> list[Callback]:
    rows = repos.store.query(
        f"SELECT {_COLS} FROM callbacks c LEFT JOIN patients p ON p.id = c.patient_id"
        " WHERE c.status IN ('done', 'failed', 'cancelled') AND c.completed_at >= ?"
        " ORDER BY c.completed_at DESC LIMIT ?",
        (to_db(now - timedelta(days=days)), limit),
    )
    return [Callback(*r) for r in rows]
