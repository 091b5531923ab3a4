"""Appointments: booking, status changes, schedule views.

Whoever changes an appointment (web UI, import, a patient pressing 2 on a
reminder call) goes through here, and the registered hooks run inside the
same transaction: the reminder planner re-plans or cancels that
appointment's pending reminders at once, whichever process made the change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.errors import NotFoundError, ValidationError
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import from_db, to_db

STATUSES = ("booked", "confirmed", "cancelled", "no-show", "attended")
#: Hook signature: (connection inside the transaction, appointment id, what happened).
AppointmentHook = Callable[[Connection, int, str], None]


@dataclass(frozen=True)
class Appointment:
    id: int
    external_id: str | None
    patient_id: int
    provider: str
    location: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    status: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts_at"] = to_db(self.starts_at)
        data["ends_at"] = to_db(self.ends_at)
        return data


@dataclass
class AppointmentInput:
    patient_id: int
    starts_at: datetime
    ends_at: datetime | None = None
    duration_min: int = 15
    provider: str = ""
    location: str = ""
    reason: str = ""
    external_id: str = ""
    source: str = "ui"

    def validated(self) -> AppointmentInput:
        problems = []
        if self.starts_at.tzinfo is None:
            problems.append("start: needs a time zone")
        end = self.ends_at or self.starts_at + timedelta(minutes=self.duration_min)
        if end <= self.starts_at:
            problems.append("end: must be after the start")
        elif end - self.starts_at > timedelta(hours=12):
            problems.append("end: an appointment cannot last more than 12 hours")
        for label, value, limit in (
            ("provider", self.provider, 100),
            ("location", self.location, 100),
            ("reason", self.reason, 500),
        ):
            if len(value) > limit:
                problems.append(f"{label}: longer than {limit} characters")
        if problems:
            raise ValidationError("; ".join(problems))
        return AppointmentInput(
            patient_id=self.patient_id,
            starts_at=self.starts_at,
            ends_at=end,
            provider=self.provider.strip(),
            location=self.location.strip(),
            reason=self.reason.strip(),
            external_id=self.external_id.strip(),
            source=self.source,
        )

    def import_key(self) -> str:
        if self.external_id:
            return f"ext:{self.external_id}"
        basis = f"{self.patient_id}|{to_db(self.starts_at)}|{self.provider.casefold()}"
        return "pt:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


_COLS = "id, external_id, patient_id, provider, location, reason, starts_at, ends_at, status, source"


def _row(row: Any) -> Appointment:
    return Appointment(
        id=row[0],
        external_id=row[1],
        patient_id=row[2],
        provider=row[3],
        location=row[4],
        reason=row[5],
        starts_at=from_db(row[6]),  # type: ignore[arg-type]
        ends_at=from_db(row[7]),  # type: ignore[arg-type]
        status=row[8],
        source=row[9],
    )


def load(conn: Connection, appointment_id: int) -> Appointment:
    row = conn.execute(f"SELECT {_COLS} FROM appointments WHERE id = ?", (appointment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no appointment with id {appointment_id}")
    return _row(row)


def upsert(conn: Connection, data: AppointmentInput, now: str) -> tuple[int, str]:
    """Insert or update by import key (inside the caller's transaction)."""
    key = data.import_key()
    assert data.ends_at is not None
    values = (
        data.external_id or None,
        data.patient_id,
        data.provider,
        data.location,
        data.reason,
        to_db(data.starts_at),
        to_db(data.ends_at),
    )
    existing = conn.execute(
        "SELECT id, external_id, patient_id, provider, location, reason, starts_at, ends_at"
        " FROM appointments WHERE import_key = ?",
        (key,),
    ).fetchone()
    if existing is None:
        cur = conn.execute(
            "INSERT INTO appointments(import_key, external_id, patient_id, provider, location, reason, starts_at,"
            " ends_at, source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (key, *values, data.source, now, now),
        )
        return int(cur.lastrowid or 0), "inserted"
    if tuple(existing[1:]) == values:
        return int(existing[0]), "unchanged"
    conn.execute(
        "UPDATE appointments SET external_id=?, patient_id=?, provider=?, location=?, reason=?, starts_at=?,"
        " ends_at=?, updated_at=? WHERE id=?",
        (*values, now, existing[0]),
    )
    return int(existing[0]), "updated"


class Appointments:
    def __init__(self, store: Store, audit: AuditLog, hooks: list[AppointmentHook] | None = None) -> None:
        self.store = store
        self.audit = audit
        self.hooks: list[AppointmentHook] = list(hooks or [])

    def _now(self) -> str:
        return to_db(self.store.clock.now())

    def run_hooks(self, conn: Connection, appointment_id: int, change: str) -> None:
        for hook in self.hooks:
            hook(conn, appointment_id, change)

    def create(self, data: AppointmentInput, actor: str) -> int:
        clean = data.validated()
        with self.store.transaction() as conn:
            if not conn.execute("SELECT 1 FROM patients WHERE id = ?", (clean.patient_id,)).fetchone():
                raise NotFoundError(f"no patient with id {clean.patient_id}")
            if conn.execute("SELECT 1 FROM appointments WHERE import_key = ?", (clean.import_key(),)).fetchone():
                raise ValidationError("this patient already has an appointment with this provider at that time")
            aid, _ = upsert(conn, clean, self._now())
            self.audit.append(conn, actor, "create", "appointment", aid)
            self.run_hooks(conn, aid, "created")
            return aid

    def reschedule(self, appointment_id: int, starts_at: datetime, ends_at: datetime, actor: str) -> None:
        if starts_at.tzinfo is None or ends_at <= starts_at:
            raise ValidationError("the new time needs a time zone and must end after it starts")
        with self.store.transaction() as conn:
            appt = load(conn, appointment_id)
            if appt.status == "cancelled":
                raise ValidationError("a cancelled appointment cannot be moved; book a new one")
            conn.execute(
                "UPDATE appointments SET starts_at=?, ends_at=?, status='booked', updated_at=? WHERE id=?",
                (to_db(starts_at), to_db(ends_at), self._now(), appointment_id),
            )
            self.audit.append(conn, actor, "reschedule", "appointment", appointment_id)
            self.run_hooks(conn, appointment_id, "rescheduled")

    def set_status(self, appointment_id: int, status: str, actor: str, conn: Connection | None = None) -> Appointment:
        """Change the status (confirm, cancel, no-show, attended); runs hooks."""
        if status not in STATUSES:
            raise ValidationError(f"status must be one of {', '.join(STATUSES)}")
        if conn is not None:
            return self._set_status(conn, appointment_id, status, actor)
        with self.store.transaction() as tx:
            return self._set_status(tx, appointment_id, status, actor)

    def _set_status(self, conn: Connection, appointment_id: int, status: str, actor: str) -> Appointment:
        appt = load(conn, appointment_id)
        if appt.status == status:
            return appt
        if status == "no-show" and appt.starts_at > self.store.clock.now() and not actor.startswith("feed:"):
            # The practice system's own S26 is its truth; on the box, nobody can miss a visit still to come.
            raise ValidationError("this visit has not started yet: it cannot be a no-show (nothing was changed)")
        now = self._now()
        conn.execute(
            "UPDATE appointments SET status=?, status_changed_at=?, status_changed_by=?, updated_at=? WHERE id=?",
            (status, now, actor, now, appointment_id),
        )
        self.audit.append(conn, actor, f"status:{status}", "appointment", appointment_id)
        self.run_hooks(conn, appointment_id, status)
        return load(conn, appointment_id)

    def get(self, appointment_id: int, actor: str) -> Appointment:
        with self.store.transaction() as conn:
            appt = load(conn, appointment_id)
            self.audit.append(conn, actor, "view", "appointment", appointment_id)
            return appt

    def between(self, start: datetime, end: datetime, actor: str) -> list[tuple[Appointment, str]]:
        """The schedule: appointments starting in [start, end) with the patient's name."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                f"SELECT {', '.join('a.' + c.strip() for c in _COLS.split(','))}, p.display_name"
                " FROM appointments a JOIN patients p ON p.id = a.patient_id"
                " WHERE a.starts_at >= ? AND a.starts_at < ? ORDER BY a.starts_at",
                (to_db(start), to_db(end)),
            ).fetchall()
            self.audit.append(conn, actor, "view", "schedule", "", f"{len(rows)} appointments")
        return [(_row(r[:10]), r[10]) for r in rows]

    def for_patient(self, conn: Connection, patient_id: int) -> list[Appointment]:
        """A patient's appointments, unaudited (the caller audits the patient view)."""
        return [
            _row(r)
            for r in conn.execute(
                f"SELECT {_COLS} FROM appointments WHERE patient_id = ? ORDER BY starts_at",
                (patient_id,),
            )
        ]


# -- appointments from a feed (appliance.feeds): found by the source's own IDs ------------------
def find_feed(conn: Connection, feed: str, placer_id: str, filler_id: str) -> Appointment | None:
    """The feed's appointment with this filler ID, else this placer ID (an S14 may bring the
    filler ID an S12 did not have)."""
    for column, value in (("filler_id", filler_id), ("placer_id", placer_id)):
        if value:
            row = conn.execute(
                f"SELECT {_COLS} FROM appointments WHERE feed = ? AND {column} = ? ORDER BY id LIMIT 1",
                (feed, value),
            ).fetchone()
            if row is not None:
                return _row(row)
    return None


def insert_feed(conn: Connection, feed: str, placer_id: str, filler_id: str, data: AppointmentInput, now: str) -> int:
    """A new appointment from a feed (``data`` validated; its source names the feed kind)."""
    assert data.ends_at is not None
    key = f"feed:{feed}:{filler_id or placer_id}"
    cur = conn.execute(
        "INSERT INTO appointments(import_key, external_id, patient_id, provider, location, reason, starts_at, ends_at,"
        " source, created_at, updated_at, feed, placer_id, filler_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            key,
            filler_id or placer_id,
            data.patient_id,
            data.provider,
            data.location,
            data.reason,
            to_db(data.starts_at),
            to_db(data.ends_at),
            data.source,
            now,
            now,
            feed,
            placer_id or None,
            filler_id or None,
        ),
    )
    return int(cur.lastrowid or 0)


