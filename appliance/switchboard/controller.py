"""The switchboard's brain, on the PJSUA2 thread: calls in, IVR, queue, out.

It receives leg events (via :mod:`appliance.switchboard.legs`), feeds the
pure IVR and ACD state machines, and executes the actions they return:
prompts, music, timers, ringing stations, bridging, voicemail, callbacks.
Everything it writes goes through the store writer; everything it
announces goes through the event publisher; so it never blocks.

It builds its helpers (desk, console, outbound, voicemail, scripts, GSM,
sounds, records) and hands each itself as the narrow Protocol that helper
declares (``DeskHost``, ``OutboundHost``, ...): the call path stays visible.

Any: 0.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime

import pjsua2 as pj

from appliance import acd as A
from appliance import ivr as I
from appliance import sip
from appliance.clock import Clock
from appliance.config import Config
from appliance.errors import SwitchboardError
from appliance.events import Emit, SwitchboardNotifiers
from appliance.privacy import mask_phone
from appliance.store import Store
from appliance.store.callerid import CallerMatch
from appliance.store.phones import normalize_caller
from appliance.switchboard import cdr
from appliance.switchboard.admission import Admission
from appliance.switchboard.agents import AgentDesk
from appliance.switchboard.console import AgentConsole
from appliance.switchboard.deskcalls import DeskCalls
from appliance.switchboard.gsm import GsmLine, GsmModem
from appliance.switchboard.legs import Leg, SbAccount
from appliance.switchboard.lookup import CallerLookup
from appliance.switchboard.loop import PjLoop
from appliance.switchboard.media import MusicBank, write_music
from appliance.switchboard.metrics import Metrics
from appliance.switchboard.outbound import Outbound
from appliance.switchboard.records import QueueRecords, Record
from appliance.switchboard.scripts import ScriptRunner
from appliance.switchboard.sounds import CallSounds
from appliance.switchboard.state import ActiveCall
from appliance.switchboard.timers import TimerHandle
from appliance.switchboard.voicemail import Voicemail
from appliance.switchboard.writer import StoreWriter

log = logging.getLogger(__name__)

LOOKUP_WAIT_S = 0.5  # how long the greeting waits for the caller's language


class Controller:
    def __init__(
        self,
        cfg: Config,
        loop: PjLoop,
        clock: Clock,
        *,
        acd: A.Acd,
        ivr: I.Ivr,
        library: I.PromptLibrary,
        writer: StoreWriter | None,
        lookup: CallerLookup,
        emit: Emit,
        store: Store | None,
        modem: GsmModem | None,
        route_for: Callable[[], str],
    ) -> None:
        self.cfg = cfg
        self.loop = loop
        self.clock = clock
        self.acd = acd
        self.ivr = ivr
        self.library = library
        self._writer = writer
        self.lookup = lookup
        self.notify = SwitchboardNotifiers(emit)
        self.calls: dict[str, ActiveCall] = {}
        self.legs: set[Leg] = set()  # every live leg, so Python never collects one under PJSUA2
        self.timers: dict[str, TimerHandle] = {}
        self.admission = Admission(
            cfg.trunk.provider_networks, cfg.sip.trusted_networks, cfg.trunk.registrar, cfg.sip.untrusted_limit_per_min
        )
        self.local: SbAccount | None = None
        self.trunk: SbAccount | None = None
        self.trunk_caller: SbAccount | None = None  # outgoing trunk calls with trunk.caller_id in From
        self.capacity_allowed = cfg.sip.max_calls
        self.dirty = True
        self.refused = 0
        self._rejected_ids: OrderedDict[str, None] = OrderedDict()  # Call-IDs PJSUA refused by itself, newest last
        self.metrics = Metrics()
        self._digit_leg: Leg | None = None
        self.music_file = write_music(cfg.prompt_cache_dir / "builtin-music.wav")
        self.music = MusicBank()  # one shared player per music source
        self.sounds = CallSounds(self)
        self.records = QueueRecords(self)
        self.agents = AgentDesk(self)
        self.console = AgentConsole(self.agents)  # the agent console's commands
        self.outbound = Outbound(self, route_for)
        self.desk_calls = DeskCalls(self)  # calls desk phones place with their own keys
        self.on_leg_hold, self.on_leg_refer = self.desk_calls.hold, self.desk_calls.xfer.refer  # its own keys
        self.voicemail = Voicemail(self, store)
        self.reminders = ScriptRunner(self)  # reminder call scripts
        self.gsm = GsmLine(self, modem)  # the GSM line (modem + gateway); idle without a modem
        self.on_registration: Callable[[int, str, bool], None] | None = None

    @property
    def writer(self) -> StoreWriter:
        if self._writer is None:
            raise SwitchboardError("the switchboard needs the store")
        return self._writer

    # -- bookkeeping ------------------------------------------------------------
    def soon(self, fn: Callable[[], None]) -> None:
        self.loop.soon(fn)

    def now(self) -> datetime:
        return self.clock.now()

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def legs_in_use(self) -> int:
        return sum(1 for leg in self.legs if not leg.gone)

    def free_lines(self) -> int:
        return max(0, self.capacity_allowed - self.legs_in_use())

    def track(self, leg: Leg) -> Leg:
        self.legs.add(leg)
        self.dirty = True
        return leg

    # -- incoming calls ---------------------------------------------------------------
    def on_incoming(self, account: SbAccount, leg: Leg, source: str, request: sip.SipMessage | None) -> None:
        self.track(leg)
        if (station := self.desk_calls.station_of(source, request)) is not None and request is not None:
            return self.desk_calls.incoming(leg, station, request)  # a desk phone's own call (the edge vouches)
        now = time.monotonic()
        verdict = self.admission.check(source, now)
        from_hdr = request.header("from") if request else ""
        raw = sip.uri_user(from_hdr)
        callee = sip.uri_user(request.header("to")) if request else ""
        number = normalize_caller(raw, self.cfg.clinic.country) or (raw[:32] if raw else "anonymous")
        if not verdict.allowed:
            self.refused += 1
            leg.owner = ""
            self.soon(lambda: leg.end(403, "Forbidden"))
            if verdict.log:
                log.warning("refused a call from %s (not the provider or a trusted network)", Admission.host_of(source))
                cid = self.new_id()
                self.writer.db(cdr.start(cid, "inbound", self.now(), number, callee, "patient", "trunk"))
                self.writer.db(
                    cdr.update(cid, ended_at=self.now(), disposition="refused", sip_code=403, hangup_by="box")
                )
            return
        route = (
            "gsm"
            if request is not None and request.header("x-clinicbox-route") == "gsm"
            else ("trunk" if verdict.kind == "provider" else "local")
        )
        if self.free_lines() < self.agent_reserve():  # this caller's leg is already counted
            leg.owner = ""
            self.soon(lambda: leg.end(486, "Busy Here"))
            self.records.turned_away(number, callee, route, 486)
            return
        call = ActiveCall(
            id=self.new_id(),
            leg=leg,
            direction="inbound",
            purpose="patient",
            route=route,
            caller=number,
            callee=callee,
            started_at=self.now(),
        )
        leg.owner = call.id
        call.arrived = now
        self.calls[call.id] = call
        self.writer.db(cdr.start(call.id, "inbound", call.started_at, number, callee, "patient", route))
        log.info("call %s from %s", call.id[:8], mask_phone(number))
        self.notify.calls.started(call_id=call.id, caller=number, route=route)
        self.soon(lambda: leg.answer_with(180))
        if number.startswith("+"):
            call.lookup_deadline = self.loop.later(LOOKUP_WAIT_S, lambda: self.greet(call))
            call_id = call.id  # the reply crosses threads: it must not hold the call (or its leg)

            def reply(match: CallerMatch | None) -> None:
                self.loop.submit(self._lookup_done, call_id, match)

            self.lookup.lookup(number, reply)
        else:
            self.soon(lambda: self.greet(call))

    def on_rejected(self, source: str, code: int, raw: str) -> None:
        """PJSUA refused an INVITE by itself: only over its call cap (486) is that a busy caller."""
        if not self.admission.check(source, time.monotonic()).allowed:
            return
        try:
            request: sip.SipMessage | None = sip.parse(raw.encode("utf-8", "replace"))
        except sip.SipParseError:
            request = None
        if request is None or self.admission.garbage(source, code, request):
            return
        # PJSUA refuses statelessly, so every UDP retransmission of the INVITE is
        # refused again: one caller, one row.
        call_id = request.header("call-id")
        if call_id:
            if call_id in self._rejected_ids:
                return
            self._rejected_ids[call_id] = None
            while len(self._rejected_ids) > 4096:
                self._rejected_ids.popitem(last=False)
        raw_user = sip.uri_user(request.header("from"))
        number = normalize_caller(raw_user, self.cfg.clinic.country) or (raw_user[:32] or "anonymous")
        self.records.turned_away(number, sip.uri_user(request.header("to")), "trunk", code)

    def agent_reserve(self) -> int:
        """Lines kept free when a caller is let in, so an agent can be rung for them."""
        return 1 if self.cfg.stations else 0

    def _lookup_done(self, call_id: str, match: CallerMatch | None) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        if match is not None:
            call.language = match.language
            if len(match.patients) == 1:
                call.patient_id = match.patients[0].patient_id
                self.writer.db(cdr.update(call.id, patient_id=call.patient_id))
        self.greet(call)

    def greet(self, call: ActiveCall) -> None:
        deadline, call.lookup_deadline = call.lookup_deadline, None
        if deadline is not None:
            deadline.cancel()
        if call.ended or call.answered:
            return
        call.answered = True
        no_sip_answer, call.no_sip_answer = call.no_sip_answer, False
        if not no_sip_answer:
            call.leg.answer_with(200)
            arrived = call.arrived if call.arrived is not None else time.monotonic()
            self.metrics.answer_delay.add((time.monotonic() - arrived) * 1000)
        call.state = "ivr"
        call.was_open = self.ivr.is_open()
        call.session = self.ivr.session(call.id, call.language)
        call.max_duration = self.loop.later(self.cfg.sip.max_call_duration_s, lambda: self.end_call(call, "timeout"))
        self.writer.db(cdr.update(call.id, answered_at=self.now(), language=call.language))
        self.dirty = True
        if call.leg.media is not None:
            self.run(call.session.start(), "ivr")
        else:
            call.start_ivr = True

    # -- account events -------------------------------------------------------------------
    def on_message(self, source: str, content_type: str, body: str, from_uri: str) -> None:
        """Out-of-dialog MESSAGE: station heartbeats; anything else is ignored."""
        if self.admission.check(source, time.monotonic()).allowed:
            self.agents.on_message(source, content_type, body)

    def on_reg_state(self, account: SbAccount, code: int, reason: str, active: bool) -> None:
        if account.kind == "trunk" and self.on_registration is not None:
            self.on_registration(code, reason, active)

    # -- leg events ---------------------------------------------------------------------
    def on_leg_media(self, leg: Leg) -> None:
        leg.rx_changed_at = time.monotonic()
        if leg.role in ("agent", "desk"):
            (self.agents if leg.role == "agent" else self.desk_calls).leg_media(leg)
            return
        call = self.calls.get(leg.owner)
        if call is None or leg is not call.leg:
            self.outbound.leg_media(leg)
            return
        self.desk_calls.bridge(call)  # a desk phone's own call: patient and phone both up
        start_ivr, call.start_ivr = call.start_ivr, False
        if start_ivr and call.session is not None:
            self.run(call.session.start(), "ivr")
        elif call.pending_play is not None:
            (action, owner), call.pending_play = call.pending_play, None
            self.sounds.play(call, action, owner)
        elif call.music_file and call.music is None and call.player is None:
            self.sounds.music_on(call)
        self.outbound.leg_media(leg)
        self.reminders.media(call)

    def on_leg_digit(self, leg: Leg, digit: str, method: int) -> None:
        call = self.calls.get(leg.owner)
        if call is None or leg is not call.leg or call.ended:
            return
        self._digit_leg = leg  # a prompt or music started while handling it is its reaction
        try:
            if call.state == "ivr" and call.session is not None:
                self.run(call.session.on_digit(digit), "ivr")
            elif self.acd.has_call(call.id):
                self.run(self.acd.on_digit(call.id, digit), "acd")
            elif call.state == "voicemail":
                self.voicemail.digit(call, digit)
            elif call.state == "script":
                self.reminders.digit(call, digit)
        finally:
            self._digit_leg = None

    def reacted(self, leg: Leg) -> None:
        """Sound started for ``leg``: if it answers a digit, record how long that took
        (from PJSUA's DTMF callback to the prompt or music on the bridge)."""
        if self._digit_leg is leg and leg.digit_at:
            self.metrics.dtmf_to_prompt.add((time.monotonic() - leg.digit_at) * 1000)
            leg.digit_at = 0.0

    def on_leg_state(self, leg: Leg, state: int, code: int, reason: str) -> None:
        leg.state, leg.code = state, code
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            if leg.role == "agent":
                self.agents.leg_confirmed(leg)
            else:
                self.outbound.leg_confirmed(leg)
        elif state == pj.PJSIP_INV_STATE_EARLY and leg.role == "outbound":
            self.outbound.leg_early(leg, code)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            leg.gone = True
            self.legs.discard(leg)
            self.dirty = True
            if leg.role in ("agent", "desk"):
                return self.agents.leg_gone(leg, code) if leg.role == "agent" else self.desk_calls.leg_gone(leg)
            call = self.calls.get(leg.owner)
            if call is not None and leg is call.leg:
                self.caller_gone(call, code)
            else:
                self.outbound.leg_gone(leg, code)

    # -- the end of a call --------------------------------------------------------------------
    def end_call(self, call: ActiveCall, by: str, code: int = 0) -> None:
        """The box (or an agent) ends the call; the caller's DISCONNECTED does the rest."""
        if call.ended_by is None:
            call.ended_by = by
        call.leg.end(code)

    def caller_gone(self, call: ActiveCall, code: int) -> None:
        if call.ended:
            return
        call.ended = True
        self.sounds.stop(call)
        self.sounds.music_off(call)
        call.cancel_timers()
        if call.state == "ivr" and call.session is not None:
            self.run(call.session.on_hangup(), "ivr")
        if call.state == "script":
            self.reminders.ended(call)
        if self.acd.has_call(call.id):
            self.run(self.acd.call_ended(call.id), "acd")
        if call.state == "voicemail" or call.capture is not None:
            self.voicemail.finish(call)
        if call.agent_leg is not None and not call.agent_leg.gone:
            call.agent_leg.end(self.desk_calls.final_code(call))
        self.outbound.caller_gone(call)
        if call.route == "gsm":
            self.gsm.ended(call)
        for timer_id in [t for t in self.timers if t.startswith(f"ivr:{call.id}:")]:
            self.timers.pop(timer_id).cancel()
        if call.hold_since is not None:
            call.hold_total += time.monotonic() - call.hold_since
        disposition = call.outcome or self._disposition(call, code)
        if (
            not call.was_open
            and not call.voicemail_left
            and not call.transferred  # the on-call doctor took it
            and call.caller.startswith("+")
            and call.direction == "inbound"
        ):
            self.writer.db(
                cdr.callback_open(
                    call.id,
                    call.caller,
                    call.patient_id,
                    self.front_desk_queue(),
                    "after-hours",
                    self.now(),
                    self.now(),
                    0.0,
                )
            )
        self.writer.db(
            cdr.update(
                call.id,
                ended_at=self.now(),
                disposition=disposition,
                language=call.language,
                ivr_path=list(call.session.path) if call.session is not None else [],
                hold_seconds=round(call.hold_total, 1),
                hangup_by=call.ended_by or "caller",
                sip_code=code or None,
            )
        )
        self.calls.pop(call.id, None)
        self.dirty = True
        self.reminders.call_gone(call)
        self.notify.calls.ended(call_id=call.id, disposition=disposition)
        log.info("call %s ended: %s", call.id[:8], disposition)

    def _disposition(self, call: ActiveCall, code: int) -> str:
        if call.voicemail_left:
            return "voicemail"
        if call.transferred:
            return "transferred"
        if call.direction == "outbound":
            return "answered" if call.answered else ("busy" if code == 486 else "failed")
        return "ivr"

    def front_desk_queue(self) -> str:
        return "front-desk" if "front-desk" in self.cfg.queues else next(iter(self.cfg.queues))

    # -- executing IVR and ACD actions -----------------------------------------------------------
    def run(self, actions: Iterable[I.IvrAction | A.AcdAction], owner: str) -> None:
        for action in actions:
            try:
                self._execute(action, owner)
            except Exception:
                log.exception("switchboard action %s failed", type(action).__name__)
        self.dirty = True

    def _execute(self, a: I.IvrAction | A.AcdAction, owner: str) -> None:
        if isinstance(a, I.StartTimer):
            old = self.timers.pop(a.timer_id, None)
            if old is not None:
                old.cancel()
            timer_id = a.timer_id
            self.timers[timer_id] = self.loop.later(a.seconds, lambda: self._fire(timer_id))
        elif isinstance(a, I.CancelTimer):
            handle = self.timers.pop(a.timer_id, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(a, Record):  # queue and agent events, callbacks, wrap-up
            self.records.record(a)
        elif isinstance(a, (A.RingAgent, A.CancelRing, A.ConnectAgent)):
            self.agents.execute(a)
        elif isinstance(a, (A.DialCallback, A.CancelCallback)):
            self.outbound.execute(a)
        else:
            call = self.calls.get(a.call_id)
            if call is None or call.ended:
                return
            if isinstance(a, I.Play):
                self.sounds.play(call, a, owner)
            elif isinstance(a, I.StopPlayback):
                if call.play_id == a.play_id:
                    self.sounds.stop(call)
                    self.sounds.music_resume(call)
            elif isinstance(a, A.StartMusic):
                call.music_file = a.music or "builtin"
                if call.player is None:
                    self.sounds.music_on(call)
            elif isinstance(a, I.SetLanguage):
                call.language = a.language
            elif isinstance(a, I.EnterQueue):
                call.state, call.queue = "queued", a.queue
                call.language = a.language
                self.writer.db(cdr.update(call.id, queue=a.queue, queued_at=self.now()))
                self.run(
                    self.acd.enter(
                        call.id,
                        a.queue,
                        priority=a.priority,
                        number=call.caller if call.caller.startswith("+") else "",
                        language=a.language,
                    ),
                    "acd",
                )
            elif isinstance(a, I.StartVoicemail):
                self.voicemail.start(call, a)
            elif isinstance(a, I.TransferOut):
                self.outbound.transfer(call, a.number)
            elif isinstance(a, I.Hangup):
                self.end_call(call, "box")

    def _fire(self, timer_id: str) -> None:
        if self.timers.pop(timer_id, None) is None:
            return
        if timer_id.startswith("ivr:"):
            call = self.calls.get(timer_id.split(":")[1])
            if call is not None and call.session is not None and not call.ended:
                self.run(call.session.on_timer(timer_id), "ivr")
        elif timer_id.startswith("acd:"):
            self.run(self.acd.on_timer(timer_id), "acd")
        elif timer_id.startswith("rem:"):
            self.reminders.timer(timer_id)
