"""Reminder rows and attempt rows: the only truth about reminders.

A ``reminders`` row is one (appointment, offset, channel); its attempts
are the history of calls and SMS made for it. The dispatcher keeps no
state that matters outside these rows: an attempt is inserted in state
``dialing``/``sending`` and committed *before* the call is placed or the
SMS queued, so after a crash the rows say exactly what may have happened.

Every function takes the caller's connection (and joins its transaction);
none writes patient data to logs or the audit detail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appliance.store.connection import Connection
from appliance.store.timefmt import from_db, to_db

#: Reminder statuses that are finished (a re-plan for the same visit time keeps them).
FINISHED = ("done", "cancelled", "expired", "failed")


@dataclass(frozen=True)
class Target:
    """What planning needs to know about an appointment and its patient."""

    appointment_id: int
    starts_at: datetime
    status: str
    patient_id: int
    reminder_channel: str
    consent: bool
    opted_out: bool
    has_phone: bool


@dataclass(frozen=True)
class Due:
    """A reminder that may be attempted now, with what the attempt needs."""

    reminder_id: int
    appointment_id: int
    channel: str
    attempts: int
    expires_at: datetime
    starts_at: datetime
    provider: str
    patient_id: int
    language: str
    reminder_channel: str
    consent: bool
    opted_out: bool
    offset_minutes: int = 0


@dataclass(frozen=True)
class OpenAttempt:
    attempt_id: int
    reminder_id: int
    channel: str
    state: str
    started_at: datetime
    call_uuid: str | None
    sms_id: int | None


_TARGET = (
    "SELECT a.id, a.starts_at, a.status, p.id, p.reminder_channel, p.consent_reminders, p.opted_out_at IS NOT NULL,"
    " EXISTS (SELECT 1 FROM patient_phones ph WHERE ph.patient_id = p.id)"
    " FROM appointments a JOIN patients p ON p.id = a.patient_id"
)


def _time(text: Any) -> datetime:
    """A stored time (never NULL in these columns); ``from_db``'s result, without strptime's cost."""
    return datetime.fromisoformat(str(text))


def _db(moment: datetime) -> str:
    """``to_db``'s format (UTC, milliseconds, Z), without strftime's cost: planning writes tens of thousands."""
    u = moment.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}."
        f"{u.microsecond // 1000:03d}Z"
    )


def _target(row: Any) -> Target:
    return Target(
        int(row[0]), _time(row[1]), str(row[2]), int(row[3]), str(row[4]), bool(row[5]), bool(row[6]), bool(row[7])
    )


def load_target(conn: Connection, appointment_id: int) -> Target | None:
    """The appointment and its patient; None when the appointment is gone."""
    row = conn.execute(f"{_TARGET} WHERE a.id = ?", (appointment_id,)).fetchone()
    return None if row is None else _target(row)


def existing_between(
    conn: Connection, start: datetime, end: datetime
) -> dict[int, dict[tuple[int, str], tuple[Any, ...]]]:
    """:func:`existing` for every visit starting in [start, end), in one query."""
    out: dict[int, dict[tuple[int, str], tuple[Any, ...]]] = {}
    for r in conn.execute(
        "SELECT r.appointment_id, r.id, r.offset_minutes, r.channel, r.status, r.due_at, r.expires_at, r.planned_for"
        " FROM reminders r JOIN appointments a ON a.id = r.appointment_id WHERE a.starts_at >= ? AND a.starts_at < ?",
        (_db(start), _db(end)),
    ):
        out.setdefault(int(r[0]), {})[(int(r[2]), str(r[3]))] = (int(r[1]), str(r[4]), str(r[5]), str(r[6]), str(r[7]))
    return out


def targets_between(conn: Connection, start: datetime, end: datetime) -> list[Target]:
    """Every appointment starting in [start, end) (the nightly planning run)."""
    rows = conn.execute(f"{_TARGET} WHERE a.starts_at >= ? AND a.starts_at < ?", (to_db(start), to_db(end)))
    return [_target(r) for r in rows]


def existing(conn: Connection, appointment_id: int) -> dict[tuple[int, str], tuple[Any, ...]]:
    """(offset_minutes, channel) -> (id, status, due_at, expires_at, planned_for) of a visit's reminders."""
    return {
        (int(r[1]), str(r[2])): (int(r[0]), str(r[3]), str(r[4]), str(r[5]), str(r[6]))
        for r in conn.execute(
            "SELECT id, offset_minutes, channel, status, due_at, expires_at, planned_for FROM reminders"
            " WHERE appointment_id = ?",
            (appointment_id,),
        )
    }


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    cancelled: int = 0
    #: New rows held back for one bulk insert (:func:`insert_held`), when the caller asks for it.
    held: list[tuple[Any, ...]] | None = None


