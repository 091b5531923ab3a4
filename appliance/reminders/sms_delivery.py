"""Reminder SMS: handing them to the modem, following their status, settling them after a restart.

The attempt is committed (``sending``) before the modem's queue gets the
text; the modem's queue row names the attempt, so after a crash a found
row means "queued, sent exactly once by the modem" and no row means "never
queued", and the reminder simply goes out again. Status events (``sent``,
``delivered``, ``failed``) finish the attempt; those missed while the core
was down are caught up from the modem's rows. At most
``sms_outstanding_per_min`` minutes of the modem's sending rate are queued
at once, so texts do not trail past the calling window. Without a modem
an SMS reminder fails at once, saying so.

A text still queued (no part sent) when its visit is cancelled or moved,
or its reminder's window ends, is never sent (the modem's queue skips it)
and is withdrawn here: the attempt fails, the reminder is cancelled (a
moved visit is re-planned for its new time) or expires. Outside the
calling windows queued texts are held until the next window opens.

Every reminder SMS passes the contact policy first
(:class:`~appliance.reminders.contact_gate.ContactGate`): a skipped one
fails its attempt saying why ("contact policy: cap-day") and leaves a line
in the visit's message trace, as a queued one does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.errors import ClinicBoxError, ValidationError
from appliance.reminders import messages
from appliance.reminders.contact_gate import ContactGate
from appliance.reminders.outcomes import ACTOR, OutcomeWriter
from appliance.reminders.windows import Windows
from appliance.store import contacts
from appliance.store import reminders as rows
from appliance.store import sms as sms_rows
from appliance.store.appointments import load as load_appointment
from appliance.store.connection import Connection, Store

log = logging.getLogger(__name__)

NOT_QUEUED_RETRY_S = 60.0
NO_MODEM = "no modem: SMS cannot be sent (modem.enabled = false)"
#: Why a queued text is withdrawn -> (the reminder's status, its outcome, the attempt's detail).
WITHDRAWN = {
    "cancelled": ("cancelled", "appointment-cancelled", "the appointment was cancelled"),
    "moved": ("cancelled", "appointment-moved", "the appointment was moved"),
    "expired": ("expired", "expired", "the reminder's window ended before it was sent"),
}


class SmsSender(Protocol):
    """The modem service as the reminders see it."""

    def send_sms(
        self, number: str, text: str, reminder_attempt_id: int | None = None, patient_id: int | None = None
    ) -> int: ...


class TextReminders:
    """The SMS half of the dispatcher (same worker thread)."""

    def __init__(self, cfg: Config, clock: Clock, store: Store, writer: OutcomeWriter, sms: SmsSender | None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.writer = writer
        self.sms = sms
        self.gate = ContactGate(cfg)

    def budget(self) -> int:
        """How many more reminder SMS may be handed to the modem now."""
        if self.sms is None:
            return 50  # each is failed at once, saying there is no modem
        limit = self.cfg.reminders.sms_outstanding_per_min * self.cfg.modem.sms_per_minute
        return max(0, limit - rows.outstanding_sms(self.store.connection()))

    def send(self, due: rows.Due, number: str, now: datetime, detail: str) -> bool:
        """Claim the reminder, then queue its SMS; True when the modem took it."""
        language = messages.language_of(self.cfg, due.language)
        with self.store.transaction() as conn:
            attempt_id = rows.claim(conn, due.reminder_id, "sms", "gsm", now, detail, starts_at=due.starts_at)
            skipped = self.gate.check(conn, due, number, now) if attempt_id is not None else ""
            if skipped:
                contacts.record(
                    conn, now, "reminder", number, "skipped", reason=skipped, patient_id=due.patient_id,
                    appointment_id=due.appointment_id, language=language,
                )  # fmt: skip
        if attempt_id is None:
            return False
        if skipped:
            self.failed(attempt_id, f"contact policy: {skipped}", now)
            return False
        if self.sms is None:
            self.failed(attempt_id, NO_MODEM, now)
            return False
        reason = ""
        if self.cfg.contact.include_reason:  # only then is the reason read at all
            reason = load_appointment(self.store.connection(), due.appointment_id).reason
        text = messages.sms_text(self.cfg, "reminder", due.starts_at, language, reason)
        try:
            sms_id = self.sms.send_sms(number, text, reminder_attempt_id=attempt_id, patient_id=due.patient_id)
        except ValidationError as exc:
            self.failed(attempt_id, str(exc), now)
            return False
        except ClinicBoxError as exc:
            with self.store.transaction() as conn:
                self.writer.not_placed(conn, attempt_id, str(exc), now, NOT_QUEUED_RETRY_S)
            return False
        with self.store.transaction() as conn:
            rows.placed(conn, attempt_id, sms_id=sms_id)
            contacts.record(
                conn, now, "reminder", number, "queued", patient_id=due.patient_id,
                appointment_id=due.appointment_id, language=language, sms_id=sms_id,
            )  # fmt: skip
        return True

    def failed(self, attempt_id: int, reason: str, now: datetime) -> None:
        """An SMS that can never go out: the attempt and its reminder fail, saying why."""
        with self.store.transaction() as conn:
            if self.writer.apply(conn, attempt_id, "failed", reason, now) is not None:
                attempt = rows.attempt_row(conn, attempt_id)
                if attempt is not None:
                    rows.set_reminder(conn, int(attempt[0]), "failed", "failed", now)
        log.warning("reminder SMS %d failed: %s", attempt_id, reason)

    def status(self, sms_id: int, status: str) -> None:
        """A ``modem.sms.status`` event: sent, unconfirmed, delivered or failed.

        ``unconfirmed`` counts as sent (the network may well have taken it,
        and the patient must not get it twice); the detail says so.
        """
        now = self.clock.now()
        with self.store.transaction() as conn:
            attempt_id = rows.attempt_of_sms(conn, sms_id)
            attempt = rows.attempt_row(conn, attempt_id) if attempt_id is not None else None
            if attempt_id is None or attempt is None or attempt[4] not in (None, sms_id):
                return  # not a reminder SMS (an acknowledgement, a test SMS)
            state, outcome = str(attempt[2]), str(attempt[3])
            if state != "finished" and attempt[4] is None:
                rows.placed(conn, attempt_id, sms_id=sms_id)
            later = state == "finished" and outcome == "sent"
            if status in ("sent", "unconfirmed") and state != "finished":
                detail = "the modem did not confirm it went out" if status == "unconfirmed" else ""
                self.writer.apply(conn, attempt_id, "sent", detail, now)
            elif status == "delivered" and (state != "finished" or later):
                self.writer.apply(conn, attempt_id, "delivered", "", now, reopen=later)
            elif status == "failed" and (state != "finished" or later):
                self.writer.apply(conn, attempt_id, "failed", "the modem could not send it", now, reopen=later)

    def reconcile(self) -> None:
        """Catch up on status events missed while the core was down."""
        conn = self.store.connection()
        for attempt in rows.open_attempts(conn):
            if attempt.channel != "sms":
                continue
            found = rows.sms_of_attempt(conn, attempt.attempt_id)
            if found is not None and found[1] in ("sent", "unconfirmed", "delivered", "failed"):
                self.status(found[0], found[1])

    def recover(self, conn: Connection, attempt_id: int, now: datetime) -> None:
        """An SMS attempt a previous run left open: queued (keep it) or never queued (send again)."""
        found = rows.sms_of_attempt(conn, attempt_id)
        if found is None:
            self.writer.not_placed(conn, attempt_id, "the box restarted first", now, 0)
        else:
            rows.placed(conn, attempt_id, sms_id=found[0])

    def withdraw_stale(self, now: datetime) -> int:
        """Withdraw queued texts whose visit was cancelled or moved or whose window is over."""
        if not sms_rows.stale_reminder_sms(self.store.connection(), now):
            return 0  # a read: an idle tick commits nothing
        count = 0
        with self.store.transaction() as conn:
            for sms_id, attempt_id, why in sms_rows.stale_reminder_sms(conn, now):
                if sms_rows.withdraw(conn, sms_id, WITHDRAWN[why][2]):
                    contacts.withdrawn(conn, sms_id, WITHDRAWN[why][2], now)
                    self._withdrawn(conn, attempt_id, why, now)
                    count += 1
        log.info("%d queued reminder SMS withdrawn", count)
        return count

    def hold_outside_windows(self, now: datetime, windows: Windows) -> int:
        """Calling windows closed: queued texts wait for the next window (or are withdrawn at their end)."""
        pending = sms_rows.queued_reminder_sms(self.store.connection())
        if not pending:
            return 0
        held = 0
        with self.store.transaction() as conn:
            for sms_id, attempt_id, expires, _ in pending:
                opens = windows.next_open(now, expires)
                if opens is None:
                    if sms_rows.withdraw(conn, sms_id, WITHDRAWN["expired"][2]):
                        contacts.withdrawn(conn, sms_id, WITHDRAWN["expired"][2], now)
                        self._withdrawn(conn, attempt_id, "expired", now)
                elif sms_rows.hold_until(conn, sms_id, opens):
                    held += 1
        return held

    def _withdrawn(self, conn: Connection, attempt_id: int, why: str, now: datetime) -> None:
        status, outcome, detail = WITHDRAWN[why]
        attempt = rows.attempt_row(conn, attempt_id)
        if attempt is None or not rows.finish_attempt(conn, attempt_id, "failed", f"withdrawn: {detail}", now):
            return
        reminder_id = int(attempt[0])
        reminder = rows.reminder_row(conn, reminder_id)
        if reminder is None:
            return
        if reminder[1] == "active":
            rows.set_reminder(conn, reminder_id, status, outcome, now)
        self.writer.audit.append(
            conn, ACTOR, "reminder-withdrawn", "reminder_attempt", attempt_id, f"reminder {reminder_id}: {why}"
        )
        if why == "moved":
            from appliance.reminders.replanning import ReminderPlanner

            ReminderPlanner(self.cfg, self.clock).replan(conn, int(reminder[0]), now)