def update_feed(
    conn: Connection, appt: Appointment, placer_id: str, filler_id: str, data: AppointmentInput, now: str
) -> str:
    """Bring a feed's appointment in line with its message.

    Returns:
        "unchanged", "updated" (provider, room, IDs) or "moved" (a new time:
        a confirmation of the old time no longer holds, so it is booked again).
    """
    assert data.ends_at is not None
    moved = data.starts_at != appt.starts_at or data.ends_at != appt.ends_at
    ids = conn.execute("SELECT placer_id, filler_id FROM appointments WHERE id = ?", (appt.id,)).fetchone()
    new_ids = (placer_id or ids[0], filler_id or ids[1])
    same = (data.provider, data.location, data.patient_id) == (appt.provider, appt.location, appt.patient_id)
    if not moved and same and tuple(ids) == new_ids:
        return "unchanged"
    conn.execute(
        "UPDATE appointments SET patient_id=?, provider=?, location=?, starts_at=?, ends_at=?, placer_id=?,"
        " filler_id=?, updated_at=?, status = CASE WHEN ? AND status = 'confirmed' THEN 'booked' ELSE status END"
        " WHERE id=?",
        (
            data.patient_id,
            data.provider,
            data.location,
            to_db(data.starts_at),
            to_db(data.ends_at),
            new_ids[0],
            new_ids[1],
            now,
            int(moved),
            appt.id,
        ),
    )
    return "moved" if moved else "updated"


