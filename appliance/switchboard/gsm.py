"""Calls over the GSM modem, through the GSM gateway.

The modem's AT control lives in the core (:mod:`appliance.modem`); its
audio belongs to the GSM gateway, a station-like PJSUA2 process. A GSM
call is therefore a SIP leg between the core and the gateway plus the
modem's call:

* **incoming**: ``modem.call.incoming`` → the core calls the gateway (signed
  INVITE) → the gateway answers → ``ATA`` → the call enters the same IVR and
  queue as any other, with route ``gsm``;
* **waiting**: a second caller during a GSM call (``modem.call.waiting``)
  is turned away by the modem and goes on the callback list, like a SIP
  caller who found every line busy;
* **outgoing** (the trunk is down): the core calls the gateway → ``ATD`` →
  the patient answers when the modem reports the call ``active``; busy and
  no-answer come from the modem's call state.

One GSM voice call at a time (the modem's line); the failover policy
hands it out.

Any: 1, the modem status's JSON view.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

import pjsua2 as pj

from appliance.errors import CapacityError, SwitchboardError
from appliance.privacy import mask_phone
from appliance.station import protocol as P
from appliance.station.voiceroute import VOICE_HEADER, VoiceRoute, format_header
from appliance.store.phones import normalize_caller
from appliance.switchboard import cdr
from appliance.switchboard.hosts import LegHost
from appliance.switchboard.legs import Leg
from appliance.switchboard.records import QueueRecords
from appliance.switchboard.state import ActiveCall, GsmState

if TYPE_CHECKING:
    from appliance.switchboard.agents import AgentDesk
    from appliance.switchboard.outbound import Outbound

log = logging.getLogger(__name__)
_FAIL = {"busy": "busy", "no-answer": "no-answer", "missed": "no-answer", "no-network": "failed"}


class ModemCallState(Protocol):
    @property
    def state(self) -> str: ...


class VoiceLine(Protocol):
    """The failover policy's hold on the modem's one voice line."""

    def voice_capacity(self) -> int: ...
    def reserve_voice(self) -> bool: ...
    def release_voice(self) -> None: ...


class GsmModem(Protocol):
    """What the switchboard uses of the modem service (its AT side)."""

    @property
    def failover(self) -> VoiceLine: ...
    def answer(self) -> Future[None]: ...
    def dial(self, number: str) -> Future[None]: ...
    def hangup(self) -> Future[None]: ...
    def call_state(self) -> ModemCallState: ...
    def voice_route(self) -> VoiceRoute: ...


class RoutePolicy(VoiceLine, Protocol):
    """The modem's failover policy: where outgoing calls go, and its one voice line."""

    def route(self) -> str: ...


class ModemStatusView(Protocol):
    def event_data(self) -> dict[str, Any]: ...


class ModemPort(GsmModem, Protocol):
    """What the switchboard uses of the modem service."""

    @property
    def failover(self) -> RoutePolicy: ...
    @property
    def status(self) -> ModemStatusView: ...


class GsmHost(LegHost, Protocol):
    """What the GSM line uses of the controller (its legs report to it too)."""

    @property
    def records(self) -> QueueRecords: ...
    @property
    def agents(self) -> AgentDesk: ...
    @property
    def outbound(self) -> Outbound: ...
    def new_id(self) -> str: ...
    def free_lines(self) -> int: ...
    def agent_reserve(self) -> int: ...
    def greet(self, call: ActiveCall) -> None: ...
    def caller_gone(self, call: ActiveCall, code: int) -> None: ...


