"""Replies to reminder SMS: the modem's ``on_incoming`` hook.

A message from a number that was sent a reminder for a visit still to
come is a reply to it, read in the patient's language first
(:func:`~appliance.reminders.replies.read_reply`). A clear answer is
claimed: the attempt records it, the appointment is confirmed or
cancelled (audited; a cancellation frees the slot), STOP opts the patient
out of reminders, and the patient gets a short acknowledgement. Anything
else is left unclaimed, so it stays in the front desk's SMS inbox with
the reason (``sms_messages.reply_reason``: "question", "yes-and-no"...),
and the attempt is marked ``unclear-reply``. A yes or no to a reminder
already answered, or about a visit since cancelled or moved, is left for
the desk too ("already-answered", "visit-changed"): the patient may have
changed their mind, and the desk decides; STOP is honoured whatever came
before. Messages from other numbers are not replies ("no-reminder").

Runs on the modem's worker thread: one short transaction, no waiting.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.errors import ClinicBoxError
from appliance.privacy import mask_phone
from appliance.reminders import messages
from appliance.reminders.outcomes import OutcomeWriter
from appliance.reminders.replies import CANCEL, CONFIRM, STOP, WAITLIST, Reading, read_reply
from appliance.reminders.replies_lexicon import preload
from appliance.store import reminders as rows
from appliance.store.appointments import load as load_appointment
from appliance.store.connection import Connection, Store
from appliance.store.patients import Patients
from appliance.store.sms import set_reply_reason

log = logging.getLogger(__name__)

HANDLED_BY = "reminders"
_OUTCOME = {CONFIRM: "confirmed", CANCEL: "cancelled", STOP: "opted-out"}
#: Attempt outcomes that are already the patient's answer.
_ANSWERED = frozenset(_OUTCOME.values())


class IncomingMessage(Protocol):
    sms_id: int
    number: str
    text: str


class ReplyHandler:
    """``modem.on_incoming(ReplyHandler(...))``; returns who handled it, or None."""

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        store: Store,
        writer: OutcomeWriter,
        patients: Patients,
        sms: Any = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.writer = writer
        self.patients = patients
        self.sms = sms

    def __call__(self, message: IncomingMessage) -> str | None:
        if self.store.locked:
            return None
        preload()
        now = self.clock.now()
        with self.store.transaction() as conn:
            found = rows.attempt_for_reply(conn, message.number, now)
            if found is None:
                set_reply_reason(conn, message.sms_id, "no-reminder")
                return None
            attempt_id, _, appointment_id, announced = found
            appointment = load_appointment(conn, appointment_id)
            reading = read_reply(message.text, _language_of(conn, appointment.patient_id))
            reason = reading.reason or _stale(conn, attempt_id, appointment, announced, reading)
            if reading.meaning == WAITLIST:  # the waitlist did not take it (off, or no patient): the desk does
                reason = "waitlist-request"
            if reason is not None:
                set_reply_reason(conn, message.sms_id, reason)
                if reading.meaning is None and not _answered(conn, attempt_id):
                    self.writer.apply(
                        conn, attempt_id, "unclear-reply", f"SMS {message.sms_id} left for staff", now, reopen=True
                    )
                log.info("reply from %s left for the front desk: %s", mask_phone(message.number), reason)
                return None
            meaning = str(reading.meaning)
            outcome = _OUTCOME[meaning]
            self.writer.apply(
                conn, attempt_id, outcome, f"SMS reply {message.sms_id}", now, announced_start=announced, reopen=True
            )
            if meaning == STOP:
                self.patients.set_opt_out(
                    appointment.patient_id, True, HANDLED_BY, via="sms", detail=f"SMS {message.sms_id}"
                )
                rows.cancel_pending_for_patient(conn, appointment.patient_id, "opted-out", now)
        log.info("reply from %s: %s (%s)", mask_phone(message.number), outcome, reading.language)
        self._acknowledge(message, appointment, outcome)
        return HANDLED_BY

    def _acknowledge(self, message: IncomingMessage, appointment: Any, outcome: str) -> None:
        if self.sms is None:
            return
        kind = {"confirmed": "confirmed", "cancelled": "cancelled", "opted-out": "stopped"}[outcome]
        language = messages.language_of(self.cfg, self._language(appointment.patient_id))
        try:
            self.sms.send_sms(
                message.number,
                messages.sms_text(self.cfg, kind, appointment.starts_at, language),
                patient_id=appointment.patient_id,
            )
        except ClinicBoxError as exc:
            log.warning("the acknowledgement SMS could not be queued: %s", exc)

    def _language(self, patient_id: int) -> str:
        row = self.store.query_one("SELECT language FROM patients WHERE id = ?", (patient_id,))
        return str(row[0]) if row else self.cfg.clinic.default_language


def _language_of(conn: Connection, patient_id: int) -> str | None:
    row = conn.execute("SELECT language FROM patients WHERE id = ?", (patient_id,)).fetchone()
    return str(row[0]) if row and row[0] else None


def _stale(conn: Connection, attempt_id: int, appointment: Any, announced: Any, reading: Reading) -> str | None:
    """Why a clear yes or no must not be applied: the reminder was already answered, or
    the visit was cancelled or moved since. STOP is always honoured."""
    if reading.meaning == STOP:
        return None
    if _answered(conn, attempt_id):
        return "already-answered"
    if appointment.status not in ("booked", "confirmed") or (
        announced is not None and appointment.starts_at != announced
    ):
        return "visit-changed"
    return None


def _answered(conn: Connection, attempt_id: int) -> bool:
    """The attempt already holds the patient's answer (a later unclear text does not erase it)."""
    attempt = rows.attempt_row(conn, attempt_id)
    return attempt is not None and attempt[3] in _ANSWERED
