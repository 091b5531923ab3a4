"""The no-show follow-up: the dispatcher's third half, beside its calls and SMS.

A visit marked as a no-show has one ``followups`` row, planned in the
transaction that marked it (:mod:`appliance.store.followups`). Each
dispatcher tick that may send (clock trusted, not paused, a calling window
open: the quiet hours) takes the planned rows whose time came (the visit's
end + ``followup.delay_min``) and decides each one once:

1. ``followup.enabled`` off: they wait; one whose time (the visit's end +
   the delay) is more than ``followup.stale_h`` ago is dropped
   (``too-late``), so turning it on, or a no-show marked days later,
   never texts an old no-show;
2. the visit is no longer a no-show (rebooked, attended): ``visit-changed``;
3. the channel is the patient's reminder channel (``sms``/``both`` text,
   ``voice`` calls, ``none``: ``no-channel``); no number: ``no-phone``;
   a text to a number that is not a mobile becomes a call (``landline``);
4. the contact policy (:func:`appliance.contact.decide`, kind ``followup``):
   opted out, caps per day and week.

The decision is committed (``sending``/``dialing``) before the SMS is
queued or the call placed, so a restart never sends twice; a follow-up left
``dialing`` by a crash is not redialed, one left ``sending`` is settled
from the modem's queue. There is no retry: one follow-up per no-show.

The call is :class:`FollowUpScript` (the reminder call with its own
menu): 1 "call me to rebook", 2 "no new visit", 3 the front desk now. The
key pressed, like an SMS reply (:mod:`appliance.reminders.followup_replies`),
goes to the front desk's worklist; everything is audited and shows on the
visit's message trace.
"""

from __future__ import annotations

import functools
import logging
import queue
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import Clock
from appliance.config import Config
from appliance.contact import Limits, Request, decide, line_type
from appliance.errors import CapacityError, ClinicBoxError, SwitchboardError
from appliance.privacy import mask_phone
from appliance.reminders import followup_wording as wording
from appliance.reminders.dialogue import CANCELLED, CONFIRMED, DESK, ReminderScript
from appliance.reminders.messages import language_of
from appliance.reminders.outcomes import CallOutcome, call_outcome
from appliance.reminders.wording import machine_prompt
from appliance.store import contacts, worklist
from appliance.store import followups as rows
from appliance.store.appointments import load as load_appointment
from appliance.store.audit import AuditLog
from appliance.store.connection import Connection, Store
from appliance.store.reminders import phone_for
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)
ACTOR = "followup"
#: What a key on the follow-up call means, for the worklist.
KEYS = {
    CONFIRMED: ("rebook", "pressed 1 on the follow-up call: please call to book a new time"),
    CANCELLED: ("rebook", "pressed 2 on the follow-up call: does not want a new appointment"),
    DESK: ("rebook", "pressed 3 on the follow-up call: was put through to the front desk"),
}


class FollowUpScript(ReminderScript):
    """The follow-up call: the reminder call's dialogue with the follow-up's menu (1/2/3/9)."""

    MENU, ON_1, ON_2 = "followup_menu", "followup_rebook", "followup_declined"

    def _timer_id(self) -> str:
        # The switchboard keys timers by id: a follow-up's must never equal a reminder attempt's.
        self._seq += 1
        return f"rem:fu{self.attempt_id}:{self._seq}"


