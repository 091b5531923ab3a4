"""Calls the box places: callbacks, transfers out, and scripted calls.

* **Virtual-hold callback** (the ACD's DialCallback): dial the patient; when
  they answer, greet them ("returning your call"), report
  ``callback_connected`` and the ACD connects the reserved agent.
* **Console callback** (a click on the callback list): the agent's station
  and the patient are called together and bridged when both answer.
* **Transfer out** (the on-call doctor): a second leg, bridged to the caller.
* **Originate** (reminder calls): a new call whose answered leg is handed to
  a script (the reminders module).

Routes: the SIP trunk, or the GSM gateway when the failover policy says
the trunk is down (``route_for`` is handed in by the service). Through the
trunk, calls present ``trunk.caller_id`` (:mod:`.callerid`): in From, by
going out on the caller-ID account, and/or in P-Asserted-Identity.

Any: 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

import pjsua2 as pj

from appliance import acd as A
from appliance.errors import CapacityError, SwitchboardError
from appliance.ivr import IvrAction, Play, PromptRef
from appliance.privacy import mask_phone
from appliance.switchboard import cdr
from appliance.switchboard.callerid import caller_id_headers
from appliance.switchboard.hosts import LegHost
from appliance.switchboard.legs import Leg, SbAccount
from appliance.switchboard.records import QueueRecords
from appliance.switchboard.state import ActiveCall, ConsoleCallback, GsmState, OutboundState, TransferState

if TYPE_CHECKING:
    from appliance.switchboard.agents import AgentDesk
    from appliance.switchboard.gsm import GsmLine
    from appliance.switchboard.sounds import CallSounds

log = logging.getLogger(__name__)
RING_TIMEOUT_S = 45.0


def outcome_of(code: int) -> str:
    """A SIP final status as a callback/reminder outcome."""
    if code in (486, 600):
        return "busy"
    if code in (408, 480, 487, 0):
        return "no-answer"
    if code in (603,):
        return "declined"
    return "failed"


class OutboundHost(LegHost, Protocol):
    """What outgoing calls use of the controller (their legs report to it too)."""

    dirty: bool

    @property
    def acd(self) -> A.Acd: ...
    @property
    def trunk(self) -> SbAccount | None: ...
    @property
    def trunk_caller(self) -> SbAccount | None: ...
    @property
    def sounds(self) -> CallSounds: ...
    @property
    def records(self) -> QueueRecords: ...
    @property
    def agents(self) -> AgentDesk: ...
    @property
    def gsm(self) -> GsmLine: ...
    def run(self, actions: Iterable[IvrAction | A.AcdAction], owner: str) -> None: ...
    def new_id(self) -> str: ...
    def free_lines(self) -> int: ...


class Outbound:
    def __init__(self, controller: OutboundHost, route_for: Callable[[], str] = lambda: "trunk") -> None:
        self.c = controller
        self.route_for = route_for
        self.gsm_uri: str | None = None  # set when the GSM gateway is known
        self._play_ids = 10_000_000

    # -- placing a call ------------------------------------------------------------------
    def can_dial(self) -> bool:
        """Whether an outgoing call has a route right now (the ACD waits with callbacks until so)."""
        route = self.route_for()
        if route == "gsm":
            modem = self.c.gsm.modem
            return self.c.gsm.available and modem is not None and modem.failover.voice_capacity() > 0
        return route != "none"

    def account_for(self, route: str) -> SbAccount | None:
        """The account a call on ``route`` goes out on: the trunk's (caller ID in From when configured)."""
        if route == "trunk" and self.c.trunk is not None:
            return self.c.trunk_caller or self.c.trunk
        return self.c.local

    def call_param(self, route: str) -> pj.CallOpParam:
        """The INVITE's options: through the trunk, the caller ID headers the provider reads."""
        op = pj.CallOpParam(True)
        if route == "trunk":
            for name, value in caller_id_headers(self.c.cfg.trunk):
                header = pj.SipHeader()
                header.hName, header.hValue = name, value
                op.txOption.headers.append(header)
        return op

    def target(self, number: str, route: str) -> str:
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        if not digits or len(digits) > 20:
            raise SwitchboardError("not a phone number")
        if route == "gsm":
            if not self.gsm_uri:
                raise SwitchboardError("the GSM gateway is not available")
            return self.gsm_uri.replace("sip:", f"sip:{digits}@", 1) if "@" not in self.gsm_uri else self.gsm_uri
        cfg = self.c.cfg.trunk
        if not cfg.enabled or not cfg.registrar:
            raise SwitchboardError("no trunk is configured for outgoing calls (trunk.enabled, trunk.registrar)")
        host = cfg.registrar.split(":", 1)[1].split(";")[0]
        host = host.split("@")[-1]
        suffix = ";transport=tls" if cfg.transport == "tls" else ""
        return f"sip:{cfg.dial_prefix}{digits}@{host}{suffix}"

    def dial(
        self,
        number: str,
        *,
        purpose: str,
        on_answer: Callable[[ActiveCall], None] | None = None,
        on_fail: Callable[[ActiveCall, str], None] | None = None,
        timeout_s: float = RING_TIMEOUT_S,
        language: str | None = None,
        patient_id: int | None = None,
        emergency: bool = False,
    ) -> ActiveCall:
        """Call ``number``; the new call's leg is the patient's ("caller") leg.

        ``emergency``: a desk phone's emergency call goes out even with no line free.
        """
        if self.c.free_lines() < 1 and not emergency:
            raise CapacityError("no line is free for an outgoing call")
        route = self.route_for()
        if route == "none":
            raise SwitchboardError("neither the trunk nor the GSM line is available")
        if route == "gsm":
            self.c.gsm.reserve()
        uri = self.target(number, route) if route != "gsm" else ""
        account = self.account_for(route)
        call = ActiveCall(
            id=self.c.new_id(),
            leg=None,  # type: ignore[arg-type]  # the leg needs the call's id; set just below
            direction="outbound",
            purpose=purpose,
            route=route,
            caller=number,
            callee=number,
            started_at=self.c.now(),
            state="dialing",
            language=language,
            patient_id=patient_id,
        )
        leg = self.c.track(Leg(self.c, account, role="caller", owner=call.id))
        call.leg = leg
        call.outbound = state = OutboundState(on_answer, on_fail)
        self.c.calls[call.id] = call
        try:
            if route == "gsm":
                call.gsm = GsmState("out")
                self.c.gsm.invite(leg, "out")
            else:
                leg.makeCall(uri, self.call_param(route))
        except (pj.Error, SwitchboardError) as exc:
            if route == "gsm" and self.c.gsm.modem is not None:  # reserved above, so there is one
                self.c.gsm.modem.failover.release_voice()
            self.c.calls.pop(call.id, None)
            leg.gone = True
            self.c.legs.discard(leg)
            raise SwitchboardError(f"could not place the call: {getattr(exc, 'reason', exc)}") from None
        self.c.writer.db(
            cdr.start(
                call.id, "outbound", call.started_at, self.c.cfg.trunk.caller_id, number, purpose, route, patient_id
            )
        )
        state.answer_timer = self.c.loop.later(timeout_s, lambda: self._no_answer(call))
        log.info("calling %s (%s via %s)", mask_phone(number), purpose, route)
        self.c.notify.calls.started(call_id=call.id, caller=number, route=route, direction="outbound", purpose=purpose)
        return call

    def _no_answer(self, call: ActiveCall) -> None:
        if not call.answered and not call.ended:
            call.fail_outcome = "no-answer"
            self.c.end_call(call, "timeout")

    # -- leg events ----------------------------------------------------------------------------
    def leg_early(self, leg: Leg, code: int) -> None:
        return None

    def leg_confirmed(self, leg: Leg) -> None:
        if leg.role == "outbound":
            self._transfer_answered(leg)
            return
        call = self.c.calls.get(leg.owner)
        if call is None or leg is not call.leg:
            return
        if call.route == "gsm":
            self.c.gsm.leg_confirmed(call)  # the gateway answered; the patient answers on the modem
            return
        if call.direction == "outbound" and not call.answered:
            self.answered(call)

    def answered(self, call: ActiveCall) -> None:
        """The patient picked up an outgoing call (SIP 200, or the modem's call went active)."""
        call.answered = True
        state = call.outbound
        if state is not None and state.answer_timer is not None:
            timer, state.answer_timer = state.answer_timer, None
            timer.cancel()
        call.state = "talking" if call.console else "answered"
        self.c.writer.db(cdr.update(call.id, answered_at=self.c.now()))
        call.max_duration = self.c.loop.later(
            self.c.cfg.sip.max_call_duration_s, lambda: self.c.end_call(call, "timeout")
        )
        hook = state.on_answer if state is not None else None
        if hook is not None:
            hook(call)
        if call.console:
            self._bridge_console(call)
        self.c.dirty = True

    def leg_media(self, leg: Leg) -> None:
        if leg.role == "outbound":
            self._transfer_answered(leg)
            return
        call = self.c.calls.get(leg.owner)
        if call is not None and call.console and call.answered:
            self._bridge_console(call)

    def leg_gone(self, leg: Leg, code: int) -> None:
        """A transfer leg ended (the caller's own legs go through the controller)."""
        call = self.c.calls.get(leg.owner)
        if call is None or call.transfer is None or call.transfer.leg is not leg:
            return
        transfer, call.transfer = call.transfer, None
        if transfer.timer is not None:
            transfer.timer.cancel()
        if call.transferred:
            self.c.end_call(call, "far-end")
        else:
            log.warning("transfer of call %s failed (%d)", call.id[:8], code)
            self._transfer_failed(call)

    def caller_gone(self, call: ActiveCall) -> None:
        """The patient's leg ended: finish whatever this call was for."""
        transfer, call.transfer = call.transfer, None  # its timer was cancelled by the controller
        if transfer is not None and not transfer.leg.gone:
            transfer.leg.end()
        if call.console:
            self._console_done(call, call.console)
        if call.direction != "outbound" or call.answered:
            return
        outcome = call.fail_outcome or outcome_of(call.leg.code)
        call.outcome = {"busy": "busy"}.get(outcome, "failed")
        hook = call.outbound.on_fail if call.outbound is not None else None
        if hook is not None:
            hook(call, outcome)

    # -- the ACD's callbacks --------------------------------------------------------------------
    def execute(self, a: A.DialCallback | A.CancelCallback) -> None:
        if isinstance(a, A.DialCallback):
            self._dial_callback(a)
        elif isinstance(a, A.CancelCallback):
            for call in list(self.c.calls.values()):
                if call.outbound and call.outbound.callback_request == a.request_id and not call.answered:
                    call.fail_outcome = "cancelled"
                    self.c.end_call(call, "box")

    def _dial_callback(self, a: A.DialCallback) -> None:
        def answered(call: ActiveCall) -> None:
            queue = self.c.cfg.queues.get(a.queue)
            greeting = (
                ("callback_greeting", "recording_notice") if queue is not None and queue.record else "callback_greeting"
            )
            self._say(call, greeting, then=lambda: self._callback_connect(call, a.request_id))

        def failed(call: ActiveCall, outcome: str) -> None:
            self.c.run(self.c.acd.callback_failed(a.request_id, outcome), "acd")

        try:
            call = self.dial(a.number, purpose="callback", on_answer=answered, on_fail=failed, language=a.language)
        except SwitchboardError as exc:
            log.warning("callback dial failed: %s", exc)
            self.c.soon(lambda: self.c.run(self.c.acd.callback_failed(a.request_id, "failed"), "acd"))
            return
        assert call.outbound is not None  # dial() made it
        call.outbound.callback_request = a.request_id
        call.queue = a.queue
        self.c.writer.db(
            cdr.queue_event(a.request_id, self.c.now(), a.queue, "callback-dial", a.agent, {"call_id": call.id})
        )

    def _callback_connect(self, call: ActiveCall, request_id: str) -> None:
        if call.ended:
            return
        call.state = "queued"
        call.music_file = "builtin"
        self.c.sounds.music_on(call)
        self.c.writer.db(cdr.update(call.id, queue=call.queue, queued_at=self.c.now()))
        self.c.run(self.c.acd.callback_connected(request_id, call.id), "acd")

    # -- console-initiated callback -------------------------------------------------------------
    def console_callback(self, callback_id: int, number: str, station: str, actor: str) -> dict[str, str]:
        desk = self.c.agents
        st = desk.get(station)
        if st.leg is not None or not st.reachable:
            raise SwitchboardError(f"{st.name} is busy or unavailable")
        call = self.dial(number, purpose="callback")
        self.c.records.withdraw_callback(number)  # the ACD must not call them back a second time
        call.console = ConsoleCallback(station, callback_id, actor)
        self.c.run(self.c.acd.pause(station, "callback"), "acd")
        st.call, st.direct = call.id, True
        desk.invite(st, call.id, "accepted")
        self.c.writer.db(cdr.callback_status(callback_id, "dialing", "", self.c.now(), actor, call.id))
        self.c.writer.db(cdr.update(call.id, callback_id=callback_id, agent=station))
        return {"call_id": call.id}

    def _bridge_console(self, call: ActiveCall) -> None:
        st = self.c.agents.stations.get(call.console.station if call.console else "")
        if st is not None and st.leg is not None and st.leg.media is not None and call.leg.media is not None:
            self.c.agents.bridge(st, call)
            self.c.writer.db(cdr.update(call.id, agent_answered_at=self.c.now()))

    def _console_done(self, call: ActiveCall, console: ConsoleCallback) -> None:
        station = console.station
        st = self.c.agents.stations.get(station)
        if st is not None and st.leg is not None and st.call == call.id:
            st.leg.end()
        self.c.run(self.c.acd.unpause(station), "acd")
        status = "done" if call.answered else "failed"
        outcome = "answered" if call.answered else (call.fail_outcome or outcome_of(call.leg.code))
        self.c.writer.db(
            cdr.callback_status(
                console.callback_id,
                status if status == "done" else "open",
                outcome,
                self.c.now(),
                console.actor,
            )
        )

    # -- transfer out ---------------------------------------------------------------------------
    def transfer(self, call: ActiveCall, number: str) -> None:
        if self.c.free_lines() < 1:
            log.warning("transfer of call %s impossible: no free line", call.id[:8])
            self._transfer_failed(call)
            return
        route = self.route_for()
        try:
            uri = self.target(number, route)
        except SwitchboardError as exc:
            log.warning("transfer impossible: %s", exc)
            self._transfer_failed(call)
            return
        leg = self.c.track(Leg(self.c, self.account_for(route), role="outbound", owner=call.id))
        call.transfer = transfer = TransferState(leg)
        call.state = "dialing"
        call.music_file = "builtin"
        self.c.sounds.music_on(call)
        try:
            leg.makeCall(uri, self.call_param(route))
        except pj.Error as exc:
            leg.gone = True
            self.c.legs.discard(leg)
            call.transfer = None
            log.warning("transfer call failed: %s", exc.reason)
            self._transfer_failed(call)
            return
        # A phone left ringing (or a provider that never gives up) must not hold the caller forever.
        transfer.timer = self.c.loop.later(RING_TIMEOUT_S, lambda: self._transfer_unanswered(leg))
        self.c.writer.db(cdr.update(call.id, callee=number))

    def _transfer_unanswered(self, leg: Leg) -> None:
        call = self.c.calls.get(leg.owner)
        if call is not None and call.transfer is not None and call.transfer.leg is leg and not call.transferred:
            leg.end(487)  # leg_gone follows and takes the fallback

    def _transfer_failed(self, call: ActiveCall) -> None:
        """Busy, no answer or no way to call: the flow's fallback (e.g. voicemail), else an apology."""
        call.state = "ivr"
        self.c.sounds.music_off(call)
        actions = call.session.transfer_failed() if call.session is not None else []
        if actions:
            self.c.run(actions, "ivr")
            return
        self._say(call, "overflow", then=lambda: self.c.end_call(call, "box"))

    def _transfer_answered(self, leg: Leg) -> None:
        call = self.c.calls.get(leg.owner)
        transfer = call.transfer if call is not None else None
        if call is None or transfer is None or transfer.leg is not leg or leg.media is None or call.leg.media is None:
            return
        if leg.state != pj.PJSIP_INV_STATE_CONFIRMED:
            return
        if transfer.timer is not None:
            timer, transfer.timer = transfer.timer, None
            timer.cancel()
        self.c.sounds.music_off(call)
        call.leg.media.startTransmit(leg.media)
        leg.media.startTransmit(call.leg.media)
        call.state = "talking"
        call.transferred = True
        call.outcome = "transferred"
        self.c.dirty = True

    # -- helpers -----------------------------------------------------------------------------------
    def _say(self, call: ActiveCall, key: str | tuple[str, ...], then: Callable[[], None]) -> None:
        """Play a prompt (or several, in order) that cannot be interrupted, then ``then``."""
        self._play_ids += 1
        play_id = self._play_ids
        call.after_play = (play_id, then)
        language = call.language or self.c.cfg.clinic.default_language
        keys = (key,) if isinstance(key, str) else key
        prompts = tuple(PromptRef(k) for k in keys)
        self.c.sounds.play(call, Play(call.id, prompts, language, False, play_id), "outbound")

    def prompt_done(self, call: ActiveCall, play_id: int) -> None:
        pending = call.after_play
        if pending is not None and pending[0] == play_id:
            call.after_play = None
            pending[1]()

    def busy_lines(self) -> int:
        return sum(1 for call in self.c.calls.values() if call.direction == "outbound" and not call.ended)
