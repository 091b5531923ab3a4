"""Replies to reminder SMS: the modem's ``on_incoming`` hook.

A message from a number that was sent a reminder for a visit still to
come is a reply to it. A clear answer (:func:`~appliance.reminders.replies.parse_reply`)
is claimed: the attempt records it, the appointment is confirmed or
cancelled (audited; a cancellation frees the slot), STOP opts the patient
out of reminders, and the patient gets a short acknowledgement. Anything
else is left unclaimed, so it stays in the front desk's SMS inbox, and
the attempt is marked ``unclear-reply``. Messages from other numbers are
not ours and are left alone.

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
from appliance.reminders.replies import CANCEL, CONFIRM, STOP, parse_reply
from appliance.store import reminders as rows
from appliance.store.appointments import load as load_appointment
from appliance.store.connection import Store
from appliance.store.patients import Patients

log = logging.getLogger(__name__)

HANDLED_BY = "reminders"
_OUTCOME = {CONFIRM: "confirmed", CANCEL: "cancelled", STOP: "opted-out"}


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
        now = self.clock.now()
        meaning = parse_reply(message.text)
        with self.store.transaction() as conn:
            found = rows.attempt_for_reply(conn, message.number, now)
            if found is None:
                return None
            attempt_id, _, appointment_id, announced = found
            if meaning is None:
                self.writer.apply(
                    conn, attempt_id, "unclear-reply", f"SMS {message.sms_id} left for staff", now, reopen=True
                )
                log.info("unclear reply from %s: left for the front desk", mask_phone(message.number))
                return None
            outcome = _OUTCOME[meaning]
            self.writer.apply(
                conn, attempt_id, outcome, f"SMS reply {message.sms_id}", now, announced_start=announced, reopen=True
            )
            appointment = load_appointment(conn, appointment_id)
            if meaning == STOP:
                self.patients.set_opt_out(appointment.patient_id, True, HANDLED_BY)
                rows.cancel_pending_for_patient(conn, appointment.patient_id, "opted-out", now)
        log.info("reply from %s: %s", mask_phone(message.number), outcome)
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
