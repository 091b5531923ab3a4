"""The dispatcher: turns due reminder rows into calls and SMS, and results into rows.

Each :meth:`Dispatcher.tick` (the service's worker thread, woken by
APScheduler and by every result) first records the results that came in,
then, if nothing blocks dispatching (clock, pause, store, windows), claims
due reminders and places them:

1. The attempt row is inserted (``dialing``/``sending``) and **committed**.
2. Only then is the call placed (``place_call``) or the SMS queued.
3. The call's id / the SMS id is written to the attempt (``in-progress``).

So a crash between 1 and 3 leaves an attempt that *may* have rung: at the
next start :meth:`recover` marks it ``interrupted``; it is never redialed
at once, but (since the crash may have come before the dial) it counts as
an attempt and the reminder is retried after the back-off, like an
unanswered call, while attempts remain inside its window. SMS are recovered exactly, because the modem's queue row
names the attempt: found means queued, absent means never sent (see
:mod:`appliance.reminders.sms_delivery`, the SMS half).

Line budget (voice): at most ``reminders.max_calls`` at once, never into
the last ``reserve_lines`` lines, none while callers wait in a queue; on
the GSM route one call at a time. There, with ``gsm_prefer_sms``, SMS is
preferred for patients who accept it: a patient with an SMS reminder of
their own for the visit and offset ("both") gets that one text only, the
voice reminder waiting for the trunk; a patient who accepts SMS but has
none for it is texted instead on a mobile number; voice-only patients are
never texted and wait for the GSM voice line or the trunk. SMS: no more
handed to the modem than it sends in ``sms_outstanding_per_min`` minutes,
so texts do not trail past the window.
"""

from __future__ import annotations

import functools
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.errors import CapacityError, ClinicBoxError, StoreLockedError, SwitchboardError
from appliance.ivr.prompts import PromptRef
from appliance.privacy import mask_phone
from appliance.reminders import messages
from appliance.reminders.contact_gate import ContactGate
from appliance.reminders.dialogue import ReminderScript
from appliance.reminders.followup import FollowUps
from appliance.reminders.outcomes import CallOutcome, OutcomeWriter, call_outcome
from appliance.reminders.rules import channels_for
from appliance.reminders.sms_delivery import SmsSender, TextReminders
from appliance.reminders.wording import machine_prompt
from appliance.store import calls
from appliance.store import reminders as rows
from appliance.store.connection import Store

log = logging.getLogger(__name__)

NOT_PLACED_RETRY_S = 60.0
#: Patients' reminder channels that accept SMS (voice-only patients are never texted).
SMS_ACCEPTED = frozenset({"sms", "both"})
RECONCILE_EVERY_S = 60.0


class Dialer(Protocol):
    """The switchboard (or the fake one) as the dispatcher sees it."""

    def place_call(self, number: str, script: Any, on_result: Callable[[Any], None], **kw: Any) -> str: ...

    def lines(self) -> dict[str, int]: ...

    def route(self) -> str: ...


class Prompts(Protocol):
    def prepare(self, refs: list[PromptRef], language: str) -> bool: ...


@dataclass
class InFlight:
    attempt_id: int
    reminder_id: int
    channel: str
    route: str
    started: float
    script: ReminderScript | None = None
    announced_start: datetime | None = None


