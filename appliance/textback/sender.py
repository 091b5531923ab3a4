"""Deciding and sending the missed-call text-backs (the service's worker runs :meth:`TextBacks.scan`).

Each scan reads the calls that ended in the last ``textback.stale_min``
minutes and that the clinic missed (:func:`appliance.store.contacts.missed_calls`),
and gives each one decision, written before anything is queued so a
restart or a second scan never texts a caller twice (one trace line per
call, a unique index). The decision:

- the contact policy first (:mod:`appliance.contact.policy`): opted out,
  not a mobile (landline, withheld, short code, emergency), the caps;
- at most one text-back per number in ``textback.period_h`` (``recent``);
- outside the contact window the line says ``waiting`` and the next scan
  inside the window sends it, unless it is older than ``stale_min``
  (``stale``).

The SMS goes to the modem's persistent queue; the trace line follows its
status (``sent``, ``delivered``, ``failed``). Everything is audited.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import Limits, Request, decide, line_type
from appliance.errors import ClinicBoxError
from appliance.privacy import mask_phone
from appliance.reminders.windows import Windows
from appliance.store import contacts
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.textback import wording

log = logging.getLogger(__name__)
ACTOR = "textback"


class SmsSender(Protocol):
    def send_sms(
        self, number: str, text: str, reminder_attempt_id: int | None = None, patient_id: int | None = None
    ) -> int: ...


class TextBacks:
    """See the module docstring."""

    def __init__(self, cfg: Config, clock: Clock, store: Store, sms: SmsSender | None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.sms = sms
        self.audit = AuditLog(store)
        self.windows = Windows.from_config(cfg)

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg
        self.windows = Windows.from_config(cfg)

    def scan(self) -> int:
        """Decide every missed call not decided yet; returns how many texts were queued."""
        if not self.cfg.textback.enabled or self.store.locked:
            return 0
        now = self.clock.now()
        stale = timedelta(minutes=self.cfg.textback.stale_min)
        found = contacts.missed_calls(self.store.connection(), now - stale, tuple(self.cfg.textback.sources))
        queued = 0
        for call in found:
            queued += self._one(call, now)
        return queued

    def _one(self, call: contacts.MissedCall, now: datetime) -> int:
        cfg = self.cfg
        line = line_type(call.caller, cfg.clinic.country, ambiguous_is_mobile=cfg.contact.text_ambiguous_numbers)
        window_open = self.windows.is_open(now)
        with self.store.transaction() as conn:
            row = conn.execute("SELECT language FROM patients WHERE id = ?", (call.patient_id,)).fetchone()
            language = wording.language_for(cfg, row[0] if row else None, call.language)
            decision = decide(
                Request(
                    "textback",
                    line,
                    contacts.opted_out(conn, call.patient_id, call.caller),
                    window_open,
                    contacts.capped_sends(conn, call.patient_id, call.caller, contacts.week_ago(now)),
                ),
                Limits(cfg.contact.per_day, cfg.contact.per_week),
                now,
                cfg.clinic.timezone,
            )
            reason = decision.reason
            if reason in ("", "quiet-hours", "cap-day", "cap-week") and line == "mobile":
                since = now - timedelta(hours=cfg.textback.period_h)
                if contacts.last_textback(conn, call.caller, since) is not None:
                    reason = "recent"
            if reason in ("", "quiet-hours") and now - call.ended_at > timedelta(minutes=cfg.textback.stale_min):
                reason = "stale"
            if reason == "quiet-hours":
                if call.trace_id is None:
                    contacts.record(
                        conn, now, "textback", call.caller, "waiting", reason=reason, patient_id=call.patient_id,
                        call_id=call.call_id, language=language,
                    )  # fmt: skip
                return 0
            if reason:
                self._write(conn, call, now, "skipped", reason, language)
                self.audit.append(conn, ACTOR, "textback-skipped", "call", call.call_id, reason)
                log.info("no text-back to %s: %s", mask_phone(call.caller), reason)
                return 0
            trace_id = self._write(conn, call, now, "queued", "", language)
        return self._send(call, trace_id, language, now)

    def _write(
        self, conn: Connection, call: contacts.MissedCall, now: datetime, outcome: str, reason: str, language: str
    ) -> int:
        if call.trace_id is not None:
            contacts.update(conn, call.trace_id, now, outcome, reason)
            return call.trace_id
        return contacts.record(
            conn, now, "textback", call.caller, outcome, reason=reason, patient_id=call.patient_id,
            call_id=call.call_id, language=language,
        )  # fmt: skip

    def _send(self, call: contacts.MissedCall, trace_id: int, language: str, now: datetime) -> int:
        """Hand the committed decision to the modem (never twice: the line says ``queued`` already)."""
        if self.sms is None:
            outcome, reason, sms_id = "failed", "no modem (modem.enabled = false)", None
        else:
            try:
                sms_id = self.sms.send_sms(call.caller, wording.text(self.cfg, language), patient_id=call.patient_id)
                outcome, reason = "queued", ""
            except ClinicBoxError as exc:
                outcome, reason, sms_id = "failed", str(exc), None
        with self.store.transaction() as conn:
            contacts.update(conn, trace_id, now, outcome, reason, sms_id=sms_id)
            self.audit.append(conn, ACTOR, f"textback-{outcome}", "call", call.call_id, f"{language} {reason}".strip())
        log.info("text-back to %s: %s (%s)", mask_phone(call.caller), outcome, language)
        return 1 if outcome == "queued" else 0
