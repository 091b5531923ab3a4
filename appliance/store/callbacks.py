"""The callback list: every read and write of ``callbacks`` rows.

A row is opened when a caller abandons, is turned away busy, calls after
hours or asks to be called back, and moves through named transitions:

- :func:`open_request`: one open entry per number; a second request
  refreshes the first (keeps the earliest place in line);
- :func:`close_request`: the queue's own callback attempt ended
  (done/cancelled close it; a failed attempt leaves it open for staff);
- :func:`called_in`: the patient called again and an agent answered;
- :func:`set_status`: a console callback started dialling or ended;
- :func:`close_by_staff`: staff closed it with an outcome (audited);
- :func:`asked_by_sms`: a missed caller answered the text-back "yes".

The switchboard runs the transitions on its store-writer thread inside a
transaction (``conn``); the web UI reads the list through
:func:`open_list` (audited) and :func:`recently_closed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance.errors import NotFoundError, ValidationError
from appliance.store import calls
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

#: Sources the ACD holds a place in line for (its result finds the row by the request's call).
LIVE_REQUESTS = ("requested", "overflow")
#: Statuses of an entry still on the list.
OPEN = ("open", "dialing")
#: Outcomes staff may close an entry with.
STAFF_OUTCOMES = ("reached", "no-answer", "left-message", "wrong-number", "not-needed", "cancelled")


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


@dataclass(frozen=True)
class PendingRequest:
    """A live "call me back" request to put back in line after a restart."""

    id: int
    number: str
    queue: str
    place_at: str
    source: str
    call_uuid: str | None
    language: str | None


_COLS = (
    "c.id, c.number, c.patient_id, p.display_name, c.queue, c.source, c.requested_at, c.waited_seconds, c.status,"
    " c.attempts, c.last_attempt_at, c.completed_at, c.outcome, c.handled_by"
)


# -- transitions (inside the caller's write transaction) ------------------------------------------
def open_request(
    conn: Connection,
    call_uuid: str,
    number: str,
    patient_id: int | None,
    queue: str,
    source: str,
    requested: datetime,
    place_at: datetime,
    waited_s: float,
) -> None:
    """One open callback per number: a second request refreshes the first (keeps the earliest place)."""
    cid = calls.call_id(conn, call_uuid)
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


def asked_by_sms(
    conn: Connection, call_id: int, number: str, patient_id: int | None, queue: str, source: str, at: datetime
) -> int:
    """A missed caller replied "yes" to the text-back: their entry is on the list, keeping the
    missed call's time (a new one opens if staff had closed it); returns its id."""
    existing = conn.execute(
        "SELECT id FROM callbacks WHERE number = ? AND status IN ('open', 'dialing')", (number,)
    ).fetchone()
    if existing is not None:
        conn.execute("UPDATE callbacks SET sms_yes_at = ? WHERE id = ?", (to_db(at), existing[0]))
        return int(existing[0])
    row = conn.execute("SELECT started_at FROM calls WHERE id = ?", (call_id,)).fetchone()
    missed_at = str(row[0]) if row else to_db(at)
    cur = conn.execute(
        "INSERT INTO callbacks(number, patient_id, queue, source, call_id, requested_at, place_at, waited_seconds,"
        " sms_yes_at) VALUES (?,?,?,?,?,?,?,0,?)",
        (number, patient_id, queue, source, call_id, missed_at, missed_at, to_db(at)),
    )
    return int(cur.lastrowid)


def close_request(
    conn: Connection,
    request_uuid: str,
    status: str,
    outcome: str,
    at: datetime,
    agent: str | None,
    new_call_uuid: str | None,
) -> None:
    """Close the open callback that ``request_uuid`` created (status done/failed/cancelled)."""
    cid = calls.call_id(conn, request_uuid)
    new_cid = calls.call_id(conn, new_call_uuid) if new_call_uuid else None
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


def called_in(conn: Connection, number: str, at: datetime, agent: str | None) -> None:
    """The patient called in again and an agent answered: their open callback is done."""
    conn.execute(
        "UPDATE callbacks SET status = 'done', outcome = 'called-in', completed_at = ?, handled_by = ?"
        " WHERE number = ? AND status = 'open'",
        (to_db(at), agent, number),
    )


