"""Voicemail and call-recording rows: every write to ``voicemail`` and ``recordings``.

The audio itself is an encrypted file (:mod:`appliance.store.media`); a row
names it and says who left it, when, and whether staff have handled it.
The switchboard adds rows from its store-writer thread once the file is
sealed; the web UI marks voicemail handled; retention and erasure remove
them (:mod:`appliance.store.retention`, :mod:`appliance.store.patients`).
"""

from __future__ import annotations

from datetime import datetime

from appliance.errors import NotFoundError
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db


def add_voicemail(
    conn: Connection,
    *,
    mailbox: str,
    call_id: int | None,
    caller: str,
    patient_id: int | None,
    received_at: datetime,
    duration_s: float,
    media_file: str,
    language: str | None,
) -> int:
    """A new message (status ``new``); returns its id."""
    cur = conn.execute(
        "INSERT INTO voicemail(mailbox, call_id, caller, patient_id, received_at, duration_s,"
        " media_file, language) VALUES (?,?,?,?,?,?,?,?)",
        (mailbox, call_id, caller, patient_id, to_db(received_at), round(duration_s, 1), media_file, language),
    )
    return int(cur.lastrowid or 0)


def add_recording(
    conn: Connection,
    *,
    call_id: int | None,
    patient_id: int | None,
    queue: str | None,
    agent: str | None,
    started_at: datetime,
    duration_s: float,
    media_file: str,
    expires_at: datetime,
) -> int:
    """A call recording, kept until ``expires_at`` (retention); returns its id."""
    cur = conn.execute(
        "INSERT INTO recordings(call_id, patient_id, queue, agent, started_at, duration_s, media_file,"
        " expires_at) VALUES (?,?,?,?,?,?,?,?)",
        (call_id, patient_id, queue, agent, to_db(started_at), round(duration_s, 1), media_file, to_db(expires_at)),
    )
    return int(cur.lastrowid or 0)


def mark_handled(store: Store, audit: AuditLog, voicemail_id: int, actor: str, handled: bool = True) -> None:
    """Staff handled a message (or put it back to ``new``); audited.

    Raises:
        NotFoundError: no such voicemail.
    """
    with store.transaction() as conn:
        row = conn.execute("SELECT status FROM voicemail WHERE id = ?", (voicemail_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no voicemail {voicemail_id}")
        if handled:
            conn.execute(
                "UPDATE voicemail SET status = 'handled', handled_by = ?, handled_at = ? WHERE id = ?",
                (actor, to_db(store.clock.now()), voicemail_id),
            )
        else:
            conn.execute(
                "UPDATE voicemail SET status = 'new', handled_by = NULL, handled_at = NULL WHERE id = ?",
                (voicemail_id,),
            )
        audit.append(conn, actor, "handled" if handled else "unhandled", "voicemail", voicemail_id)


def erase_caller(conn: Connection, number: str) -> None:
    """A patient's erasure: messages from their number keep no number."""
    conn.execute("UPDATE voicemail SET caller = 'erased' WHERE caller = ?", (number,))
