"""Calls a desk phone places with its own keys: its dial plan, on the PJSUA2 thread.

The SIP edge challenges a desk phone's INVITE (digest per station, the same
lockout as REGISTER) and passes it to the core with the authenticated
station's id in :data:`STATION_HEADER`, a header the edge strips from every
request it receives first. The core believes that header only on a request
from the edge's own address and port (:meth:`DeskCalls.station_of`); any
other INVITE is a caller for the IVR as before.

The dial plan: a national or +E.164 number (checked with phonenumbers
against ``clinic.country``) goes out like a callback, through the trunk or
the GSM line when the trunk is down (:meth:`Outbound.dial`, presenting
``trunk.caller_id``), and is bridged to the phone's leg B2BUA-style when the
patient answers. Emergency numbers of the clinic's country are always
allowed and never refused for want of a free line. Another station's id is
an internal call (:mod:`.intercom`).

The phone's hold key (a re-INVITE with sendonly/inactive, seen as PJSUA's
remote hold) puts the caller on the music on hold and the call in state
``held`` in the console, on a queue call (as the console's hold button) and
on its own calls alike; its resume key brings the two back together.

The phone's leg has role ``desk``; the patient's is the call's own leg. The
call-log row: direction outbound, ``agent`` the station, ``callee`` the
number. Numbers are patient data: they are never logged.

Any: 0.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Protocol

from phonenumbers import shortnumberinfo

from appliance import acd as A
from appliance import sip
from appliance.errors import SwitchboardError, ValidationError
from appliance.store.phones import normalize
from appliance.switchboard import cdr
from appliance.switchboard.admission import Admission
from appliance.switchboard.hosts import LegHost
from appliance.switchboard.intercom import Intercom
from appliance.switchboard.legs import Leg
from appliance.switchboard.outbound import Outbound, outcome_of
from appliance.switchboard.phonexfer import PhoneTransfer
from appliance.switchboard.state import ActiveCall

if TYPE_CHECKING:
    from collections.abc import Iterable

    from appliance.ivr import IvrAction
    from appliance.switchboard.agents import AgentDesk
    from appliance.switchboard.console import AgentConsole
    from appliance.switchboard.sounds import CallSounds

log = logging.getLogger(__name__)

STATION_HEADER = "X-ClinicBox-Station"
_SEPARATORS = re.compile(r"[\s\-().]")
FAIL_CODES = {"busy": 486, "no-answer": 480, "declined": 603}


class DeskCallHost(LegHost, Protocol):
    """What a desk phone's own calls use of the controller."""

    dirty: bool

    @property
    def acd(self) -> A.Acd: ...
    @property
    def outbound(self) -> Outbound: ...
    @property
    def console(self) -> AgentConsole: ...
    @property
    def agents(self) -> AgentDesk: ...
    @property
    def sounds(self) -> CallSounds: ...
    def run(self, actions: Iterable[IvrAction | A.AcdAction], owner: str) -> None: ...


def classify(dialled: str, region: str, stations: Iterable[str]) -> tuple[str, str]:
    """What a desk phone dialled: ("station", id), ("emergency", digits) or ("number", E.164).

    Raises:
        ValidationError: neither (the message never repeats the digits).
    """
    text = _SEPARATORS.sub("", dialled or "")
    if text in set(stations):
        return "station", text
    if text.isdigit() and shortnumberinfo.is_emergency_number(text, region):
        return "emergency", text
    if text.startswith("+") or text.isdigit():
        return "number", normalize(text, region)
    raise ValidationError("not a phone number or an extension")