_INSERT = (
    "INSERT INTO reminders(appointment_id, offset_minutes, channel, due_at, expires_at, next_attempt_at,"
    " planned_for, updated_at) VALUES (?,?,?,?,?,?,?,?)"
)


def insert_held(conn: Connection, result: SyncResult) -> None:
    """Write the rows :func:`sync` held back (the nightly run plans thousands of visits)."""
    if result.held:
        conn.executemany(_INSERT, result.held)
        result.held.clear()


def sync(
    conn: Connection,
    appointment_id: int,
    planned: Iterable[Any],
    planned_for: datetime | None,
    now: datetime,
    cancel_outcome: str,
    current: dict[tuple[int, str], tuple[Any, ...]] | None = None,
    result: SyncResult | None = None,
) -> SyncResult:
    """Make the rows of one visit match its plan.

    Pending rows follow the plan; rows not in the plan are cancelled with
    ``cancel_outcome``. A cancelled row in the plan again is revived. A row
    that went out (done, failed, expired) is revived only when it was
    planned for another visit time: the visit moved. A row whose attempt is
    in flight (``active``) is left alone: its result decides. ``current``:
    the visit's rows when the caller read them in bulk (:func:`existing`).
    """
    result = result if result is not None else SyncResult()
    stamp = _db(now)
    target_for = _db(planned_for) if planned_for is not None else ""
    rows = current if current is not None else existing(conn, appointment_id)
    wanted = set()
    for p in planned:
        key = (p.offset_minutes, p.channel)
        wanted.add(key)
        due, expires = _db(p.due_at), _db(p.expires_at)
        row = rows.get(key)
        if row is None:
            values = (appointment_id, p.offset_minutes, p.channel, due, expires, due, target_for, stamp)
            if result.held is not None:
                result.held.append(values)
            else:
                conn.execute(_INSERT, values)
            result.added += 1
            continue
        rid, status, old_due, old_expires, old_for = row
        if status == "active":
            continue
        if status == "pending":
            if (old_due, old_expires, old_for) != (due, expires, target_for):
                conn.execute(
                    "UPDATE reminders SET due_at = ?, expires_at = ?, next_attempt_at = max(?, next_attempt_at),"
                    " planned_for = ?, updated_at = ? WHERE id = ?",
                    (due, expires, due, target_for, stamp, rid),
                )
                result.updated += 1
            continue
        if old_for != target_for or status == "cancelled":
            conn.execute(
                "UPDATE reminders SET status = 'pending', attempts = CASE WHEN planned_for = ? THEN attempts ELSE 0 END,"
                " outcome = '', due_at = ?, expires_at = ?, next_attempt_at = ?, planned_for = ?, updated_at = ?"
                " WHERE id = ?",
                (target_for, due, expires, due, target_for, stamp, rid),
            )
            result.updated += 1
    for key, row in rows.items():
        if key not in wanted and row[1] == "pending":
            conn.execute(
                "UPDATE reminders SET status = 'cancelled', outcome = ?, updated_at = ? WHERE id = ?",
                (cancel_outcome, stamp, row[0]),
            )
            result.cancelled += 1
    return result


def cancel_pending(conn: Connection, appointment_id: int, outcome: str, now: datetime) -> int:
    cur = conn.execute(
        "UPDATE reminders SET status = 'cancelled', outcome = ?, updated_at = ? WHERE appointment_id = ?"
        " AND status = 'pending'",
        (outcome, to_db(now), appointment_id),
    )
    return int(cur.rowcount)


def cancel_pending_for_patient(conn: Connection, patient_id: int, outcome: str, now: datetime) -> int:
    cur = conn.execute(
        "UPDATE reminders SET status = 'cancelled', outcome = ?, updated_at = ? WHERE status = 'pending'"
        " AND appointment_id IN (SELECT id FROM appointments WHERE patient_id = ?)",
        (outcome, to_db(now), patient_id),
    )
    return int(cur.rowcount)


# -- dispatch ------------------------------------------------------------------------------
#: A voice reminder whose visit/offset also has an SMS reminder that is still to go out or went out.
_SMS_COVERS = (
    " AND NOT EXISTS (SELECT 1 FROM reminders s WHERE s.appointment_id = r.appointment_id"
    " AND s.offset_minutes = r.offset_minutes AND s.channel = 'sms' AND s.status IN ('pending', 'active', 'done'))"
)


