"""The call log as write operations for the store writer.

Each function returns an operation ``op(conn)`` the :class:`StoreWriter`
runs later in a transaction; times are taken by the caller on the PJSUA2
thread, so the log is accurate even if the disk is slow. The rows are
written by their owners, :mod:`appliance.store.calls` and
:mod:`appliance.store.callbacks`; this module only defers the calls.

Any: 12, the SQLCipher connection (the sqlcipher3 binding has no types) and JSON column values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from appliance.store import callbacks, calls
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
        calls.first_answer(conn, call_id, agent, to_db(at))

    return op


def queue_event(call_id: str, at: datetime, queue: str, event: str, agent: str | None, data: dict[str, Any]) -> Op:
    def op(conn: Any) -> None:
        calls.add_queue_event(conn, call_id, to_db(at), queue, event, agent, dict(data))

    return op


def agent_event(at: datetime, agent: str, state: str, reason: str) -> Op:
    def op(conn: Any) -> None:
        calls.add_agent_event(conn, to_db(at), agent, state, reason)

    return op


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
    """One open callback per number (see :func:`appliance.store.callbacks.open_request`)."""

    def op(conn: Any) -> None:
        callbacks.open_request(conn, call_id, number, patient_id, queue, source, requested, place_at, waited_s)

    return op


def callback_result(
    request_call_id: str, status: str, outcome: str, at: datetime, agent: str | None, new_call_id: str | None
) -> Op:
    """Close the open callback that ``request_call_id`` created (status done/failed/cancelled)."""

    def op(conn: Any) -> None:
        callbacks.close_request(conn, request_call_id, status, outcome, at, agent, new_call_id)

    return op


def callbacks_answered(number: str, at: datetime, agent: str | None) -> Op:
    """The patient called in again and an agent answered: their open callback is done."""

    def op(conn: Any) -> None:
        callbacks.called_in(conn, number, at, agent)

    return op


def callback_status(
    callback_id: int, status: str, outcome: str, at: datetime, actor: str | None, new_call_id: str | None = None
) -> Op:
    def op(conn: Any) -> None:
        callbacks.set_status(conn, callback_id, status, outcome, at, actor, new_call_id)

    return op


def path_json(path: list[str] | tuple[str, ...]) -> str:
    return json.dumps(list(path), ensure_ascii=False)
