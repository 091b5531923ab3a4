"""The message trace and the consent record: every read and write of
``contact_log`` and ``consent_events`` (schema 0009).

The trace has one row per message the box meant to send a patient: a
reminder SMS, a missed-call text-back, an answer to STOP/START/HELP. Its
``outcome`` moves ``waiting`` (a text-back held for the contact window) →
``queued`` (in the modem's queue, ``sms_id`` set) → ``sent`` →
``delivered``, or ends ``skipped`` (``reason`` says why) or ``failed``.
The caps of :mod:`appliance.contact.policy` count the ``counted`` rows that
went out (:func:`capped_sends`).

Consent is an append-only list of opt-in/opt-out events per patient, or per
number for callers the box does not know: when, how and by whom. A patient's
current state stays ``patients.opted_out_at`` (the reminders read it); for
a number without a patient the latest event decides (:func:`opted_out`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.store.connection import Connection
from appliance.store.timefmt import from_db, to_db

#: Outcomes of a message that went (or is going) out.
OUT = ("queued", "sent", "delivered")
#: Modem statuses -> the trace's outcome.
#: No call lasts longer (the scan reads calls by their start, which is indexed).
_LONGEST_CALL = timedelta(hours=6)
_SMS_STATUS = {"sent": "sent", "unconfirmed": "sent", "delivered": "delivered", "failed": "failed"}


@dataclass(frozen=True)
class TraceRow:
    """One line of a message trace, as the web UI shows it."""

    id: int
    at: str
    kind: str
    outcome: str
    reason: str
    language: str | None
    sms_id: int | None


@dataclass(frozen=True)
class ConsentEvent:
    at: str
    action: str
    via: str
    actor: str
    detail: str


# -- the trace ------------------------------------------------------------------------------
def record(
    conn: Connection,
    at: datetime,
    kind: str,
    number: str,
    outcome: str,
    *,
    reason: str = "",
    patient_id: int | None = None,
    appointment_id: int | None = None,
    call_id: int | None = None,
    language: str | None = None,
    sms_id: int | None = None,
    counted: bool = True,
) -> int:
    """Add one line to the trace; returns its id."""
    cur = conn.execute(
        "INSERT INTO contact_log(at, kind, number, patient_id, appointment_id, call_id, outcome, reason, language,"
        " sms_id, counted, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            to_db(at),
            kind,
            number,
            patient_id,
            appointment_id,
            call_id,
            outcome,
            reason,
            language,
            sms_id,
            int(counted),
            to_db(at),
        ),
    )
    return int(cur.lastrowid)


def update(
    conn: Connection,
    row_id: int,
    at: datetime,
    outcome: str,
    reason: str = "",
    sms_id: int | None = None,
    *,
    number: str | None = None,
    language: str | None = None,
) -> None:
    conn.execute(
        "UPDATE contact_log SET outcome = ?, reason = ?, sms_id = COALESCE(?, sms_id), updated_at = ?,"
        " number = COALESCE(?, number), language = COALESCE(?, language),"
        " at = CASE WHEN ? IN ('queued', 'skipped') THEN ? ELSE at END WHERE id = ?",
        (outcome, reason, sms_id, to_db(at), number, language, outcome, to_db(at), row_id),
    )


def sms_status(conn: Connection, sms_id: int, status: str, at: datetime) -> int:
    """The modem's news about an SMS (sent, unconfirmed, delivered, failed) reaches its trace line."""
    outcome = _SMS_STATUS.get(status)
    if outcome is None:
        return 0
    detail = "the modem did not confirm it went out" if status == "unconfirmed" else ""
    cur = conn.execute(
        "UPDATE contact_log SET outcome = ?, reason = CASE WHEN ? = '' THEN reason ELSE ? END, updated_at = ?"
        " WHERE sms_id = ? AND outcome IN ('queued', 'sent')",
        (outcome, detail, detail, to_db(at), sms_id),
    )
    return int(cur.rowcount)


def withdrawn(conn: Connection, sms_id: int, why: str, at: datetime) -> None:
    """A queued SMS was taken back before any part went out: the patient got nothing, so it
    no longer counts towards the caps."""
    conn.execute(
        "UPDATE contact_log SET outcome = 'failed', reason = ?, updated_at = ? WHERE sms_id = ? AND outcome = 'queued'",
        (f"withdrawn: {why}", to_db(at), sms_id),
    )


def capped_sends(conn: Connection, patient_id: int | None, number: str, since: datetime) -> list[datetime]:
    """When counted messages went to this patient (or, without one, this number) since ``since``."""
    if patient_id is not None:
        rows = conn.execute(
            "SELECT at FROM contact_log WHERE patient_id = ? AND counted = 1 AND outcome IN ('queued','sent','delivered')"
            " AND at >= ?",
            (patient_id, to_db(since)),
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT at FROM contact_log WHERE number = ? AND counted = 1 AND outcome IN ('queued','sent','delivered')"
            " AND at >= ?",
            (number, to_db(since)),
        ).fetchall()
    return [t for t in (from_db(r[0]) for r in rows) if t is not None]


def for_call(conn: Connection, call_id: int) -> list[TraceRow]:
    return _trace(conn, "call_id = ?", call_id)


def for_appointment(conn: Connection, appointment_id: int) -> list[TraceRow]:
    return _trace(conn, "appointment_id = ?", appointment_id)