class GsmLine:
    def __init__(self, controller: GsmHost, modem: GsmModem | None) -> None:
        self.c = controller
        self.modem = modem  # ModemService or None

    @property
    def available(self) -> bool:
        gw = self.c.agents.gateway
        return self.modem is not None and gw is not None and gw.reachable and bool(gw.contact)

    def invite(self, leg: Leg, direction: str) -> None:
        """Call the gateway on ``leg`` with its signed token."""
        gw = self.c.agents.gateway
        if gw is None or not gw.contact:
            raise SwitchboardError("the GSM gateway is not running")
        prm = pj.CallOpParam(True)
        headers = pj.SipHeaderVector()
        for name, value in (
            (P.AUTH_HEADER, P.invite_token(gw.id, gw.password)),
            (P.ANSWER_HEADER, "auto"),
            ("X-ClinicBox-Gsm", direction),
            # Where the modem puts the call's voice (its sound card, or PCM on a serial port).
            (VOICE_HEADER, format_header(self.modem.voice_route()) if self.modem is not None else ""),
        ):
            if not value:
                continue
            h = pj.SipHeader()
            h.hName, h.hValue = name, value
            headers.append(h)
        prm.txOption.headers = headers
        leg.makeCall(gw.contact, prm)

    # -- incoming ---------------------------------------------------------------------
    def incoming(self, number: str) -> None:
        """The modem rings (loop thread)."""
        caller = self._caller(number)
        if not self.available:
            self._turn_away(caller, 503, "no GSM gateway to answer the GSM call")
            return
        if self.c.free_lines() < 1 + self.c.agent_reserve():
            self._turn_away(caller, 486, "")
            return
        call = ActiveCall(
            id=self.c.new_id(),
            leg=None,  # type: ignore[arg-type]  # set just below
            direction="inbound",
            purpose="patient",
            route="gsm",
            caller=caller,
            callee="",
            started_at=self.c.now(),
        )
        leg = self.c.track(Leg(self.c, self.c.local, role="caller", owner=call.id))
        call.leg = leg
        call.gsm = GsmState("in")
        self.c.calls[call.id] = call
        self.c.writer.db(cdr.start(call.id, "inbound", call.started_at, caller, "", "patient", "gsm"))
        try:
            self.invite(leg, "in")
        except (pj.Error, SwitchboardError) as exc:
            log.warning("cannot reach the GSM gateway: %s", exc)
            call.fail_outcome = "failed"
            leg.gone = True
            self.c.legs.discard(leg)
            self.c.caller_gone(call, 503)
            return
        log.info("GSM call %s from %s", call.id[:8], mask_phone(caller))
        self.c.notify.calls.started(call_id=call.id, caller=caller, route="gsm")

    def waiting(self, number: str) -> None:
        """A second mobile caller while the GSM line is in use (loop thread).

        The modem releases it (the caller hears busy); the box logs a busy
        call and puts a caller with a number on the callback list.
        """
        self.c.records.turned_away(self._caller(number), "", "gsm", 486, "the GSM line was in use")

    def _caller(self, number: str) -> str:
        """The modem's caller ID as the call log keeps it (E.164, else as given, else anonymous)."""
        return normalize_caller(number, self.c.cfg.clinic.country) or (number or "anonymous")

    def _turn_away(self, caller: str, code: int, why: str) -> None:
        """Reject the modem's ringing call; the caller lands on the callback list."""
        if self.modem is not None:
            self.modem.hangup()
        self.c.records.turned_away(caller, "", "gsm", code, why)

    # -- outgoing -------------------------------------------------------------------------
    def reserve(self) -> None:
        if not self.available:
            raise SwitchboardError("the GSM line is not available (modem or gateway down)")
        assert self.modem is not None  # available says so
        if not self.modem.failover.reserve_voice():
            raise CapacityError("the GSM line is busy (one call at a time)")

    # -- both ---------------------------------------------------------------------------------
    def leg_confirmed(self, call: ActiveCall) -> None:
        """The gateway answered its leg."""
        gsm = call.gsm
        if gsm is None:  # routed "gsm" by a SIP header, not placed by this line: handled as outgoing
            gsm = call.gsm = GsmState("out")
        if gsm.direction == "in":
            assert self.modem is not None  # the call came from the modem
            future = self.modem.answer()
            future.add_done_callback(lambda f: self.c.loop.submit(self._answered_in, call, f.exception()))
        elif not gsm.dialed:
            gsm.dialed = True
            try:
                if self.modem is None:
                    raise SwitchboardError("no GSM modem")
                future = self.modem.dial(call.callee)
            except Exception as exc:  # ModemBusyError and friends: say why, end the leg
                log.warning("GSM dial failed: %s", exc)
                call.fail_outcome = "failed"
                self.c.end_call(call, "box")
                return
            future.add_done_callback(lambda f: self.c.loop.submit(self._dial_taken, call, f.exception()))

    def _answered_in(self, call: ActiveCall, error: BaseException | None) -> None:
        if call.ended:
            return
        if error is not None:
            log.warning("the modem did not answer the GSM call: %s", error)
            self.c.end_call(call, "box")
            return
        call.no_sip_answer = True  # our leg is the outgoing one to the gateway
        self.c.greet(call)

    def _dial_taken(self, call: ActiveCall, error: BaseException | None) -> None:
        if error is not None and not call.ended:
            log.warning("the modem refused to dial: %s", error)
            call.fail_outcome = "failed"
            self.c.end_call(call, "box")

    def modem_state(self, state: str, reason: str) -> None:
        """``modem.call.state`` (loop thread): far-end answer and hang-up."""
        call = next((c for c in self.c.calls.values() if c.route == "gsm" and not c.ended), None)
        log.info(
            "GSM call state %s%s%s",
            state,
            f" ({reason})" if reason else "",
            f" for call {call.id[:8]}" if call else " (no call of ours)",
        )
        if call is None:
            return
        if state == "active" and call.direction == "outbound" and not call.answered:
            self.c.outbound.answered(call)
        elif state == "idle":
            if not call.answered:
                call.fail_outcome = _FAIL.get(reason, "failed")
            self.c.end_call(call, "caller" if call.answered else "far-end")

    def ended(self, call: ActiveCall) -> None:
        """The switchboard is done with a GSM call: free the modem's line."""
        if self.modem is None:
            return
        if self.modem.call_state().state != "idle":
            self.modem.hangup()
        if call.direction == "outbound":
            self.modem.failover.release_voice()