def due(conn: Connection, now: datetime, channel: str, limit: int, *, skip_sms_covered: bool = False) -> list[Due]:
    """Pending reminders of ``channel`` whose next attempt is due, longest waiting first.

    In ``next_attempt_at`` order, which the ``reminders_due`` index gives
    without sorting: a morning with thousands due stays cheap per tick.
    ``skip_sms_covered``: leave out voice reminders whose visit and offset
    have their own SMS reminder (pending, in flight or sent): on the GSM
    route they wait for the trunk instead of taking the one voice line.
    """
    stamp = to_db(now)
    rows = conn.execute(
        "SELECT r.id, r.appointment_id, r.channel, r.attempts, r.expires_at, a.starts_at, a.provider, p.id,"
        " p.language, p.reminder_channel, p.consent_reminders, p.opted_out_at IS NOT NULL, r.offset_minutes"
        " FROM reminders r JOIN appointments a ON a.id = r.appointment_id JOIN patients p ON p.id = a.patient_id"
        " WHERE r.status = 'pending' AND r.next_attempt_at <= ? AND r.channel = ?"
        + (_SMS_COVERS if skip_sms_covered else "")
        + " ORDER BY r.next_attempt_at, r.id LIMIT ?",
        (stamp, channel, limit),
    ).fetchall()
    return [
        Due(
            int(r[0]),
            int(r[1]),
            str(r[2]),
            int(r[3]),
            _time(r[4]),
            _time(r[5]),
            str(r[6]),
            int(r[7]),
            str(r[8]),
            str(r[9]),
            bool(r[10]),
            bool(r[11]),
            int(r[12]),
        )
        for r in rows
    ]


def any_overdue(conn: Connection, now: datetime) -> bool:
    """Is a pending reminder past its window? (A read, so an idle tick commits nothing.)"""
    row = conn.execute(
        "SELECT 1 FROM reminders WHERE status = 'pending' AND expires_at <= ? LIMIT 1", (to_db(now),)
    ).fetchone()
    return row is not None


def expire_overdue(conn: Connection, now: datetime) -> list[int]:
    """Pending reminders whose window closed unattempted become ``expired``; their ids."""
    stamp = to_db(now)
    ids = [
        int(r[0])
        for r in conn.execute("SELECT id FROM reminders WHERE status = 'pending' AND expires_at <= ?", (stamp,))
    ]
    if ids:
        conn.execute(
            "UPDATE reminders SET status = 'expired', outcome = CASE WHEN outcome = '' THEN 'expired' ELSE outcome END,"
            " updated_at = ? WHERE status = 'pending' AND expires_at <= ?",
            (stamp, stamp),
        )
    return ids


