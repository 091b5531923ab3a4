"""Call detail records and queue events: what happened on every call.

The switchboard writes these from its store-writer thread (never from
the PJSUA2 thread); reports and the web UI read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from appliance.errors import NotFoundError
from appliance.store.connection import Connection, Store

#: Columns a CDR update may set (guards the dynamic UPDATE).
UPDATABLE = frozenset(
    {
        "caller",
        "callee",
        "patient_id",
        "language",
        "answered_at",
        "queue",
        "queued_at",
        "agent",
        "agent_answered_at",
        "first_answered_at",
        "ended_at",
        "disposition",
        "ivr_path",
        "hold_seconds",
        "wrap_seconds",
        "hangup_by",
        "sip_code",
        "note",
        "reminder_attempt_id",
        "callback_id",
        "purpose",
        "route",
    }
)


@dataclass(frozen=True)
class CallRecord:
    id: int
    uuid: str
    direction: str
    purpose: str
    route: str
    caller: str
    callee: str
    patient_id: int | None
    language: str | None
    started_at: str
    answered_at: str | None
    queue: str | None
    queued_at: str | None
    agent: str | None
    agent_answered_at: str | None
    ended_at: str | None
    disposition: str | None
    ivr_path: list[str]
    hold_seconds: float
    wrap_seconds: float
    hangup_by: str | None
    sip_code: int | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_COLS = (
    "id, uuid, direction, purpose, route, caller, callee, patient_id, language, started_at, answered_at, queue,"
    " queued_at, agent, agent_answered_at, ended_at, disposition, ivr_path, hold_seconds, wrap_seconds, hangup_by,"
    " sip_code, note"
)


def _record(row: Any) -> CallRecord:
    values = list(row)
    values[17] = json.loads(values[17] or "[]")
    return CallRecord(*values)


def insert(
    conn: Connection,
    *,
    uuid: str,
    direction: str,
    started_at: str,
    caller: str = "",
    callee: str = "",
    purpose: str = "patient",
    route: str = "trunk",
    patient_id: int | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO calls(uuid, direction, purpose, route, caller, callee, patient_id, started_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (uuid, direction, purpose, route, caller, callee, patient_id, started_at),
    )
    return int(cur.lastrowid or 0)


def update(conn: Connection, uuid: str, **fields: Any) -> None:
    bad = set(fields) - UPDATABLE
    if bad:
        raise ValueError(f"not updatable CDR fields: {sorted(bad)}")
    if "ivr_path" in fields and not isinstance(fields["ivr_path"], str):
        fields["ivr_path"] = json.dumps(fields["ivr_path"], ensure_ascii=False)
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(f"UPDATE calls SET {assignments} WHERE uuid = ?", (*fields.values(), uuid))


def first_answer(conn: Connection, uuid: str, agent: str | None, at: str) -> None:
    """Keep the call's first answer from a queue (its agent and time); later answers change nothing."""
    conn.execute(
        "UPDATE calls SET first_answered_at = coalesce(first_answered_at, ?),"
        " agent_answered_at = coalesce(agent_answered_at, ?), agent = coalesce(agent, ?) WHERE uuid = ?",
        (at, at, agent, uuid),
    )


def set_note(store: Store, uuid: str, note: str) -> None:
    """Staff's note on a call (cut at 2000 characters).

    Raises:
        NotFoundError: no such call.
    """
    with store.transaction() as conn:
        cur = conn.execute("UPDATE calls SET note = ? WHERE uuid = ?", (note[:2000], uuid))
        if cur.rowcount == 0:
            raise NotFoundError("no such call")


def link_reminder_attempt(conn: Connection, uuid: str, attempt_id: int) -> None:
    """Name the reminder attempt a call was placed for (the first one to claim it wins)."""
    conn.execute(
        "UPDATE calls SET reminder_attempt_id = ? WHERE uuid = ? AND reminder_attempt_id IS NULL",
        (attempt_id, uuid),
    )


def call_id(conn: Connection, uuid: str) -> int | None:
    row = conn.execute("SELECT id FROM calls WHERE uuid = ?", (uuid,)).fetchone()
    return int(row[0]) if row else None


def add_queue_event(
    conn: Connection,
    uuid: str,
    at: str,
    queue: str,
    event: str,
    agent: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    cid = call_id(conn, uuid)
    if cid is None:
        raise ValueError(f"queue event for unknown call {uuid}")
    conn.execute(
        "INSERT INTO queue_events(call_id, at, queue, event, agent, data) VALUES (?,?,?,?,?,?)",
        (cid, at, queue, event, agent, json.dumps(data or {}, ensure_ascii=False)),
    )


def add_agent_event(conn: Connection, at: str, agent: str, state: str, reason: str = "") -> None:
    conn.execute(
        "INSERT INTO agent_events(at, agent, state, reason) VALUES (?,?,?,?)",
        (at, agent, state, reason),
    )


def get(store: Store, uuid: str) -> CallRecord | None:
    row = store.query_one(f"SELECT {_COLS} FROM calls WHERE uuid = ?", (uuid,))
    return _record(row) if row else None


def recent(store: Store, limit: int = 100, before: str | None = None, since: str | None = None) -> list[CallRecord]:
    """Newest first; page with ``before`` (a started_at value)."""
    where: list[str] = []
    params: list[object] = []
    if before:
        where.append("started_at < ?")
        params.append(before)
    if since:
        where.append("started_at >= ?")
        params.append(since)
    sql = f"SELECT {_COLS} FROM calls"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC LIMIT ?"
    params.append(limit)
    return [_record(r) for r in store.query(sql, tuple(params))]


def queue_events(store: Store, uuid: str) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT q.at, q.queue, q.event, q.agent, q.data FROM queue_events q JOIN calls c ON c.id = q.call_id"
        " WHERE c.uuid = ? ORDER BY q.id",
        (uuid,),
    )
    return [{"at": r[0], "queue": r[1], "event": r[2], "agent": r[3], "data": json.loads(r[4])} for r in rows]
