"""Incoming SMS the reminders did not claim: STOP/START/HELP, and replies to a text-back.

Two ``on_incoming`` hooks of the modem, registered after the reminders'
(a reply to a reminder is theirs, STOP included):

- :class:`Keywords`: a message that is only STOP, START or HELP, in any of
  the six languages (:mod:`appliance.contact.keywords`), from any number.
  STOP opts the patient (or, for a caller the box does not know, the
  number) out of every message, cancels their pending reminders and is
  confirmed once; START opts back in and is confirmed; HELP is answered
  even after STOP. Each is a consent event (when, how, by whom) and a
  trace line, and never counts towards the caps.
- :class:`TextBackReplies`: a message from a number that got a text-back
  in the last ``textback.period_h`` hours. A clear yes (the reminders'
  reader, :func:`appliance.reminders.replies.read_reply`) puts a callback
  on the list keeping the missed call's time, and is claimed. Anything
  else stays on the Text messages screen with the reason
  ``textback-reply``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import HELP, START, STOP, answer, keyword
from appliance.errors import ClinicBoxError
from appliance.events import EventBus
from appliance.events.notifiers import CallbackNotifier
from appliance.privacy import mask_phone
from appliance.reminders.replies import CONFIRM, read_reply
from appliance.reminders.replies_lexicon import preload
from appliance.store import callbacks, contacts
from appliance.store import reminders as reminder_rows
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from appliance.store.patients import set_opted_out
from appliance.store.phones import display
from appliance.store.sms import set_reply_reason
from appliance.textback.sender import SmsSender

log = logging.getLogger(__name__)

REPLY_REASON = "textback-reply"  # one of appliance.reminders.replies.REASONS


class IncomingMessage(Protocol):
    sms_id: int
    number: str
    text: str
    patient_id: int | None


class Keywords:
    """``modem.on_incoming(Keywords(...))``: STOP, START and HELP (see the module docstring)."""

    def __init__(self, cfg: Config, clock: Clock, store: Store, sms: SmsSender | None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.sms = sms
        self.audit = AuditLog(store)

    def __call__(self, message: IncomingMessage) -> str | None:
        meaning = keyword(message.text)
        if meaning is None or self.store.locked:
            return None
        now = self.clock.now()
        pid = message.patient_id
        with self.store.transaction() as conn:
            was_out = contacts.opted_out(conn, pid, message.number)
            if meaning in (STOP, START):
                action = "opt-out" if meaning == STOP else "opt-in"
                contacts.consent(
                    conn, now, action, "sms", "patient", patient_id=pid, number=message.number,
                    detail=f"SMS {message.sms_id}",
                )  # fmt: skip
                if pid is not None:
                    set_opted_out(conn, pid, meaning == STOP, now)
                    if meaning == STOP:
                        reminder_rows.cancel_pending_for_patient(conn, pid, "opted-out", now)
                self.audit.append(
                    conn, "sms", action, "patient" if pid else "number", pid or "", f"SMS {message.sms_id}"
                )
            # STOP is confirmed once; START only when it changes something; HELP always.
            confirm = (meaning == STOP and not was_out) or (meaning == START and was_out) or meaning == HELP
            language = self._language(pid)
            trace_id = contacts.record(
                conn, now, f"{meaning}-confirm" if meaning != HELP else "help", message.number,
                "queued" if confirm and self.sms else "skipped", reason="" if confirm else "already",
                patient_id=pid, language=language, counted=False,
            )  # fmt: skip
        log.info("%s from %s", meaning.upper(), mask_phone(message.number))
        if confirm and self.sms is not None:
            phone = (
                display(self.cfg.clinic.phone_number, self.cfg.clinic.country) if self.cfg.clinic.phone_number else ""
            )
            self._send(message, trace_id, answer(meaning, language, self.cfg.clinic.name, phone))
        return "contact"

    def _language(self, pid: int | None) -> str:
        if pid is not None:
            row = self.store.connection().execute("SELECT language FROM patients WHERE id = ?", (pid,)).fetchone()
            if row and row[0] in self.cfg.clinic.languages:
                return str(row[0])
        return self.cfg.clinic.default_language

    def _send(self, message: IncomingMessage, trace_id: int, text: str) -> None:
        assert self.sms is not None
        now = self.clock.now()
        try:
            sms_id: int | None = self.sms.send_sms(message.number, text, patient_id=message.patient_id)
            outcome, reason = "queued", ""
        except ClinicBoxError as exc:
            sms_id, outcome, reason = None, "failed", str(exc)
        with self.store.transaction() as conn:
            contacts.update(conn, trace_id, now, outcome, reason, sms_id=sms_id)


class TextBackReplies:
    """``modem.on_incoming(TextBackReplies(...))``: yes to a text-back (see the module docstring)."""

    def __init__(self, cfg: Config, clock: Clock, store: Store, bus: EventBus) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.audit = AuditLog(store)
        self.notify = CallbackNotifier(bus.emit)

    def __call__(self, message: IncomingMessage) -> str | None:
        if self.store.locked:
            return None
        preload()
        now = self.clock.now()
        since = now - timedelta(hours=self.cfg.textback.period_h)
        with self.store.transaction() as conn:
            found = contacts.textback_for_reply(conn, message.number, since)
            if found is None:
                return None
            _, call_id = found
            row = conn.execute(
                "SELECT k.patient_id, k.uuid, p.language, k.disposition,"
                " (SELECT cb.source FROM callbacks cb WHERE cb.call_id = k.id ORDER BY cb.id DESC LIMIT 1)"
                " FROM calls k LEFT JOIN patients p ON p.id = k.patient_id WHERE k.id = ?",
                (call_id,),
            ).fetchone()
            if row is None:
                return None
            patient_id, uuid, language, _disposition, source = row
            reading = read_reply(message.text, language)
            if reading.meaning != CONFIRM:
                set_reply_reason(conn, message.sms_id, REPLY_REASON)
                log.info("reply to a text-back from %s left for the front desk", mask_phone(message.number))
                return None
            kind = source if source in ("abandoned", "busy", "after-hours") else "abandoned"
            queue = self._queue()
            callback_id = callbacks.asked_by_sms(conn, call_id, message.number, patient_id, queue, kind, now)
            contacts.record(
                conn, now, "textback-yes", message.number, "delivered", reason=f"callback {callback_id}",
                patient_id=patient_id, call_id=call_id, counted=False,
            )  # fmt: skip
            self.audit.append(
                conn, "textback", "callback-asked-by-sms", "callback", callback_id, f"SMS {message.sms_id}"
            )
        log.info("text-back reply from %s: call back (callback %d)", mask_phone(message.number), callback_id)
        self.notify.new(call_id=str(uuid), source="textback")
        return "textback"

    def _queue(self) -> str:
        return "front-desk" if "front-desk" in self.cfg.queues else next(iter(self.cfg.queues))