class DeskCalls:
    """A desk phone's outgoing calls (loop thread)."""

    def __init__(self, controller: DeskCallHost) -> None:
        self.c = controller
        self.intercom = Intercom(controller)  # station-to-station calls
        self.xfer = PhoneTransfer(controller, self.intercom)  # the phone's transfer key on a queue call

    def station_of(self, source: str, request: sip.SipMessage | None) -> str | None:
        """The station the edge vouches for, when ``request`` came from the edge itself; else None."""
        if request is None or not self.c.cfg.edge.enabled:
            return None
        value = request.header(STATION_HEADER).strip()
        if not value:
            return None
        host = Admission.host_of(source)
        port = source.rsplit(":", 1)[-1]
        edge_hosts = {"127.0.0.1", self.c.cfg.sip.bind_address}
        if host not in edge_hosts or port != str(self.c.cfg.sip.port):
            log.warning("ignored a station header from %s: only the SIP edge may send one", host)
            return None
        return value

    def incoming(self, leg: Leg, station: str, request: sip.SipMessage) -> None:
        """The edge passed an authenticated desk phone's INVITE: place its call."""
        leg.role, leg.agent, leg.owner = "desk", station, ""
        if station not in self.c.cfg.stations:
            log.warning("a desk-phone call from unknown station %r refused", station[:32])
            self.c.soon(lambda: leg.end(403, "Forbidden"))
            return
        region = self.c.cfg.clinic.country
        try:
            kind, target = classify(sip.uri_user(request.uri or ""), region, self.c.cfg.stations)
        except ValidationError as exc:
            log.info("%s dialled something the box cannot call: %s", station, exc)
            self.c.soon(lambda: leg.end(484, "Address Incomplete"))
            return
        if kind == "station":
            self.intercom.call(leg, station, target)
            return
        try:
            call = self.c.outbound.dial(
                target,
                purpose="patient",
                on_answer=self._answered,
                emergency=kind == "emergency",
            )
        except SwitchboardError as exc:
            log.warning("%s could not call out: %s", station, exc)
            self.c.soon(lambda: leg.end(480, "No Line Out"))  # (a 503 would reach the phone as 500)
            return
        leg.owner = call.id
        call.agent, call.agent_leg = station, leg
        self.c.writer.db(cdr.update(call.id, agent=station))
        self.c.run(self.c.acd.pause(station, "outgoing call"), "acd")  # no queue call rings it meanwhile
        self.c.soon(lambda: leg.answer_with(180))
        log.info("%s calls out (%s) as call %s", station, kind, call.id[:8])

    def _answered(self, call: ActiveCall) -> None:
        leg = call.agent_leg
        if leg is not None and not leg.gone:
            leg.answer_with(200)
            self.bridge(call)

    def final_code(self, call: ActiveCall) -> int:
        """What the phone hears when the patient's leg ended first: busy, no answer... (0: a BYE)."""
        leg = call.agent_leg
        if leg is None or leg.role != "desk" or call.answered:
            return 0
        return FAIL_CODES.get(call.fail_outcome or outcome_of(call.leg.code), 503)

    def bridge(self, call: ActiveCall) -> None:
        """Both legs answered with media: connect them (idempotent)."""
        leg = call.agent_leg
        if call.state == "talking" or leg is None or leg.role != "desk" or not call.answered:
            return
        if leg.media is None or call.leg.media is None or leg.gone or call.ended:
            return
        call.leg.media.startTransmit(leg.media)
        leg.media.startTransmit(call.leg.media)
        call.state = "talking"
        self.c.writer.db(cdr.update(call.id, agent_answered_at=self.c.now()))
        self.c.dirty = True

    def leg_media(self, leg: Leg) -> None:
        if self.intercom.media(leg):
            return
        call = self.c.calls.get(leg.owner)
        if call is not None:
            self.bridge(call)

    def hold(self, leg: Leg, held: bool) -> None:
        """A desk phone's hold or resume key (its re-INVITE): the caller hears the music
        on hold (the shared music port) and the console shows the call held, then back."""
        call = self.c.calls.get(leg.owner)
        if call is None or call.ended or leg.gone:
            return
        if leg.role == "agent" and leg.agent is not None and call.agent_leg is leg:
            try:
                self.c.console.hold(leg.agent, held)  # a queue call: as the console's hold button
            except SwitchboardError as exc:
                log.info("hold from %s's phone ignored: %s", leg.agent, exc)
            return
        if leg.role != "desk" or call.agent_leg is not leg:
            return
        if held and call.state == "talking":
            for src, dst in ((call.leg.media, leg.media), (leg.media, call.leg.media)):
                if src is not None and dst is not None:
                    src.stopTransmit(dst)
            call.state, call.hold_since, call.music_file = "held", time.monotonic(), "builtin"
            self.c.sounds.music_on(call)
        elif not held and call.state == "held":
            self.c.sounds.music_off(call)
            call.hold_total += time.monotonic() - (call.hold_since or time.monotonic())
            call.hold_since, call.state = None, "answered"
            self.bridge(call)
        self.c.dirty = True

    def leg_gone(self, leg: Leg) -> None:
        """The phone hung up (or its leg was ended): the patient's leg ends too."""
        if self.intercom.gone(leg):
            return
        if leg.agent is not None and leg.agent in self.c.cfg.stations and leg.owner:
            self.c.run(self.c.acd.unpause(leg.agent), "acd")
        call = self.c.calls.get(leg.owner)
        if call is not None and not call.ended and call.agent_leg is leg:
            self.c.end_call(call, "agent")


__all__ = ["STATION_HEADER", "DeskCalls", "classify"]