def for_calls(conn: Connection, call_ids: list[int]) -> dict[int, list[TraceRow]]:
    """The traces of many calls at once (the call log's page)."""
    out: dict[int, list[TraceRow]] = {}
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT call_id, id, at, kind, outcome, reason, language, sms_id FROM contact_log"
            f" WHERE call_id IN ({marks}) ORDER BY id",
            tuple(chunk),
        ).fetchall()
        for r in rows:
            out.setdefault(int(r[0]), []).append(
                TraceRow(int(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), r[6], r[7])
            )
    return out


def _trace(conn: Connection, where: str, value: int) -> list[TraceRow]:
    rows = conn.execute(
        f"SELECT id, at, kind, outcome, reason, language, sms_id FROM contact_log WHERE {where} ORDER BY id",
        (value,),
    ).fetchall()
    return [TraceRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), r[5], r[6]) for r in rows]


# -- text-backs -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MissedCall:
    """A missed call that has no text-back decision yet, or one still waiting for the window."""

    call_id: int
    caller: str
    patient_id: int | None
    language: str | None
    started_at: datetime
    ended_at: datetime
    source: str
    trace_id: int | None


def missed_calls(conn: Connection, since: datetime, sources: tuple[str, ...]) -> list[MissedCall]:
    """Inbound calls ended since ``since`` that the clinic missed (see :mod:`appliance.textback`):
    hung up waiting, busy, overflow or closed; no voicemail left; no "call me back" asked.
    Calls whose text-back still waits for the contact window come back whatever their age
    (the sender drops them as stale)."""
    rows = conn.execute(
        "SELECT k.id, k.caller, k.patient_id, k.language, k.started_at, k.ended_at, k.disposition,"
        " (SELECT cb.source FROM callbacks cb WHERE cb.call_id = k.id ORDER BY cb.id DESC LIMIT 1),"
        " (SELECT t.id FROM contact_log t WHERE t.call_id = k.id AND t.kind = 'textback'),"
        " (SELECT t.outcome FROM contact_log t WHERE t.call_id = k.id AND t.kind = 'textback')"
        " FROM calls k WHERE k.direction = 'inbound' AND k.purpose = 'patient'"
        " AND ((k.started_at >= ? AND k.ended_at >= ?) OR k.id IN"
        " (SELECT t.call_id FROM contact_log t WHERE t.kind = 'textback' AND t.outcome = 'waiting'))"
        " AND NOT EXISTS (SELECT 1 FROM voicemail v WHERE v.call_id = k.id)"
        " ORDER BY k.ended_at",
        (to_db(since - _LONGEST_CALL), to_db(since)),
    ).fetchall()
    out: list[MissedCall] = []
    for r in rows:
        disposition, callback_source, trace_id, trace_outcome = r[6], r[7], r[8], r[9]
        if trace_id is not None and trace_outcome != "waiting":
            continue
        if callback_source == "requested" or disposition in ("voicemail", "callback", "answered", "transferred"):
            continue
        source = callback_source if callback_source == "after-hours" else disposition
        if source not in sources:
            continue
        started, ended = from_db(r[4]), from_db(r[5])
        if started is None or ended is None:
            continue
        out.append(MissedCall(int(r[0]), str(r[1] or ""), r[2], r[3], started, ended, str(source), trace_id))
    return out


def last_textback(conn: Connection, number: str, since: datetime) -> datetime | None:
    """When this number last got a text-back (queued or later) since ``since``."""
    row = conn.execute(
        "SELECT max(at) FROM contact_log WHERE kind = 'textback' AND number = ? AND outcome IN ('queued','sent','delivered')"
        " AND at >= ?",
        (number, to_db(since)),
    ).fetchone()
    return from_db(row[0]) if row and row[0] else None


def textback_for_reply(conn: Connection, number: str, since: datetime) -> tuple[int, int] | None:
    """(trace id, call id) of the latest text-back that went to ``number`` since ``since``."""
    row = conn.execute(
        "SELECT id, call_id FROM contact_log WHERE kind = 'textback' AND number = ? AND outcome IN ('queued','sent','delivered')"
        " AND at >= ? AND call_id IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1",
        (number, to_db(since)),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


# -- consent --------------------------------------------------------------------------------
def consent(
    conn: Connection,
    at: datetime,
    action: str,
    via: str,
    actor: str,
    *,
    patient_id: int | None = None,
    number: str = "",
    detail: str = "",
) -> None:
    """Append one consent event (``opt-in`` or ``opt-out``)."""
    conn.execute(
        "INSERT INTO consent_events(at, patient_id, number, action, via, actor, detail) VALUES (?,?,?,?,?,?,?)",
        (to_db(at), patient_id, number, action, via, actor, detail),
    )


def opted_out(conn: Connection, patient_id: int | None, number: str) -> bool:
    """The patient (or, for a number without one, the number) said STOP and not START since."""
    if patient_id is not None:
        row = conn.execute("SELECT opted_out_at FROM patients WHERE id = ?", (patient_id,)).fetchone()
        if row is not None and row[0]:
            return True
    if not number:
        return False
    row = conn.execute(
        "SELECT action FROM consent_events WHERE number = ? ORDER BY at DESC, id DESC LIMIT 1", (number,)
    ).fetchone()
    return bool(row and row[0] == "opt-out")


def history(conn: Connection, patient_id: int) -> list[ConsentEvent]:
    """A patient's consent record, newest first (the patient card)."""
    rows = conn.execute(
        "SELECT at, action, via, actor, detail FROM consent_events WHERE patient_id = ? ORDER BY at DESC, id DESC",
        (patient_id,),
    ).fetchall()
    return [ConsentEvent(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


def week_ago(now: datetime) -> datetime:
    """How far back the caps look (8 days covers 7 local days in any time zone)."""
    return now - timedelta(days=8)