def phone_for(conn: Connection, patient_id: int, channel: str) -> tuple[str, str] | None:
    """(number, kind) to use: SMS prefers a mobile number, calls the primary one."""
    order = "kind = 'mobile' DESC, is_primary DESC, id" if channel == "sms" else "is_primary DESC, id"
    row = conn.execute(
        f"SELECT e164, kind FROM patient_phones WHERE patient_id = ? ORDER BY {order} LIMIT 1", (patient_id,)
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def claim(
    conn: Connection,
    reminder_id: int,
    channel: str,
    route: str,
    now: datetime,
    detail: str = "",
    *,
    starts_at: datetime | None = None,
) -> int | None:
    """Start an attempt: the reminder becomes ``active``, the attempt ``dialing``/``sending``.

    ``starts_at`` is the visit's start the caller will announce: the claim
    re-reads the appointment in the same statement and fails if the visit
    moved (or the reminder was re-planned to later) since the caller read
    it, so no patient is told a time that changed a moment ago (a feed's
    S13, a web UI move).

    Returns the attempt id, or None when the reminder is no longer pending
    and due, or its visit moved (another process changed it). Commit before
    placing the call.
    """
    stamp = to_db(now)
    sql = (
        "UPDATE reminders SET status = 'active', attempts = attempts + 1, updated_at = ? WHERE id = ?"
        " AND status = 'pending' AND next_attempt_at <= ?"
    )
    params: tuple[object, ...] = (stamp, reminder_id, stamp)
    if starts_at is not None:
        sql += " AND (SELECT a.starts_at FROM appointments a WHERE a.id = reminders.appointment_id) = ?"
        params += (to_db(starts_at),)
    cur = conn.execute(sql, params)
    if cur.rowcount != 1:
        return None
    state = "sending" if channel == "sms" else "dialing"
    cur = conn.execute(
        "INSERT INTO reminder_attempts(reminder_id, channel, route, state, started_at, detail) VALUES (?,?,?,?,?,?)",
        (reminder_id, channel, route, state, stamp, detail),
    )
    return int(cur.lastrowid or 0)


def placed(conn: Connection, attempt_id: int, *, call_uuid: str | None = None, sms_id: int | None = None) -> None:
    """The call was placed / the SMS queued: the attempt is in progress."""
    conn.execute(
        "UPDATE reminder_attempts SET state = 'in-progress', call_uuid = coalesce(?, call_uuid),"
        " sms_id = coalesce(?, sms_id) WHERE id = ? AND state IN ('dialing', 'sending')",
        (call_uuid, sms_id, attempt_id),
    )


def finish_attempt(
    conn: Connection, attempt_id: int, outcome: str, detail: str, now: datetime, *, only_open: bool = True
) -> bool:
    """Record an attempt's outcome; False when it was already finished (a late duplicate)."""
    sql = (
        "UPDATE reminder_attempts SET state = 'finished', outcome = ?, ended_at = coalesce(ended_at, ?),"
        " detail = CASE WHEN ? = '' THEN detail ELSE ? END WHERE id = ?"
    )
    if only_open:
        sql += " AND state != 'finished'"
    cur = conn.execute(sql, (outcome, to_db(now), detail, detail, attempt_id))
    return cur.rowcount == 1


def set_reminder(
    conn: Connection,
    reminder_id: int,
    status: str,
    outcome: str,
    now: datetime,
    next_attempt_at: datetime | None = None,
    attempts_delta: int = 0,
) -> None:
    conn.execute(
        "UPDATE reminders SET status = ?, outcome = ?, updated_at = ?, attempts = max(0, attempts + ?),"
        " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
        (
            status,
            outcome,
            to_db(now),
            attempts_delta,
            to_db(next_attempt_at) if next_attempt_at is not None else None,
            reminder_id,
        ),
    )


def reminder_row(conn: Connection, reminder_id: int) -> tuple[Any, ...] | None:
    """(appointment_id, status, attempts, expires_at, planned_for, channel) of one reminder."""
    row = conn.execute(
        "SELECT appointment_id, status, attempts, expires_at, planned_for, channel FROM reminders WHERE id = ?",
        (reminder_id,),
    ).fetchone()
    return None if row is None else tuple(row)


def attempt_row(conn: Connection, attempt_id: int) -> tuple[Any, ...] | None:
    """(reminder_id, channel, state, outcome, sms_id, started_at) of one attempt."""
    row = conn.execute(
        "SELECT reminder_id, channel, state, outcome, sms_id, started_at FROM reminder_attempts WHERE id = ?",
        (attempt_id,),
    ).fetchone()
    return None if row is None else tuple(row)


def open_attempts(conn: Connection) -> list[OpenAttempt]:
    return [
        OpenAttempt(int(r[0]), int(r[1]), str(r[2]), str(r[3]), _time(r[4]), r[5], r[6])
        for r in conn.execute(
            "SELECT id, reminder_id, channel, state, started_at, call_uuid, sms_id FROM reminder_attempts"
            " WHERE state != 'finished' ORDER BY id"
        )
    ]


def sms_of_attempt(conn: Connection, attempt_id: int) -> tuple[int, str] | None:
    """(sms_id, status) of the SMS the modem queued for an attempt, if it did."""
    row = conn.execute(
        "SELECT id, status FROM sms_messages WHERE reminder_attempt_id = ? AND direction = 'out' ORDER BY id LIMIT 1",
        (attempt_id,),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def attempt_of_sms(conn: Connection, sms_id: int) -> int | None:
    row = conn.execute("SELECT reminder_attempt_id FROM sms_messages WHERE id = ?", (sms_id,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def attempt_for_reply(conn: Connection, number: str, now: datetime) -> tuple[int, int, int, datetime | None] | None:
    """The reminder SMS a reply from ``number`` answers: (attempt, reminder, appointment, visit time it named).

    The latest reminder SMS sent to that number for a visit that has not
    started yet.
    """
    row = conn.execute(
        "SELECT ra.id, r.id, r.appointment_id, r.planned_for FROM sms_messages s"
        " JOIN reminder_attempts ra ON ra.id = s.reminder_attempt_id"
        " JOIN reminders r ON r.id = ra.reminder_id JOIN appointments a ON a.id = r.appointment_id"
        " WHERE s.direction = 'out' AND s.number = ? AND a.starts_at > ?"
        " ORDER BY s.id DESC LIMIT 1",
        (number, to_db(now)),
    ).fetchone()
    if row is None:
        return None
    return int(row[0]), int(row[1]), int(row[2]), from_db(row[3]) if row[3] else None


def outstanding_sms(conn: Connection) -> int:
    """Reminder SMS handed to the modem and not sent yet."""
    row = conn.execute(
        "SELECT count(*) FROM reminder_attempts ra JOIN sms_messages s ON s.id = ra.sms_id"
        " WHERE ra.state = 'in-progress' AND ra.channel = 'sms' AND s.status IN ('queued', 'sending')"
    ).fetchone()
    return int(row[0])