class Dispatcher:
    """See the module docstring. Not thread-safe: one worker thread drives it;
    :meth:`on_call_result` and :meth:`on_sms_status` may be called from any thread."""

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        store: Store,
        writer: OutcomeWriter,
        dialer: Dialer | None,
        *,
        sms: SmsSender | None = None,
        prompts: Prompts | None = None,
        gsm_voice_free: Callable[[], bool] | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.cfg = cfg
        self.r = cfg.reminders
        self.clock = clock
        self.store = store
        self.writer = writer
        self.policy = writer.policy
        self.dialer = dialer
        self.sms = sms
        self.prompts = prompts
        self.gsm_voice_free = gsm_voice_free or (lambda: True)
        self.wake = wake
        self.paused = False
        self.texts = TextReminders(cfg, clock, store, writer, sms)
        # The no-show follow-ups go out on the same lines, windows and modem.
        self.followups = FollowUps(cfg, clock, store, writer.audit, dialer, sms, prompts, wake)
        self.inflight: dict[int, InFlight] = {}
        self.blocked = "not started"
        self.stats = {"calls": 0, "sms": 0, "results": 0, "not_placed": 0}
        self._results: queue.SimpleQueue[tuple[str, int, Any]] = queue.SimpleQueue()
        self._last_reconcile = -1e9
        self._prompt_failures: set[tuple[str, str]] = set()

    def reconfigure(self, cfg: Config) -> None:
        """Follow a reloaded configuration; calls in flight keep their script."""
        self.cfg = cfg
        self.r = cfg.reminders
        self.policy = self.writer.policy
        self.texts.cfg = cfg
        self.texts.gate = ContactGate(cfg)
        self.followups.reconfigure(cfg)

    # -- from any thread ------------------------------------------------------------------
    def on_call_result(self, attempt_id: int, result: CallOutcome) -> None:
        """The switchboard's ``on_result`` (PJSUA2 thread): queue it, wake the worker."""
        self._results.put(("call", attempt_id, result))
        self.wake()

    def on_decision(self, attempt_id: int, outcome: str) -> None:
        """The patient pressed 1, 2 or 3 (PJSUA2 thread): record it before the call ends."""
        self._results.put(("decision", attempt_id, outcome))
        self.wake()

    def on_sms_status(self, sms_id: int, status: str) -> None:
        self._results.put(("sms", sms_id, status))
        self.wake()

    # -- the worker thread ------------------------------------------------------------------
    def tick(self) -> None:
        """Record results, then dispatch what is due and allowed."""
        self.process_results()
        self.followups.process_results()
        now = self.clock.now()
        reason = self.block_reason(now)
        self.blocked = reason
        if self.store.locked or not self.clock.sync_state().trusted:
            return  # a wrong clock must not expire or give up anything either
        mono = self.clock.monotonic()
        if mono - self._last_reconcile >= RECONCILE_EVERY_S:
            self._last_reconcile = mono
            self._sweep_stale(now)
            self.reconcile_sms()
        self.texts.withdraw_stale(now)
        if not self.policy.windows.is_open(now):
            self.texts.hold_outside_windows(now, self.policy.windows)
        if rows.any_overdue(self.store.connection(), now):
            with self.store.transaction() as conn:
                expired = rows.expire_overdue(conn, now)
            log.info("%d reminders expired before they could go out", len(expired))
        if reason:
            return
        self._dispatch_voice(now)
        self._dispatch_sms(now)
        self.followups.dispatch(now, self.voice_budget)

    def block_reason(self, now: datetime) -> str:
        """Why nothing may go out now ("" when it may)."""
        if not self.r.enabled:
            return "reminders are disabled (reminders.enabled = false)"
        sync = self.clock.sync_state()
        if not sync.trusted:
            return f"the clock is not trusted ({sync.detail}); reminders wait for network time"
        if self.paused:
            return "paused (web UI or `clinicbox reminders pause`)"
        if self.store.locked:
            return "the store is locked; a manager must unlock it"
        if not self.policy.windows.is_open(now):
            return "outside the calling windows"
        return ""

    def process_results(self) -> int:
        count = 0
        while True:
            try:
                kind, key, value = self._results.get_nowait()
            except queue.Empty:
                return count
            count += 1
            try:
                if kind == "call":
                    self._call_result(key, value)
                elif kind == "decision":
                    self._decision(key, value)
                else:
                    self.texts.status(key, value)
            except StoreLockedError:
                log.warning("store locked: a reminder result waits")
                self._results.put((kind, key, value))
                return count
            except ClinicBoxError as exc:
                log.error("recording a reminder result failed: %s", exc)

    # -- voice ---------------------------------------------------------------------------------
    def voice_budget(self) -> int:
        if self.dialer is None:
            return 0
        lines = self.dialer.lines()
        if self.r.pause_while_callers_wait and lines.get("waiting", 0) > 0:
            return 0
        mine = sum(1 for f in self.inflight.values() if f.channel == "voice") + len(self.followups.inflight)
        free = lines["allowed"] - lines["in_use"] - self.r.reserve_lines
        budget = min(self.r.max_calls - mine, free)
        route = self.dialer.route()
        if route == "none":
            return 0
        if route == "gsm":
            gsm_busy = sum(1 for f in self.inflight.values() if f.channel == "voice" and f.route == "gsm")
            budget = min(budget, 0 if gsm_busy or not self.gsm_voice_free() else 1)
        return max(0, budget)

    def _dispatch_voice(self, now: datetime) -> None:
        budget = self.voice_budget()
        if budget <= 0 or self.dialer is None:
            return
        route = self.dialer.route()
        prefer_sms = route == "gsm" and self.r.gsm_prefer_sms and self.sms is not None
        conn = self.store.connection()
        for due in rows.due(conn, now, "voice", budget * 3 + 5, skip_sms_covered=prefer_sms):
            if budget <= 0:
                return
            phone = self._checked(due, now)
            if phone is None:
                continue
            number, _ = phone
            if prefer_sms and due.reminder_channel in SMS_ACCEPTED:
                mobile = rows.phone_for(conn, due.patient_id, "sms")
                if mobile is not None and mobile[1] == "mobile":
                    self._send_sms(due, mobile[0], now, "the trunk is down: texted instead of calling")
                    continue
            language = messages.language_of(self.cfg, due.language)
            when, provider = messages.voice_refs(self.cfg, due.starts_at, language, due.provider)
            wanted = [when, *([provider] if provider else [])]
            if self.prompts is not None and not self.prompts.prepare(wanted, language):
                if (when.key, language) not in self._prompt_failures:
                    self._prompt_failures.add((when.key, language))
                    log.error(
                        "reminder prompts in %s cannot be generated; reminder calls in %s wait", language, language
                    )
                continue
            with self.store.transaction() as conn:
                attempt_id = rows.claim(conn, due.reminder_id, "voice", route, now, starts_at=due.starts_at)
            if attempt_id is None:
                continue
            script = ReminderScript(
                attempt_id,
                language,
                when=when,
                provider=provider,
                machine=machine_prompt(self.cfg),
                desk_queue=self.r.desk_queue,
                desk_priority=self.r.desk_priority,
                key_timeout_s=self.r.key_timeout_s,
                menu_plays=self.r.menu_plays,
                on_decision=functools.partial(self.on_decision, attempt_id),
            )
            flight = InFlight(
                attempt_id, due.reminder_id, "voice", route, self.clock.monotonic(), script, due.starts_at
            )
            self.inflight[attempt_id] = flight
            if not self._place(flight, number, language, due.patient_id, now):
                return
            budget -= 1

    def _place(self, flight: InFlight, number: str, language: str, patient_id: int, now: datetime) -> bool:
        """Place the call of a committed attempt; False when no more calls should be tried now."""
        assert self.dialer is not None and flight.script is not None
        attempt_id = flight.attempt_id
        try:
            call_id = self.dialer.place_call(
                number,
                flight.script,
                lambda result: self.on_call_result(attempt_id, result),
                purpose="reminder",
                language=language,
                patient_id=patient_id,
                ring_s=float(self.r.ring_s),
            )
        except (CapacityError, SwitchboardError) as exc:
            self.inflight.pop(attempt_id, None)
            self.stats["not_placed"] += 1
            with self.store.transaction() as conn:
                self.writer.not_placed(conn, attempt_id, str(exc), now, NOT_PLACED_RETRY_S)
            log.info("reminder call not placed: %s", exc)
            return False
        except Exception as exc:  # e.g. the switchboard did not answer in time: it may still dial
            log.warning("reminder call %d: placing it did not complete (%s); waiting for its result", attempt_id, exc)
            return False
        flight.script.call_id = call_id
        self.stats["calls"] += 1
        with self.store.transaction() as conn:
            rows.placed(conn, attempt_id, call_uuid=call_id)
        log.info("reminder call %d to %s placed (%s)", attempt_id, mask_phone(number), flight.route)
        return True

    def _decision(self, attempt_id: int, outcome: str) -> None:
        flight = self.inflight.get(attempt_id)  # the call goes on (goodbye, or the desk queue): its line stays counted
        now = self.clock.now()
        with self.store.transaction() as conn:
            self.writer.apply(
                conn,
                attempt_id,
                outcome,
                "chosen by key",
                now,
                announced_start=flight.announced_start if flight else None,
            )
        log.info("reminder call %d: %s", attempt_id, outcome)

    def _call_result(self, attempt_id: int, result: CallOutcome) -> None:
        flight = self.inflight.pop(attempt_id, None)
        heard = bool(flight and flight.script and flight.script.heard_details)
        outcome, detail = call_outcome(result, heard)
        now = self.clock.now()
        with self.store.transaction() as conn:
            applied = self.writer.apply(
                conn, attempt_id, outcome, detail, now, announced_start=flight.announced_start if flight else None
            )
            calls.link_reminder_attempt(conn, result.call_id, attempt_id)
        self.stats["results"] += 1
        if applied is not None:
            log.info("reminder call %d: %s", attempt_id, outcome)

    # -- SMS (appliance.reminders.sms_delivery) -------------------------------------------------------
    def _dispatch_sms(self, now: datetime) -> None:
        budget = self.texts.budget()
        if budget <= 0:
            return
        for due in rows.due(self.store.connection(), now, "sms", budget):
            phone = self._checked(due, now)
            if phone is not None and self.texts.send(due, phone[0], now, ""):
                self.stats["sms"] += 1

    def _send_sms(self, due: rows.Due, number: str, now: datetime, detail: str) -> None:
        if self.texts.send(due, number, now, detail):
            self.stats["sms"] += 1

    def reconcile_sms(self) -> None:
        """Catch up on SMS status events missed while the core was down."""
        self.texts.reconcile()

    # -- checks and recovery ---------------------------------------------------------------
    def _checked(self, due: rows.Due, now: datetime) -> tuple[str, str] | None:
        """The number to use, or None when the reminder should not go out (it is re-planned)."""
        conn = self.store.connection()
        phone = rows.phone_for(conn, due.patient_id, due.channel)
        channels = channels_for(due.reminder_channel, due.consent, due.opted_out, phone is not None)
        if due.channel in channels:
            return phone
        from appliance.reminders.replanning import ReminderPlanner

        with self.store.transaction() as tx:
            ReminderPlanner(self.cfg, self.clock).replan(tx, due.appointment_id, now)
        return None

    def recover(self) -> None:
        """At start: settle attempts a previous run left open (see the module docstring)."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            for attempt in rows.open_attempts(conn):
                if attempt.channel == "voice":
                    self.writer.interrupted(conn, attempt.attempt_id, "the box restarted during the call", now)
                    continue
                self.texts.recover(conn, attempt.attempt_id, now)
        self.followups.recover(now)
        self.reconcile_sms()

    def _sweep_stale(self, now: datetime) -> None:
        """Calls whose result never came (the switchboard lost them) end as interrupted."""
        limit = self.r.stale_after_min * 60
        mono = self.clock.monotonic()
        for attempt_id, flight in list(self.inflight.items()):
            if flight.channel == "voice" and mono - flight.started > limit:
                self.inflight.pop(attempt_id)
                with self.store.transaction() as conn:
                    self.writer.interrupted(conn, attempt_id, f"no result after {self.r.stale_after_min} min", now)

    def status(self) -> dict[str, Any]:
        return {
            "blocked": self.blocked,
            "paused": self.paused,
            "calls_in_flight": sum(1 for f in self.inflight.values() if f.channel == "voice"),
            "route": self.dialer.route() if self.dialer is not None else "none",
            **self.stats,
        }
