"""Offering held slots (the service's worker runs :meth:`OfferEngine.scan`).

Each scan:

1. offers past their expiry become ``expired`` (that patient stays on the
   list; the slot goes to the next one);
2. a held slot that now starts too soon to reach anyone is closed
   ``unfilled`` (``too-soon``);
3. in the contact window, each held slot with fewer than ``waitlist.batch``
   open offers is offered to the next best-matching patients
   (:func:`appliance.waitlist.matching.ranked`). Each offer asks the contact
   policy first (opted out, not a mobile, the caps): a patient it refuses
   gets an offer row ``skipped`` with the reason, and a trace line, and the
   next patient is asked; a landline stays on the desk's list, never texted.
   A slot nobody is left to ask is closed ``unfilled``.

The offer row and its trace line are committed before the SMS is queued,
so a restart never offers a slot twice to one patient (one offer per entry
and slot, a unique constraint). Everything is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import Limits, Request, decide, line_type
from appliance.errors import ClinicBoxError
from appliance.events.notifiers import WaitlistNotifier
from appliance.privacy import mask_phone
from appliance.reminders.windows import Windows
from appliance.store import contacts
from appliance.store import waitlist as entries
from appliance.store import waitlist_offers as rows
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.reminders import phone_for
from appliance.waitlist import wording
from appliance.waitlist.matching import ranked, too_soon

log = logging.getLogger(__name__)
ACTOR = "waitlist"


class SmsSender(Protocol):
    def send_sms(
        self, number: str, text: str, reminder_attempt_id: int | None = None, patient_id: int | None = None
    ) -> int: ...


@dataclass(frozen=True)
class _Planned:
    offer_id: int
    trace_id: int
    number: str
    patient_id: int
    language: str


class OfferEngine:
    """See the module docstring."""

    def __init__(
        self, cfg: Config, clock: Clock, store: Store, sms: SmsSender | None, notify: WaitlistNotifier
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.sms = sms
        self.notify = notify
        self.audit = AuditLog(store)
        self.windows = Windows.from_config(cfg)

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg
        self.windows = Windows.from_config(cfg)

    def scan(self) -> int:
        """Expire, close and offer; returns how many offers were queued."""
        if not self.cfg.waitlist.enabled or self.store.locked:
            return 0
        now = self.clock.now()
        with self.store.transaction() as conn:
            for slot_id in rows.expire_offers(conn, now):
                self.audit.append(conn, ACTOR, "waitlist-offer-expired", "waitlist-slot", slot_id)
            held = rows.held_slots(conn)
        sent = 0
        for slot in held:
            sent += self._fill(slot.id, now)
        return sent

    def _fill(self, slot_id: int, now: datetime) -> int:
        cfg = self.cfg
        with self.store.transaction() as conn:
            slot = rows.slot(conn, slot_id)
            if slot.state != "held":
                return 0
            if too_soon(slot, now, timedelta(minutes=cfg.waitlist.min_notice_min)):
                rows.close_slot(conn, slot.id, "unfilled", "too-soon", now)
                self.audit.append(conn, ACTOR, "waitlist-unfilled", "waitlist-slot", slot.id, "too-soon")
                return 0
            if rows.booked_over(conn, slot):
                rows.close_slot(conn, slot.id, "released", "booked by the desk", now)
                self.audit.append(conn, ACTOR, "waitlist-released", "waitlist-slot", slot.id, "booked by the desk")
                return 0
            if not self.windows.is_open(now):
                return 0  # quiet hours: the slot stays held, offers go when the window opens
            offers = rows.offers_for_slot(conn, slot.id)
            open_now = sum(1 for o in offers if o.state == rows.OPEN)
            need = cfg.waitlist.batch - open_now
            if need <= 0:
                return 0
            skip = {o.entry_id for o in offers} | rows.entries_with_open_offers(conn)
            candidates = ranked(
                entries.waiting_entries(conn),
                slot,
                cfg.clinic.timezone,
                skip=skip,
                busy=lambda pid: rows.busy_at(conn, pid, slot.starts_at, slot.ends_at),
            )
            planned: list[_Planned] = []
            for entry in candidates:
                one = self._plan(conn, slot, entry, now)
                if one is not None:
                    planned.append(one)
                    if len(planned) >= need:
                        break
            if not planned and not open_now:
                waiting_elsewhere = any(
                    e.id in rows.entries_with_open_offers(conn) for e in entries.waiting_entries(conn)
                )
                if not waiting_elsewhere:
                    rows.close_slot(conn, slot.id, "unfilled", "nobody left to offer it to", now)
                    self.audit.append(conn, ACTOR, "waitlist-unfilled", "waitlist-slot", slot.id, "nobody left")
                return 0
        queued = sum(self._send(slot, p, now) for p in planned)
        if queued:
            self.notify.offered(slot_id=slot.id, offers=queued)
        return queued

    def _plan(self, conn: Connection, slot: rows.Slot, entry: entries.Entry, now: datetime) -> _Planned | None:
        """One patient: the policy's answer is committed as an offer row (offered or skipped)."""
        cfg = self.cfg
        phone = phone_for(conn, entry.patient_id, "sms")
        row = conn.execute("SELECT language FROM patients WHERE id = ?", (entry.patient_id,)).fetchone()
        language = wording.language_for(cfg, row[0] if row else None)
        if phone is None:
            rows.add_offer(conn, slot.id, entry, "", now, "skipped", reason="no-phone", language=language)
            self.audit.append(conn, ACTOR, "waitlist-offer-skipped", "waitlist", entry.id, "no-phone")
            return None
        number, kind = phone
        line = (
            line_type(number, cfg.clinic.country, ambiguous_is_mobile=cfg.contact.text_ambiguous_numbers)
            if kind == "mobile"
            else "landline"
        )
        decision = decide(
            Request(
                "waitlist",
                line,
                contacts.opted_out(conn, entry.patient_id, number),
                True,
                contacts.capped_sends(conn, entry.patient_id, number, contacts.week_ago(now)),
            ),
            Limits(cfg.contact.per_day, cfg.contact.per_week),
            now,
            cfg.clinic.timezone,
        )
        if not decision.send:
            rows.add_offer(conn, slot.id, entry, number, now, "skipped", reason=decision.reason, language=language)
            contacts.record(
                conn, now, "waitlist", number, "skipped", reason=decision.reason, patient_id=entry.patient_id,
                appointment_id=slot.freed_id, language=language,
            )  # fmt: skip
            self.audit.append(conn, ACTOR, "waitlist-offer-skipped", "waitlist", entry.id, decision.reason)
            log.info("no waitlist offer to %s: %s", mask_phone(number), decision.reason)
            return None
        expires = now + timedelta(minutes=cfg.waitlist.expiry_min)
        offer_id = rows.add_offer(conn, slot.id, entry, number, now, rows.OPEN, expires_at=expires, language=language)
        trace_id = contacts.record(
            conn, now, "waitlist", number, "queued", patient_id=entry.patient_id, appointment_id=slot.freed_id,
            language=language,
        )  # fmt: skip
        self.audit.append(conn, ACTOR, "waitlist-offered", "waitlist", entry.id, f"slot {slot.id} offer {offer_id}")
        return _Planned(offer_id, trace_id, number, entry.patient_id, language)

    def _send(self, slot: rows.Slot, planned: _Planned, now: datetime) -> int:
        """Hand the committed offer to the modem; a refusal fails the offer (the next scan asks the next patient)."""
        if self.sms is None:
            sms_id, state, reason = None, "failed", "no modem (modem.enabled = false)"
        else:
            try:
                text = wording.offer_text(self.cfg, planned.language, slot.starts_at)
                sms_id = self.sms.send_sms(planned.number, text, patient_id=planned.patient_id)
                state, reason = rows.OPEN, ""
            except ClinicBoxError as exc:
                sms_id, state, reason = None, "failed", str(exc)
        with self.store.transaction() as conn:
            rows.offer_sent(conn, planned.offer_id, sms_id, state, reason)
            contacts.update(conn, planned.trace_id, now, "queued" if sms_id else "failed", reason, sms_id=sms_id)
            if sms_id is None:
                self.audit.append(conn, ACTOR, "waitlist-offer-failed", "waitlist-slot", slot.id, reason)
        log.info("waitlist offer to %s: %s (%s)", mask_phone(planned.number), state, planned.language)
        return 1 if sms_id else 0