class FollowUps:
    """Decides and sends the planned follow-ups (the dispatcher's worker thread); call
    results and keys arrive from the switchboard's thread through :meth:`on_call_result`
    and :meth:`on_decision`, which only queue."""

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        store: Store,
        audit: AuditLog,
        dialer: Any,
        sms: Any,
        prompts: Any,
        wake: Callable[[], None],
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.audit = audit
        self.dialer = dialer
        self.sms = sms
        self.prompts = prompts
        self.wake = wake
        self.inflight: dict[int, FollowUpScript] = {}
        self._results: queue.SimpleQueue[tuple[str, int, Any]] = queue.SimpleQueue()
        self.sent = 0

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg

    # -- from any thread ------------------------------------------------------------------
    def on_call_result(self, followup_id: int, result: CallOutcome) -> None:
        self._results.put(("call", followup_id, result))
        self.wake()

    def on_decision(self, followup_id: int, outcome: str) -> None:
        self._results.put(("key", followup_id, outcome))
        self.wake()

    # -- the worker thread ----------------------------------------------------------------
    def process_results(self) -> None:
        while True:
            try:
                kind, followup_id, value = self._results.get_nowait()
            except queue.Empty:
                return
            try:
                if kind == "key":
                    self._key(followup_id, str(value))
                else:
                    self._call_result(followup_id, value)
            except ClinicBoxError as exc:
                log.error("recording a follow-up result failed: %s", exc)

    def dispatch(self, now: datetime, voice_budget: Callable[[], int]) -> int:
        """Decide every planned follow-up whose time came; returns how many went out."""
        if self.store.locked or not rows.any_planned(self.store.connection()):
            return 0
        gone = 0
        delay = timedelta(minutes=self.cfg.followup.delay_min)
        for due in rows.planned(self.store.connection()):
            if now - (due.ends_at + delay) > timedelta(hours=self.cfg.followup.stale_h):
                self._skip(due, "too-late", now)  # an old no-show (marked late, or while turned off)
                continue
            if not self.cfg.followup.enabled or now < due.ends_at + delay:
                continue
            gone += self._one(due, now, voice_budget)
        return gone

    def _one(self, due: rows.Due, now: datetime, voice_budget: Callable[[], int]) -> int:
        cfg = self.cfg
        conn = self.store.connection()
        if load_appointment(conn, due.appointment_id).status != "no-show":
            self._skip(due, "visit-changed", now)
            return 0
        channel = "voice" if due.reminder_channel == "voice" else "sms"
        phone = phone_for(conn, due.patient_id, channel)
        if phone is None or due.reminder_channel == "none":
            self._skip(due, "no-phone" if phone is None else "no-channel", now)
            return 0
        number = phone[0]
        line = line_type(number, cfg.clinic.country, ambiguous_is_mobile=cfg.contact.text_ambiguous_numbers)
        detail = "call" if channel == "voice" else ""
        if channel == "sms" and line != "mobile":
            channel, detail = "voice", "landline-call"  # never a text to a landline: it is called
        if channel == "voice" and (self.dialer is None or voice_budget() <= 0):
            if self.dialer is None:
                self._skip(due, "no-phone-line", now)
            return 0  # a line frees soon: the next tick tries again
        language = language_of(cfg, due.language)
        with self.store.transaction() as tx:
            reason = decide(
                Request(
                    "followup",
                    line if channel == "sms" else "mobile",  # calls may go to any line the patient gave
                    contacts.opted_out(tx, due.patient_id, number),
                    True,  # the dispatcher runs this only inside the calling windows
                    contacts.capped_sends(tx, due.patient_id, number, contacts.week_ago(now)),
                ),
                Limits(cfg.contact.per_day, cfg.contact.per_week),
                now,
                cfg.clinic.timezone,
            ).reason
            if reason:
                self._skip_in(tx, due, reason, now, number)
                log.info("no follow-up to %s: %s", mask_phone(number), reason)
                return 0
            if not rows.claim(tx, due.id, channel, number, language, now):
                return 0
            self._trace(tx, due.trace_id, now, "queued", detail, number=number, language=language)
        if channel == "sms":
            return self._text(due, number, language, now)
        return self._call(due, number, language, now, detail)

    def _text(self, due: rows.Due, number: str, language: str, now: datetime) -> int:
        if self.sms is None:
            self._finish(due.id, due.trace_id, "failed", "no modem (modem.enabled = false)", now)
            return 0
        text = wording.sms_text(self.cfg, language, due.starts_at, due.reason)
        try:
            sms_id = self.sms.send_sms(number, text, patient_id=due.patient_id)
        except ClinicBoxError as exc:
            self._finish(due.id, due.trace_id, "failed", str(exc), now)
            return 0
        with self.store.transaction() as conn:
            rows.settle(conn, due.id, "sent", "sms", now, sms_id=sms_id)
            if due.trace_id is not None:
                contacts.update(conn, due.trace_id, now, "queued", "", sms_id=sms_id)
            self.audit.append(conn, ACTOR, "followup-sent", "appointment", due.appointment_id, f"sms {language}")
        log.info("no-show follow-up SMS to %s queued (%s)", mask_phone(number), language)
        self.sent += 1
        return 1

    def _call(self, due: rows.Due, number: str, language: str, now: datetime, detail: str) -> int:
        assert self.dialer is not None
        when = wording.when_prompt(self.cfg, due.starts_at, language)
        if self.prompts is not None and not self.prompts.prepare([when, *wording.refs(self.cfg)], language):
            self._finish(due.id, due.trace_id, "failed", "the call's prompts could not be made", now)
            return 0
        r = self.cfg.reminders
        script = FollowUpScript(
            due.id,
            language,
            when=when,
            machine=machine_prompt(self.cfg),
            desk_queue=r.desk_queue,
            desk_priority=r.desk_priority,
            key_timeout_s=r.key_timeout_s,
            menu_plays=r.menu_plays,
            on_decision=functools.partial(self.on_decision, due.id),
        )
        self.inflight[due.id] = script
        followup_id = due.id
        try:
            call_id = self.dialer.place_call(
                number,
                script,
                lambda result: self.on_call_result(followup_id, result),
                purpose="reminder",
                language=language,
                patient_id=due.patient_id,
                ring_s=float(r.ring_s),
            )
        except (CapacityError, SwitchboardError) as exc:
            self.inflight.pop(due.id, None)
            self._finish(due.id, due.trace_id, "failed", f"the call could not be placed: {exc}", now)
            return 0
        script.call_id = call_id
        with self.store.transaction() as conn:
            rows.placed(conn, due.id, call_id)
            self.audit.append(
                conn, ACTOR, "followup-call", "appointment", due.appointment_id, f"{language} {detail}".strip()
            )
        log.info("no-show follow-up call to %s placed", mask_phone(number))
        self.sent += 1
        return 1

    def _call_result(self, followup_id: int, result: CallOutcome) -> None:
        script = self.inflight.pop(followup_id, None)
        outcome, detail = call_outcome(result, bool(script and script.heard_details))
        now = self.clock.now()
        reached = outcome in (CONFIRMED, CANCELLED, DESK, "voicemail") or (script is not None and script.heard_details)
        with self.store.transaction() as conn:
            trace_id = rows.trace_of(conn, followup_id)
            if reached:
                rows.settle(conn, followup_id, "sent", f"call: {outcome} ({detail})", now)
            else:
                rows.settle(conn, followup_id, "failed", f"call: {outcome} ({detail})", now)
            if trace_id is not None:
                contacts.update(
                    conn, trace_id, now, "delivered" if reached else "failed", "call" if reached else outcome
                )
        log.info("no-show follow-up call %d: %s", followup_id, outcome)

    def _key(self, followup_id: int, outcome: str) -> None:
        action, detail = KEYS.get(outcome, ("rebook", f"chose {outcome} on the follow-up call"))
        now = self.clock.now()
        with self.store.transaction() as conn:
            appointment_id = rows.appointment_of(conn, followup_id)
            if appointment_id is None:
                return
            rows.answered(conn, followup_id, now, detail)
            item = worklist.add(conn, to_db(now), appointment_id, action, detail)
            self.audit.append(conn, ACTOR, "followup-answer", "worklist", item, f"appointment {appointment_id}: key")

    # -- skips and recovery ---------------------------------------------------------------
    def _skip(self, due: rows.Due, reason: str, now: datetime) -> None:
        with self.store.transaction() as conn:
            self._skip_in(conn, due, reason, now, "")

    def _skip_in(self, conn: Connection, due: rows.Due, reason: str, now: datetime, number: str) -> None:
        rows.settle(conn, due.id, "skipped", reason, now)
        self._trace(conn, due.trace_id, now, "skipped", reason, number=number or None)
        self.audit.append(conn, ACTOR, "followup-skipped", "appointment", due.appointment_id, reason)

    def _finish(self, followup_id: int, trace_id: int | None, state: str, detail: str, now: datetime) -> None:
        with self.store.transaction() as conn:
            rows.settle(conn, followup_id, state, detail, now)
            self._trace(conn, trace_id, now, state, detail)
            self.audit.append(conn, ACTOR, f"followup-{state}", "followup", followup_id, detail)
        log.warning("no-show follow-up %d %s: %s", followup_id, state, detail)

    @staticmethod
    def _trace(
        conn: Connection,
        trace_id: int | None,
        now: datetime,
        outcome: str,
        reason: str,
        *,
        number: str | None = None,
        language: str | None = None,
    ) -> None:
        if trace_id is not None:
            contacts.update(conn, trace_id, now, outcome, reason, number=number, language=language)

    def recover(self, now: datetime) -> None:
        """At start: a follow-up left ``dialing`` may have rung (never redialed); one left
        ``sending`` is sent if the modem's queue has it, failed otherwise (one follow-up only)."""
        with self.store.transaction() as conn:
            for followup_id, state, number, patient_id, since in rows.open_attempts(conn):
                trace_id = rows.trace_of(conn, followup_id)
                found = rows.queued_sms(conn, number, patient_id, since) if state == "sending" else None
                if found is not None:
                    rows.settle(conn, followup_id, "sent", "sms", now, sms_id=found)
                    self._trace(conn, trace_id, now, "queued", "")
                    continue
                why = "the box restarted during the call" if state == "dialing" else "the box restarted first"
                rows.settle(conn, followup_id, "failed", why, now)
                self._trace(conn, trace_id, now, "failed", why)
