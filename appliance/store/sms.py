"""SMS through the GSM modem, both directions (table ``sms_messages``).

Outgoing messages are a persistent queue: ``queued`` → ``sending`` →
``sent`` → ``delivered`` (or ``failed``). ``modem_refs`` holds one entry
per part, ``null`` until the modem acknowledged that part, then
``{"ref": <+CMGS reference>, "status": "sent"|"delivered"|"pending"|"failed",
"at": <time>}``. A part's reference is written the moment the modem
answers, before anything else happens, so a retry after a crash or an
error re-sends only the parts the network never took: nobody gets the
same SMS twice.

A part handed to the modem whose answer never came is ``unconfirmed``
(``"ref": null``): the network may have taken it, so it is never sent
again by itself. A late ``+CMGS`` (:meth:`SmsRepo.confirm_late`) or a
delivery report to that number (:meth:`SmsRepo.find_unconfirmed`) gives
it its reference; a message whose parts all went out with one still
unconfirmed has the status ``unconfirmed``.

A queued reminder SMS is never sent once its visit was cancelled or moved
or its reminder's window is over (:func:`stale_reminder_sms`); the
reminders withdraw such rows (``failed``, "withdrawn: ...") and hold
queued ones back while the calling windows are closed (:func:`hold_until`).

Incoming messages are ``received`` or ``partial`` (a multipart message
whose missing parts never came); ``sent_at`` holds the network's time
stamp (when the patient sent it), which with number and text makes a
message re-read from the SIM after a crash recognisable.

Example:
    >>> repo = SmsRepo(store, clock)                        # doctest: +SKIP
    >>> sms_id = repo.enqueue("+48601234567", "Wizyta jutro 10:00", 1, "ucs2")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import Clock
from appliance.errors import NotFoundError
from appliance.store.connection import Connection, Store
from appliance.store.timefmt import to_db

OUT_OPEN = ("queued", "sending")
UNCONFIRMED = "unconfirmed"
UNCONFIRMED_NOTE = "the modem never confirmed a part (not sent again automatically)"


@dataclass(frozen=True)
class SmsRecord:
    id: int
    direction: str
    number: str
    patient_id: int | None
    body: str
    parts: int
    encoding: str | None
    status: str
    refs: list[dict[str, Any] | None]
    attempts: int
    next_attempt_at: str | None
    created_at: str
    sent_at: str | None
    delivered_at: str | None
    error: str
    reminder_attempt_id: int | None
    handled: bool
    handled_by: str | None

    @property
    def unsent_parts(self) -> list[int]:
        """0-based indexes of parts the modem has not acknowledged."""
        return [i for i in range(self.parts) if i >= len(self.refs) or self.refs[i] is None]


_COLS = (
    "id, direction, number, patient_id, body, parts, encoding, status, modem_refs, attempts, next_attempt_at,"
    " created_at, sent_at, delivered_at, error, reminder_attempt_id, handled, handled_by"
)


def _record(row: Any) -> SmsRecord:
    v = list(row)
    v[8] = json.loads(v[8] or "[]")
    v[16] = bool(v[16])
    return SmsRecord(*v)


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def same_number(a: str, b: str) -> bool:
    """Numbers from a status report may be national where we sent E.164."""
    da, db = _digits(a), _digits(b)
    if not da or not db:
        return False
    n = min(len(da), len(db), 9)
    return da[-n:] == db[-n:]


#: Why the queued reminder SMS ``m`` may no longer go out, or NULL. Two parameters: now, now.
#: Only ``queued`` rows (no part taken by the network): a half-sent text is finished.
_STALE_WHY = (
    "(SELECT CASE WHEN a.status = 'cancelled' THEN 'cancelled'"
    " WHEN r.planned_for != '' AND r.planned_for != a.starts_at THEN 'moved'"
    " WHEN r.expires_at <= ? OR a.starts_at <= ? THEN 'expired' END"
    " FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
    " JOIN appointments a ON a.id = r.appointment_id WHERE ra.id = m.reminder_attempt_id)"
)
_NOT_STALE = f" AND NOT (m.status = 'queued' AND m.reminder_attempt_id IS NOT NULL AND {_STALE_WHY} IS NOT NULL)"


def _oldest_unconfirmed(db: Connection, since: datetime) -> tuple[int, int] | None:
    """The part that went unconfirmed first, after ``since`` (the modem answers in order)."""
    best: tuple[str, int, int] | None = None
    rows = db.execute(
        "SELECT id, modem_refs FROM sms_messages WHERE direction = 'out' AND status IN ('sending', 'unconfirmed')"
    ).fetchall()
    for sms_id, refs_json in rows:
        for part, entry in enumerate(json.loads(refs_json or "[]")):
            if (
                entry
                and entry.get("status") == UNCONFIRMED
                and entry["at"] >= to_db(since)
                and (best is None or entry["at"] < best[0])
            ):
                best = (entry["at"], int(sms_id), part)
    return None if best is None else (best[1], best[2])


def set_reply_reason(conn: Connection, sms_id: int, reason: str) -> None:
    """Why the reminders left an incoming message for the front desk (a code of
    :data:`appliance.reminders.replies.REASONS`, shown translated on the Text messages screen)."""
    conn.execute("UPDATE sms_messages SET reply_reason = ? WHERE id = ? AND direction = 'in'", (reason, sms_id))


def stale_reminder_sms(conn: Connection, now: datetime) -> list[tuple[int, int, str]]:
    """Queued reminder SMS that must not go out any more: (sms id, attempt id, why).

    ``why`` is ``cancelled`` (the visit was cancelled), ``moved`` (the text
    names the old time) or ``expired`` (the reminder's window is over or the
    visit has begun). The modem never picks these up (:meth:`SmsRepo.due`);
    the reminders withdraw them with :func:`withdraw`.
    """
    stamp = to_db(now)
    rows = conn.execute(
        f"SELECT m.id, m.reminder_attempt_id, {_STALE_WHY} AS why FROM sms_messages m WHERE m.direction = 'out'"
        " AND m.status = 'queued' AND m.reminder_attempt_id IS NOT NULL AND why IS NOT NULL ORDER BY m.id",
        (stamp, stamp),
    ).fetchall()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def queued_reminder_sms(conn: Connection) -> list[tuple[int, int, datetime, str | None]]:
    """Reminder SMS no part of which went out yet: (sms id, attempt id, reminder window end, next attempt)."""
    rows = conn.execute(
        "SELECT m.id, m.reminder_attempt_id, r.expires_at, m.next_attempt_at FROM sms_messages m"
        " JOIN reminder_attempts ra ON ra.id = m.reminder_attempt_id JOIN reminders r ON r.id = ra.reminder_id"
        " WHERE m.direction = 'out' AND m.status = 'queued' ORDER BY m.id"
    ).fetchall()
    return [(int(r[0]), int(r[1]), datetime.fromisoformat(str(r[2])), r[3]) for r in rows]


def withdraw(conn: Connection, sms_id: int, why: str) -> bool:
    """Take a queued SMS back before any part went out; False when it already started."""
    cur = conn.execute(
        "UPDATE sms_messages SET status = 'failed', next_attempt_at = NULL, error = ? WHERE id = ?"
        " AND status = 'queued'",
        (f"withdrawn: {why}", sms_id),
    )
    return bool(cur.rowcount == 1)


def hold_until(conn: Connection, sms_id: int, until: datetime) -> bool:
    """Keep a queued SMS from going out before ``until`` (a calling window opens)."""
    stamp = to_db(until)
    cur = conn.execute(
        "UPDATE sms_messages SET next_attempt_at = ? WHERE id = ? AND status = 'queued'"
        " AND (next_attempt_at IS NULL OR next_attempt_at < ?)",
        (stamp, sms_id, stamp),
    )
    return bool(cur.rowcount == 1)


class SmsRepo:
    """Reads and writes ``sms_messages``; every write is one transaction."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _now(self) -> str:
        return to_db(self.clock.now())

    # -- outgoing -------------------------------------------------------------------------
    def enqueue(
        self,
        number: str,
        body: str,
        parts: int,
        encoding: str,
        *,
        reminder_attempt_id: int | None = None,
        patient_id: int | None = None,
    ) -> int:
        now = self._now()
        with self.store.transaction() as db:
            if patient_id is None and reminder_attempt_id is not None:
                row = db.execute(
                    "SELECT a.patient_id FROM reminder_attempts ra JOIN reminders r ON r.id = ra.reminder_id"
                    " JOIN appointments a ON a.id = r.appointment_id WHERE ra.id = ?",
                    (reminder_attempt_id,),
                ).fetchone()
                patient_id = row[0] if row else None
            cur = db.execute(
                "INSERT INTO sms_messages(direction, number, patient_id, body, parts, encoding, status, modem_refs,"
                " next_attempt_at, created_at, reminder_attempt_id) VALUES ('out', ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (number, patient_id, body, parts, encoding, json.dumps([None] * parts), now, now, reminder_attempt_id),
            )
            return int(cur.lastrowid or 0)

    def due(self, limit: int = 20) -> list[SmsRecord]:
        """Outgoing messages whose (next) attempt is due, oldest first.

        A queued reminder SMS whose visit was cancelled or moved, or whose
        reminder window is over, is never due (see :func:`stale_reminder_sms`).
        """
        now = self._now()
        rows = self.store.query(
            f"SELECT {_COLS} FROM sms_messages m WHERE direction = 'out' AND status IN ('queued', 'sending')"
            f" AND (next_attempt_at IS NULL OR next_attempt_at <= ?){_NOT_STALE} ORDER BY id LIMIT ?",
            (now, now, now, limit),
        )
        return [_record(r) for r in rows]

    def next_due_at(self) -> str | None:
        now = self._now()
        row = self.store.query_one(
            "SELECT min(next_attempt_at) FROM sms_messages m WHERE direction = 'out'"
            f" AND status IN ('queued', 'sending'){_NOT_STALE}",
            (now, now),
        )
        return row[0] if row else None

    def record_part(self, sms_id: int, part: int, ref: int) -> None:
        """The modem acknowledged part ``part`` (0-based) with reference ``ref``."""
        with self.store.transaction() as db:
            refs = self._refs(db, sms_id)
            while len(refs) <= part:
                refs.append(None)
            refs[part] = {"ref": ref, "status": "sent", "at": self._now()}
            db.execute(
                "UPDATE sms_messages SET modem_refs = ?, status = 'sending' WHERE id = ?", (json.dumps(refs), sms_id)
            )

    def mark_sent(self, sms_id: int) -> str:
        """Every part went to the modem: ``sent``, or ``unconfirmed`` if one never got its answer."""
        with self.store.transaction() as db:
            unsure = any(r and r.get("status") == UNCONFIRMED for r in self._refs(db, sms_id))
            db.execute(
                "UPDATE sms_messages SET status = ?, sent_at = ?, next_attempt_at = NULL,"
                " error = CASE WHEN ? THEN error ELSE '' END WHERE id = ? AND status IN ('queued', 'sending')",
                (UNCONFIRMED if unsure else "sent", self._now(), unsure, sms_id),
            )
            return UNCONFIRMED if unsure else "sent"

    def mark_unconfirmed(self, sms_id: int, part: int, error: str) -> None:
        """Part ``part`` went to the modem and no answer came: never send it again by itself."""
        with self.store.transaction() as db:
            refs = self._refs(db, sms_id)
            while len(refs) <= part:
                refs.append(None)
            refs[part] = {"ref": None, "status": UNCONFIRMED, "at": self._now()}
            db.execute(
                "UPDATE sms_messages SET modem_refs = ?, status = 'sending', error = ? WHERE id = ?",
                (json.dumps(refs), f"{UNCONFIRMED_NOTE}: {error}", sms_id),
            )

    def confirm_late(self, ref: int, within: timedelta) -> tuple[int, int, str] | None:
        """A ``+CMGS`` that came after its command timed out: it belongs to the
        oldest part still unconfirmed from the last ``within`` (the modem
        answers in order). Returns (sms id, part, message status)."""
        since = self.clock.now() - within
        with self.store.transaction() as db:
            found = _oldest_unconfirmed(db, since)
            if found is None:
                return None
            sms_id, part = found
            return sms_id, part, self._confirm(db, sms_id, part, ref)

    def find_unconfirmed(
        self, number: str, before: datetime, within: timedelta = timedelta(days=3)
    ) -> tuple[int, int] | None:
        """(sms id, part) of the one unconfirmed part sent to ``number`` and handed
        to the modem before ``before``; None if none or several."""
        since = to_db(self.clock.now() - within)
        rows = self.store.query(
            "SELECT id, number, modem_refs FROM sms_messages WHERE direction = 'out'"
            " AND status IN ('sending', 'unconfirmed') AND created_at >= ?",
            (since,),
        )
        hits = [
            (int(sms_id), part)
            for sms_id, to, refs_json in rows
            if same_number(to, number)
            for part, entry in enumerate(json.loads(refs_json or "[]"))
            if entry and entry.get("status") == UNCONFIRMED and entry["at"] <= to_db(before)
        ]
        return hits[0] if len(hits) == 1 else None

    def confirm(self, sms_id: int, part: int, ref: int) -> str:
        """Give an unconfirmed part the reference the network gave it; returns the message's status."""
        with self.store.transaction() as db:
            return self._confirm(db, sms_id, part, ref)

    def _confirm(self, db: Any, sms_id: int, part: int, ref: int) -> str:
        refs = self._refs(db, sms_id)
        refs[part] = {"ref": ref, "status": "sent", "at": refs[part]["at"] if refs[part] else self._now()}  # type: ignore[index]
        row = db.execute("SELECT status FROM sms_messages WHERE id = ?", (sms_id,)).fetchone()
        status = str(row[0])
        if status == UNCONFIRMED and not any(r is None or r.get("status") == UNCONFIRMED for r in refs):
            status = "sent"
        db.execute(
            "UPDATE sms_messages SET modem_refs = ?, status = ?,"
            " error = CASE WHEN error LIKE ? THEN '' ELSE error END WHERE id = ?",
            (json.dumps(refs), status, f"{UNCONFIRMED_NOTE}%", sms_id),
        )
        return status

    def defer(self, sms_id: int, until: datetime) -> None:
        """Not an error (rate limit, modem busy): try again at ``until``."""
        with self.store.transaction() as db:
            db.execute("UPDATE sms_messages SET next_attempt_at = ? WHERE id = ?", (to_db(until), sms_id))

    def schedule_retry(self, sms_id: int, attempts: int, until: datetime, error: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE sms_messages SET attempts = ?, next_attempt_at = ?, error = ? WHERE id = ?",
                (attempts, to_db(until), error, sms_id),
            )

    def mark_failed(self, sms_id: int, attempts: int, error: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE sms_messages SET status = 'failed', attempts = ?, next_attempt_at = NULL, error = ? WHERE id = ?",
                (attempts, error, sms_id),
            )

    def find_by_ref(
        self, ref: int, number: str, within: timedelta = timedelta(days=3), *, settled: bool = False
    ) -> tuple[int, int] | None:
        """(sms id, part) of the latest message sent to ``number`` whose part got ``ref``
        and still waits for its report (``settled``: whose report already came)."""
        wanted = ("delivered", "failed") if settled else ("sent", "pending")
        since = to_db(self.clock.now() - within)
        rows = self.store.query(
            "SELECT id, number, modem_refs FROM sms_messages WHERE direction = 'out'"
            " AND status IN ('sending', 'sent', 'unconfirmed', 'delivered', 'failed') AND created_at >= ? ORDER BY id DESC",
            (since,),
        )
        for sms_id, to, refs_json in rows:
            if not same_number(to, number):
                continue
            for part, entry in enumerate(json.loads(refs_json or "[]")):
                if entry is not None and entry.get("ref") == ref and entry.get("status") in wanted:
                    return int(sms_id), part
        return None

    def record_delivery(self, sms_id: int, part: int, outcome: str, detail: str = "") -> str:
        """Store a delivery report for one part; return the message's status after it."""
        now = self._now()
        with self.store.transaction() as db:
            refs = self._refs(db, sms_id)
            if part < len(refs) and refs[part] is not None:
                refs[part] = {**refs[part], "status": outcome, "at": now}  # type: ignore[dict-item]
            row = db.execute("SELECT status FROM sms_messages WHERE id = ?", (sms_id,)).fetchone()
            status = row[0]
            statuses = [r.get("status") if r else None for r in refs]
            if "failed" in statuses:
                status = "failed"
            elif statuses and all(s == "delivered" for s in statuses):
                status = "delivered"
            db.execute(
                "UPDATE sms_messages SET modem_refs = ?, status = ?,"
                " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END,"
                " error = CASE WHEN ? = 'failed' THEN ? ELSE error END WHERE id = ?",
                (json.dumps(refs), status, status, now, status, detail, sms_id),
            )
            return str(status)

    @staticmethod
    def _refs(db: Any, sms_id: int) -> list[dict[str, Any] | None]:
        row = db.execute("SELECT modem_refs FROM sms_messages WHERE id = ?", (sms_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no SMS with id {sms_id}")
        return list(json.loads(row[0] or "[]"))

    # -- incoming -------------------------------------------------------------------------
    def insert_incoming(
        self, number: str, body: str, parts: int, encoding: str, status: str, sent_at: datetime, patient_id: int | None
    ) -> tuple[int, bool]:
        """Store a received message; returns (id, created). A message already
        stored (same number, network time and text) is not stored twice."""
        stamp = to_db(sent_at)
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT id FROM sms_messages WHERE direction = 'in' AND number = ? AND sent_at = ? AND body = ?",
                (number, stamp, body),
            ).fetchone()
            if row is not None:
                return int(row[0]), False
            cur = db.execute(
                "INSERT INTO sms_messages(direction, number, patient_id, body, parts, encoding, status, created_at,"
                " sent_at) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, patient_id, body, parts, encoding, status, self._now(), stamp),
            )
            return int(cur.lastrowid or 0), True

    def update_incoming(self, sms_id: int, body: str, status: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE sms_messages SET body = ?, status = ? WHERE id = ? AND direction = 'in'", (body, status, sms_id)
            )

    def mark_handled(self, sms_id: int, by: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE sms_messages SET handled = 1, handled_by = ? WHERE id = ?", (by, sms_id))

    def patient_for_number(self, e164: str) -> int | None:
        """The patient owning this number, if exactly one does."""
        rows = self.store.query("SELECT DISTINCT patient_id FROM patient_phones WHERE e164 = ?", (e164,))
        return int(rows[0][0]) if len(rows) == 1 else None

    # -- reading --------------------------------------------------------------------------
    def get(self, sms_id: int) -> SmsRecord:
        row = self.store.query_one(f"SELECT {_COLS} FROM sms_messages WHERE id = ?", (sms_id,))
        if row is None:
            raise NotFoundError(f"no SMS with id {sms_id}")
        return _record(row)

    def recent(self, direction: str | None = None, status: str | None = None, limit: int = 100) -> list[SmsRecord]:
        """Newest first, optionally filtered."""
        where, params = [], []
        if direction:
            where.append("direction = ?")
            params.append(direction)
        if status:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_COLS} FROM sms_messages" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.store.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_record(r) for r in rows]

    def unhandled_incoming(self, limit: int = 100) -> list[SmsRecord]:
        """Messages for staff to read (no module claimed them)."""
        rows = self.store.query(
            f"SELECT {_COLS} FROM sms_messages WHERE direction = 'in' AND handled = 0 ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]
