"""The call log as write operations for the store writer.

Each function returns an operation ``op(conn)`` the :class:`StoreWriter`
runs later in a transaction; times are taken by the caller on the PJSUA2
thread, so the log is accurate even if the disk is slow.

Any: 12, the SQLCipher connection (the sqlcipher3 binding has no types) and JSON column values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from appliance.store import calls
from appliance.store.timefmt import to_db

Op = Callable[[Any], None]


def start(
    call_id: str,
    direction: str,
    started: datetime,
    caller: str,
    callee: str,
    purpose: str,
    route: str,
    patient_id: int | None = None,
) -> Op:
    def op(conn: Any) -> None:
        calls.insert(
            conn,
            uuid=call_id,
            direction=direction,
            started_at=to_db(started),
            caller=caller,
            callee=callee,
            purpose=purpose,
            route=route,
            patient_id=patient_id,
        )

    return op


def update(call_id: str, **fields: Any) -> Op:
    clean = {k: (to_db(v) if isinstance(v, datetime) else v) for k, v in fields.items()}

    def op(conn: Any) -> None:
        calls.update(conn, call_id, **clean)

    return op


def first_answer(call_id: str, agent: str | None, at: datetime) -> Op:
    """An agent answered the call from a queue. The record keeps the first answer (its
    queue, agent and time), like a transfer to a station: a caller transferred back into
    a queue waited only until then, and the rest of the call is their handling."""

    def op(conn: Any) -> None:
        conn.execute(
            "UPDATE calls SET first_answered_at = coalesce(first_answered_at, ?),"
            " agent_answered_at = coalesce(agent_answered_at, ?), agent = coalesce(agent, ?) WHERE uuid = ?",
            (to_db(at), to_db(at), agent, call_id),
        )

    return op


def queue_event(call_id: str, at: datetime, queue: str, event: str, agent: str | None, data: dict[str, Any]) -> Op:
    def op(conn: Any) -> None:
        calls.add_queue_event(conn, call_id, to_db(at), queue, event, agent, dict(data))

    return op


def agent_event(at: datetime, agent: str, state: str, reason: str) -> Op:
    def op(conn: Any) -> None:
        calls.add_agent_event(conn, to_db(at), agent, state, reason)

    return op


LIVE_REQUESTS = ("requested", "overflow")  # sources the ACD holds a place for


def callback_open(
    call_id: str,
    number: str,
    patient_id: int | None,
    queue: str,
    source: str,
    requested: datetime,
    place_at: datetime,
    waited_s: float,
) -> Op:
    """One open callback per number: a second request refreshes the first (keeps the earliest place)."""

    def op(conn: Any) -> None:
        cid = calls.call_id(conn, call_id)
        existing = conn.execute(
            "SELECT id, place_at, source FROM callbacks WHERE number = ? AND status IN ('open', 'dialing')", (number,)
        ).fetchone()
        if existing is None:
            conn.execute(
                "INSERT INTO callbacks(number, patient_id, queue, source, call_id, requested_at, place_at,"
                " waited_seconds) VALUES (?,?,?,?,?,?,?,?)",
                (number, patient_id, queue, source, cid, to_db(requested), to_db(place_at), round(waited_s, 1)),
            )
        elif existing[2] in LIVE_REQUESTS and source not in LIVE_REQUESTS:
            # The queue still holds their "call me back" request (its result finds the row by
            # that call): a later missed call only adds to the wait they endured.
            conn.execute(
                "UPDATE callbacks SET waited_seconds = waited_seconds + ? WHERE id = ?",
                (round(waited_s, 1), existing[0]),
            )
        else:
            conn.execute(
                "UPDATE callbacks SET source = ?, call_id = ?, requested_at = ?, waited_seconds = waited_seconds + ?,"
                " queue = ? WHERE id = ?",
                (source, cid, to_db(requested), round(waited_s, 1), queue, existing[0]),
            )

    return op


def callback_result(
    request_call_id: str, status: str, outcome: str, at: datetime, agent: str | None, new_call_id: str | None
) -> Op:
    """Close the open callback that ``request_call_id`` created (status done/failed/cancelled)."""

    def op(conn: Any) -> None:
        cid = calls.call_id(conn, request_call_id)
        new_cid = calls.call_id(conn, new_call_id) if new_call_id else None
        row = conn.execute(
            "SELECT id FROM callbacks WHERE call_id = ? AND status IN ('open', 'dialing')", (cid,)
        ).fetchone()
        if row is None:
            return
        final = status if status in ("done", "cancelled") else "open"  # failed: stays on the list for staff
        conn.execute(
            "UPDATE callbacks SET status = ?, outcome = ?, attempts = attempts + 1, last_attempt_at = ?,"
            " completed_at = CASE WHEN ? = 'done' THEN ? ELSE completed_at END, handled_by = ?,"
            " callback_call_id = COALESCE(?, callback_call_id) WHERE id = ?",
            (final, outcome, to_db(at), status, to_db(at), agent, new_cid, row[0]),
        )

    return op


def callbacks_answered(number: str, at: datetime, agent: str | None) -> Op:
    """The patient called in again and an agent answered: their open callback is done."""

    def op(conn: Any) -> None:
        conn.execute(
            "UPDATE callbacks SET status = 'done', outcome = 'called-in', completed_at = ?, handled_by = ?"
            " WHERE number = ? AND status = 'open'",
            (to_db(at), agent, number),
        )

    return op


def callback_status(
    callback_id: int, status: str, outcome: str, at: datetime, actor: str | None, new_call_id: str | None = None
) -> Op:
    def op(conn: Any) -> None:
        new_cid = calls.call_id(conn, new_call_id) if new_call_id else None
        conn.execute(
            "UPDATE callbacks SET status = ?, outcome = ?, last_attempt_at = ?, attempts = attempts + ?,"
            " completed_at = CASE WHEN ? IN ('done', 'cancelled') THEN ? ELSE completed_at END,"
            " handled_by = COALESCE(?, handled_by), callback_call_id = COALESCE(?, callback_call_id) WHERE id = ?",
            (
                status,
                outcome,
                to_db(at),
                1 if status == "dialing" else 0,
                status,
                to_db(at),
                actor,
                new_cid,
                callback_id,
            ),
        )

    return op


def path_json(path: list[str] | tuple[str, ...]) -> str:
    return json.dumps(list(path), ensure_ascii=False)