@dataclass(frozen=True)
class ListedAppointment:
    """One row of ``clinicbox appointments list``: the appointment with its source's IDs."""

    appointment: Appointment
    patient_name: str
    feed: str
    placer_id: str
    filler_id: str


def listing(conn: Connection, start: datetime, end: datetime) -> list[ListedAppointment]:
    """Appointments starting in [start, end), every status, with the source's IDs (unaudited:
    the caller audits)."""
    cols = ", ".join("a." + c.strip() for c in _COLS.split(","))
    rows = conn.execute(
        f"SELECT {cols}, p.display_name, coalesce(a.feed, ''), coalesce(a.placer_id, ''), coalesce(a.filler_id, '')"
        " FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.starts_at >= ? AND a.starts_at < ?"
        " ORDER BY a.starts_at, a.id",
        (to_db(start), to_db(end)),
    ).fetchall()
    return [ListedAppointment(_row(r[:10]), str(r[10]), str(r[11]), str(r[12]), str(r[13])) for r in rows]


def feed_keys(conn: Connection, feed: str, uid: str, since: datetime) -> list[tuple[int, str, str]]:
    """(id, filler ID, status) of a calendar feed's appointments of event ``uid`` (its single
    appointment or its occurrences ``uid#...``) starting from ``since``."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in conn.execute(
            # The UID itself, or its occurrences "UID#...": a range ('#' < '$'), so the feed index serves both.
            "SELECT id, filler_id, status FROM appointments WHERE feed = ? AND filler_id = ? AND starts_at >= ?"
            " UNION ALL SELECT id, filler_id, status FROM appointments WHERE feed = ? AND filler_id >= ?"
            " AND filler_id < ? AND starts_at >= ?",
            (feed, uid, to_db(since), feed, uid + "#", uid + "$", to_db(since)),
        )
    ]


def feed_count(conn: Connection, feed: str, since: datetime) -> int:
    """How many of a feed's appointments start from ``since`` (an empty calendar is suspicious)."""
    row = conn.execute(
        "SELECT count(*) FROM appointments WHERE feed = ? AND starts_at >= ? AND status != 'cancelled'",
        (feed, to_db(since)),
    ).fetchone()
    return int(row[0])
