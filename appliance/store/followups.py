"""The no-show follow-ups (``followups``, schema 0011): one row per visit marked as a no-show.

:func:`on_appointment_change` is an appointment hook (wired in by
:func:`appliance.store.repos.make_repos`, so every process that marks a
no-show plans it: the web UI, the HL7 feed's S26, the CLI). It writes the
row in the transaction that set the status, once per visit (the unique
appointment): marking twice, a replayed S26, or no-show -> booked ->
no-show leave one follow-up. A visit that has not started yet gets no
follow-up (``visit-not-over``). The row also opens the visit's message
trace line (``contact_log`` kind ``followup``), which then follows it.

The reminder dispatcher (:mod:`appliance.reminders.followup`) decides and
sends it; the patient's answer goes to the worklist
(:func:`appliance.store.worklist.add`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.store import contacts
from appliance.store.connection import Connection
from appliance.store.timefmt import from_db, to_db

#: The trace line's reason while a follow-up waits for its time (the visit's end + the delay).
PLANNED = "planned"


@dataclass(frozen=True)
class Due:
    """A planned follow-up with what the sender needs to decide it."""

    id: int
    appointment_id: int
    patient_id: int
    marked_at: datetime
    starts_at: datetime
    ends_at: datetime
    reason: str
    language: str
    reminder_channel: str
    trace_id: int | None


@dataclass(frozen=True)
class ReplyTarget:
    """The follow-up a reply from a number answers."""

    id: int
    appointment_id: int
    patient_id: int
    language: str


def on_appointment_change(conn: Connection, appointment_id: int, change: str) -> None:
    """The appointment hook: a visit just marked as a no-show gets its one follow-up planned."""
    if change != "no-show":
        return
    if conn.execute("SELECT 1 FROM followups WHERE appointment_id = ?", (appointment_id,)).fetchone():
        return
    row = conn.execute(
        "SELECT patient_id, starts_at, coalesce(status_changed_at, updated_at), coalesce(status_changed_by, '')"
        " FROM appointments WHERE id = ?",
        (appointment_id,),
    ).fetchone()
    if row is None:
        return
    patient_id, starts_at, marked_at, marked_by = int(row[0]), str(row[1]), str(row[2]), str(row[3])
    early = starts_at > marked_at  # both UTC ISO text: the visit had not started when it was marked
    at = from_db(marked_at)
    assert at is not None
    trace_id = contacts.record(
        conn, at, "followup", "", "skipped" if early else "waiting", reason="visit-not-over" if early else PLANNED,
        patient_id=patient_id, appointment_id=appointment_id,
    )  # fmt: skip
    conn.execute(
        "INSERT INTO followups(appointment_id, patient_id, marked_at, marked_by, state, detail, trace_id, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            appointment_id,
            patient_id,
            marked_at,
            marked_by,
            "skipped" if early else "planned",
            "visit-not-over" if early else "",
            trace_id,
            marked_at,
        ),
    )


def drop_planned(conn: Connection, at: datetime, reason: str) -> int:
    """Settle every planned follow-up as skipped (the demo's seeded past is history, not news)."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM followups WHERE state = 'planned'")]
    for followup_id in ids:
        settle(conn, followup_id, "skipped", reason, at)
        trace_id = trace_of(conn, followup_id)
        if trace_id is not None:
            contacts.update(conn, trace_id, at, "skipped", reason)
    return len(ids)


def planned(conn: Connection, limit: int = 50) -> list[Due]:
    """Follow-ups not decided yet, oldest mark first."""
    rows = conn.execute(
        "SELECT f.id, f.appointment_id, f.patient_id, f.marked_at, a.starts_at, a.ends_at, a.reason, p.language,"
        " p.reminder_channel, f.trace_id FROM followups f JOIN appointments a ON a.id = f.appointment_id"
        " JOIN patients p ON p.id = f.patient_id WHERE f.state = 'planned' ORDER BY f.marked_at, f.id LIMIT ?",
        (limit,),
    ).fetchall()
    out = []
    for r in rows:
        marked, starts, ends = from_db(r[3]), from_db(r[4]), from_db(r[5])
        assert marked is not None and starts is not None and ends is not None
        out.append(Due(int(r[0]), int(r[1]), int(r[2]), marked, starts, ends, str(r[6]), str(r[7]), str(r[8]), r[9]))
    return out


def any_planned(conn: Connection) -> bool:
    return conn.execute("SELECT 1 FROM followups WHERE state = 'planned' LIMIT 1").fetchone() is not None


def claim(conn: Connection, followup_id: int, channel: str, number: str, language: str, now: datetime) -> bool:
    """Planned -> ``sending`` (SMS) or ``dialing`` (call), committed before anything goes out."""
    cur = conn.execute(
        "UPDATE followups SET state = ?, channel = ?, number = ?, language = ?, updated_at = ?"
        " WHERE id = ? AND state = 'planned'",
        ("sending" if channel == "sms" else "dialing", channel, number, language, to_db(now), followup_id),
    )
    return cur.rowcount == 1


def settle(
    conn: Connection,
    followup_id: int,
    state: str,
    detail: str,
    now: datetime,
    *,
    sms_id: int | None = None,
    call_uuid: str | None = None,
) -> None:
    """The decision or the result: ``sent``, ``skipped`` or ``failed`` (``detail`` says why)."""
    conn.execute(
        "UPDATE followups SET state = ?, detail = ?, sms_id = coalesce(?, sms_id), call_uuid = coalesce(?, call_uuid),"
        " sent_at = CASE WHEN ? = 'sent' THEN coalesce(sent_at, ?) ELSE sent_at END, updated_at = ? WHERE id = ?",
        (state, detail, sms_id, call_uuid, state, to_db(now), to_db(now), followup_id),
    )


def placed(conn: Connection, followup_id: int, call_uuid: str) -> None:
    conn.execute("UPDATE followups SET call_uuid = ? WHERE id = ?", (call_uuid, followup_id))


def trace_of(conn: Connection, followup_id: int) -> int | None:
    row = conn.execute("SELECT trace_id FROM followups WHERE id = ?", (followup_id,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def open_attempts(conn: Connection) -> list[tuple[int, str, str, int, str]]:
    """(id, state, number, patient, updated_at) of follow-ups a previous run left sending or dialing."""
    return [
        (int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]))
        for r in conn.execute(
            "SELECT id, state, number, patient_id, updated_at FROM followups WHERE state IN ('sending', 'dialing')"
        )
    ]


def appointment_of(conn: Connection, followup_id: int) -> int | None:
    row = conn.execute("SELECT appointment_id FROM followups WHERE id = ?", (followup_id,)).fetchone()
    return int(row[0]) if row else None


def queued_sms(conn: Connection, number: str, patient_id: int, since: str) -> int | None:
    """The SMS the modem's queue took for a follow-up claimed at ``since`` (crash recovery)."""
    row = conn.execute(
        "SELECT id FROM sms_messages WHERE direction = 'out' AND number = ? AND patient_id = ? AND created_at >= ?"
        " ORDER BY id LIMIT 1",
        (number, patient_id, since),
    ).fetchone()
    return int(row[0]) if row else None


def for_reply(conn: Connection, number: str, since: datetime) -> ReplyTarget | None:
    """The latest follow-up SMS that went to ``number`` since ``since``."""
    row = conn.execute(
        "SELECT f.id, f.appointment_id, f.patient_id, coalesce(f.language, p.language) FROM followups f"
        " JOIN patients p ON p.id = f.patient_id WHERE f.number = ? AND f.channel = 'sms' AND f.state = 'sent'"
        " AND f.sent_at >= ? ORDER BY f.sent_at DESC, f.id DESC LIMIT 1",
        (number, to_db(since)),
    ).fetchone()
    return None if row is None else ReplyTarget(int(row[0]), int(row[1]), int(row[2]), str(row[3]))


def answered(conn: Connection, followup_id: int, at: datetime, answer: str) -> None:
    """The patient answered (the first answer's time stays; the latest answer is kept)."""
    conn.execute(
        "UPDATE followups SET answered_at = coalesce(answered_at, ?), answer = ?, updated_at = ? WHERE id = ?",
        (to_db(at), answer, to_db(at), followup_id),
    )


@dataclass(frozen=True)
class FollowupRow:
    appointment_id: int
    state: str
    channel: str | None
    detail: str
    answer: str


def for_appointment(conn: Connection, appointment_id: int) -> FollowupRow | None:
    row = conn.execute(
        "SELECT appointment_id, state, channel, detail, answer FROM followups WHERE appointment_id = ?",
        (appointment_id,),
    ).fetchone()
    return None if row is None else FollowupRow(int(row[0]), str(row[1]), row[2], str(row[3]), str(row[4]))