def set_status(
    conn: Connection,
    callback_id: int,
    status: str,
    outcome: str,
    at: datetime,
    actor: str | None,
    new_call_uuid: str | None = None,
) -> None:
    """A console callback: ``dialing`` counts an attempt; done/cancelled close the entry."""
    new_cid = calls.call_id(conn, new_call_uuid) if new_call_uuid else None
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


def staff_status(outcome: str) -> str:
    """The status an entry takes when staff close it with ``outcome``.

    Raises:
        ValidationError: not one of :data:`STAFF_OUTCOMES`.
    """
    if outcome not in STAFF_OUTCOMES:
        raise ValidationError(f"outcome must be one of {', '.join(STAFF_OUTCOMES)}")
    if outcome in ("not-needed", "cancelled", "wrong-number"):
        return "cancelled"
    return "done" if outcome in ("reached", "left-message") else "open"


def close_by_staff(store: Store, audit: AuditLog, callback_id: int, outcome: str, actor: str) -> str:
    """Staff handled a callback (reached, no answer, not needed...); returns its new status.

    Raises:
        ValidationError: an unknown outcome.
        NotFoundError: no such callback.
    """
    status = staff_status(outcome)
    now = to_db(store.clock.now())
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE callbacks SET status = ?, outcome = ?, handled_by = ?, completed_at = CASE WHEN ? != 'open'"
            " THEN ? ELSE completed_at END, attempts = attempts + 1, last_attempt_at = ? WHERE id = ?",
            (status, outcome, actor[:64], status, now, now, callback_id),
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no callback {callback_id}")
        audit.append(conn, actor[:64], "callback-close", "callback", callback_id, outcome)
    return status


def erase_number(conn: Connection, number: str) -> None:
    """A patient's erasure: their number leaves the list."""
    conn.execute("DELETE FROM callbacks WHERE number = ?", (number,))


# -- reads -------------------------------------------------------------------------------------------
def number_and_status(store: Store, callback_id: int) -> tuple[str, str]:
    """Raises:
    NotFoundError: no such callback."""
    row = store.query_one("SELECT number, status FROM callbacks WHERE id = ?", (callback_id,))
    if row is None:
        raise NotFoundError(f"no callback {callback_id}")
    return str(row[0]), str(row[1])


def open_list(store: Store, audit: AuditLog, actor: str, limit: int = 500) -> list[Callback]:
    """Open entries, oldest first (the order they should be called back); the view is audited."""
    rows = store.query(
        f"SELECT {_COLS} FROM callbacks c LEFT JOIN patients p ON p.id = c.patient_id"
        " WHERE c.status IN ('open', 'dialing') ORDER BY c.requested_at, c.id LIMIT ?",
        (limit,),
    )
    items = [Callback(*r) for r in rows]
    audit.record(actor, "view", "callbacks", "", f"{len(items)} open")
    return items


def recently_closed(store: Store, since: datetime, limit: int = 100) -> list[Callback]:
    rows = store.query(
        f"SELECT {_COLS} FROM callbacks c LEFT JOIN patients p ON p.id = c.patient_id"
        " WHERE c.status IN ('done', 'failed', 'cancelled') AND c.completed_at >= ?"
        " ORDER BY c.completed_at DESC LIMIT ?",
        (to_db(since), limit),
    )
    return [Callback(*r) for r in rows]


def count_open(store: Store) -> int:
    row = store.query_one("SELECT count(*) FROM callbacks WHERE status IN ('open', 'dialing')")
    return int(row[0]) if row else 0


def pending_requests(store: Store) -> list[PendingRequest]:
    """Live requests (``requested``/``overflow``) still open, by their place in line."""
    rows = store.query(
        "SELECT c.id, c.number, c.queue, c.place_at, c.source, k.uuid, k.language FROM callbacks c"
        " LEFT JOIN calls k ON k.id = c.call_id WHERE c.status IN ('open', 'dialing')"
        " AND c.source IN ('requested', 'overflow') ORDER BY c.place_at"
    )
    return [PendingRequest(*r) for r in rows]


def open_for_number(conn: Connection, number: str) -> list[dict[str, Any]]:
    """A caller's open entries, for the screen pop."""
    rows = conn.execute(
        "SELECT id, queue, source, requested_at, status FROM callbacks WHERE number = ? AND status IN ('open', 'dialing')",
        (number,),
    ).fetchall()
    return [{"id": r[0], "queue": r[1], "source": r[2], "requested_at": r[3], "status": r[4]} for r in rows]
