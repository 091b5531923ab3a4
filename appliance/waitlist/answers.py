"""Replies to waitlist offers, and "put me on the waitlist": a modem ``on_incoming`` hook.

Registered before the reminders' hook, it claims only:

- a reply from a number that was texted an offer in the last
  ``ANSWER_WINDOW_H`` hours (and no reminder since). Read as the reminders
  read replies (:func:`appliance.reminders.replies.read_reply`, the
  patient's language first): a clear yes books the slot if it is still held
  (:func:`appliance.store.waitlist.book`: one booking per slot, whatever
  the timing); a yes to a slot already taken is told so, and the patient
  stays on the list; a yes after the expiry is told it expired; the same
  yes twice books once; a no declines (the next patient is asked). Each
  gets a short answer in their language. Anything else stays on the Text
  messages screen (``waitlist-reply``);
- a "waitlist" reply ("WAITLIST", "lista de espera", "대기", "候补"...) to a
  reminder or a text-back, while ``waitlist.join_by_reply``: the patient
  joins the waitlist, "earliest possible" (with the reminded visit's
  provider). A caller the box does not know cannot join by SMS: the desk
  reads it (``waitlist-request``).

STOP, START and HELP are left to their hooks. Runs on the modem's worker
thread: one short transaction, then the answer SMS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import keyword
from appliance.errors import ClinicBoxError
from appliance.events.notifiers import WaitlistNotifier
from appliance.privacy import mask_phone
from appliance.reminders.replies import CANCEL, CONFIRM, WAITLIST, read_reply
from appliance.reminders.replies_lexicon import preload
from appliance.store import contacts
from appliance.store import reminders as reminder_rows
from appliance.store import waitlist as entries
from appliance.store import waitlist_offers as rows
from appliance.store.appointments import Appointments
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.sms import set_reply_reason
from appliance.waitlist import wording
from appliance.waitlist.engine import SmsSender

log = logging.getLogger(__name__)
HANDLED_BY = "waitlist"
#: A reply answers the latest offer texted to the number this many hours back at most.
ANSWER_WINDOW_H = 12


class IncomingMessage(Protocol):
    sms_id: int
    number: str
    text: str
    patient_id: int | None


class OfferReplies:
    """``modem.on_incoming(OfferReplies(...))`` (see the module docstring)."""

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        store: Store,
        appointments: Appointments,
        sms: SmsSender | None,
        notify: WaitlistNotifier,
        wake: Callable[[], None],
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.appointments = appointments
        self.sms = sms
        self.notify = notify
        self.wake = wake
        self.audit = AuditLog(store)

    def __call__(self, message: IncomingMessage) -> str | None:
        if self.store.locked or not self.cfg.waitlist.enabled or keyword(message.text) is not None:
            return None
        preload()
        now = self.clock.now()
        with self.store.transaction() as conn:
            offer = rows.latest_offer_to(conn, message.number, now - timedelta(hours=ANSWER_WINDOW_H))
            if (
                offer is not None
                and offer.sms_id is not None
                and rows.reminder_after(conn, message.number, offer.sms_id)
            ):
                offer = None  # a reminder went since: the reply is the reminder's
            language = wording.language_for(
                self.cfg, _language(conn, offer.patient_id if offer else message.patient_id)
            )
            reading = read_reply(message.text, language)
            if offer is None:
                if reading.meaning != WAITLIST or not self.cfg.waitlist.join_by_reply:
                    return None
                joined = self._join(conn, message, now)
                if joined is None:
                    return None
            elif reading.meaning == CONFIRM:
                outcome, appointment_id = rows.book(conn, offer.id, self.appointments, self.audit, HANDLED_BY, now)
            elif reading.meaning == CANCEL and offer.state == "accepted":
                set_reply_reason(conn, message.sms_id, "waitlist-reply")  # a no after being booked: the desk decides
                return None
            elif reading.meaning == CANCEL:
                declined = rows.answer(conn, offer.id, "declined", now)
                outcome, appointment_id = ("declined" if declined else "already"), None
            else:
                set_reply_reason(conn, message.sms_id, "waitlist-reply")
                log.info("reply to a waitlist offer from %s left for the front desk", mask_phone(message.number))
                return None
            if offer is not None:
                self.audit.append(
                    conn, "sms", f"waitlist-{outcome}", "waitlist-offer", offer.id, f"SMS {message.sms_id}"
                )
                starts_at = rows.slot(conn, offer.slot_id).starts_at
        if offer is None:
            assert joined is not None
            self._answer(message, joined, "joined", language, None)
            return HANDLED_BY
        log.info("waitlist reply from %s: %s", mask_phone(message.number), outcome)
        if outcome != "already":
            self._answer(message, offer.patient_id, outcome, language, starts_at)
        if appointment_id is not None:
            self.notify.answered(
                slot_id=offer.slot_id, offer_id=offer.id, outcome=outcome, appointment_id=appointment_id
            )
        else:
            self.notify.answered(slot_id=offer.slot_id, offer_id=offer.id, outcome=outcome)
        if outcome in ("declined", "expired", "taken"):
            self.wake()  # the next patient
        return HANDLED_BY

    def _join(self, conn: Connection, message: IncomingMessage, now: datetime) -> int | None:
        """A "waitlist" reply to a reminder or a text-back puts the patient on the list; the patient, or None."""
        found = reminder_rows.attempt_for_reply(conn, message.number, now)
        patient_id: int | None = None
        provider = ""
        if found is not None:
            row = conn.execute("SELECT patient_id, provider FROM appointments WHERE id = ?", (found[2],)).fetchone()
            patient_id, provider = int(row[0]), str(row[1])
        elif contacts.textback_for_reply(conn, message.number, now - timedelta(hours=self.cfg.textback.period_h)):
            patient_id = message.patient_id
        if patient_id is None:
            set_reply_reason(conn, message.sms_id, "waitlist-request")
            return None
        entry_id = entries.join_by_sms(conn, patient_id, provider, now)
        detail = f"SMS {message.sms_id}" + ("" if entry_id else " (on the list already)")
        self.audit.append(conn, "sms", "waitlist-join", "waitlist", entry_id or "", detail)
        log.info("%s joined the waitlist by SMS", mask_phone(message.number))
        return patient_id

    def _answer(
        self, message: IncomingMessage, patient_id: int, kind: str, language: str, starts_at: datetime | None
    ) -> None:
        """The short answer (an acknowledgement: not capped, see the contact policy), with its trace line."""
        if self.sms is None:
            return
        text = wording.answer_text(self.cfg, kind, language, starts_at)
        now = self.clock.now()
        try:
            sms_id: int | None = self.sms.send_sms(message.number, text, patient_id=patient_id)
            outcome, reason = "queued", ""
        except ClinicBoxError as exc:
            sms_id, outcome, reason = None, "failed", str(exc)
        with self.store.transaction() as conn:
            contacts.record(
                conn, now, "ack", message.number, outcome, reason=reason or f"waitlist {kind}", patient_id=patient_id,
                language=language, sms_id=sms_id, counted=False,
            )  # fmt: skip


def _language(conn: Connection, patient_id: int | None) -> str | None:
    if patient_id is None:
        return None
    row = conn.execute("SELECT language FROM patients WHERE id = ?", (patient_id,)).fetchone()
    return str(row[0]) if row and row[0] else None
