"""The front desk: stations (headsets, desk phones) and their call legs.

A station is one of:

* a ClinicBox station program (a headset on the box or a front-desk PC):
  it announces itself with signed heartbeats; the core rings it with a
  signed ``ring`` command (manual mode: the console rings and the agent
  accepts) or calls it straight away (auto mode: a short tone, then the
  caller); it answers only the core's signed INVITEs;
* a plain SIP desk phone with a static ``contact``: the core calls it and
  the phone rings like any phone.

The ACD decides who rings; this module makes it happen and reports back.

Any: 2, both a verified station message (JSON) and its view (JSON).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pjsua2 as pj

from appliance import acd as A
from appliance.errors import SwitchboardError
from appliance.ivr import IvrAction
from appliance.station import protocol as P
from appliance.switchboard import cdr
from appliance.switchboard.capacity import PJ_ETOOMANY
from appliance.switchboard.hosts import LegHost
from appliance.switchboard.legs import Leg, Messenger
from appliance.switchboard.state import ActiveCall
from appliance.switchboard.timers import TimerHandle

if TYPE_CHECKING:
    from appliance.switchboard.outbound import Outbound
    from appliance.switchboard.sounds import CallSounds
    from appliance.switchboard.voicemail import Voicemail

log = logging.getLogger(__name__)
RECHECK_PHONE_S = 30.0
#: The GSM gateway announces itself like a station but is a line, not an agent.
GATEWAY_STATION = "gsm"


class NotRinging(SwitchboardError):
    code = "not-ringing"


@dataclass(eq=False)
class Station:
    id: str
    name: str
    password: str
    kind: str  # program, phone
    answer_mode: str
    contact: str = ""
    reachable: bool = False
    audio_ok: bool = False
    detail: str = ""
    last_seen: float = 0.0
    messenger: Messenger | None = None
    leg: Leg | None = None  # the one leg this station has (ringing or talking)
    ringing: str | None = None  # call id offered to this station
    call: str | None = None  # call id it talks to
    last_call: str | None = None
    direct: bool = False  # a transfer or callback leg, not rung by the ACD
    seen: bool = False  # it appeared once (and so logged the agent in)
    down_at: float | None = None  # a desk phone found unreachable: when (to try it again later)
    record: bool = False  # record the call it is being connected to
    ring_timer: TimerHandle | None = None  # a direct (transfer, callback) leg's ring limit
    retired: bool = False  # removed from the config: keeps its call, then is forgotten (.live)
    edge: bool = False  # a desk phone registered at the SIP edge: the core calls it through the edge


class DeskHost(LegHost, Protocol):
    """What the agent desk uses of the controller (its legs report to it too)."""

    dirty: bool

    @property
    def acd(self) -> A.Acd: ...
    @property
    def sounds(self) -> CallSounds: ...
    @property
    def voicemail(self) -> Voicemail: ...
    @property
    def outbound(self) -> Outbound: ...
    def soon(self, fn: Callable[[], None]) -> None: ...
    def run(self, actions: Iterable[IvrAction | A.AcdAction], owner: str) -> None: ...
    def front_desk_queue(self) -> str: ...


class AgentDesk:
    def __init__(self, controller: DeskHost) -> None:
        self.c = controller
        cfg = controller.cfg
        self.stations: dict[str, Station] = {}
        self.gateway: Station | None = None
        for sid, st in cfg.stations.items():
            if sid == GATEWAY_STATION:
                self.gateway = Station(
                    id=sid,
                    name="GSM gateway",
                    password=st.password,
                    kind="program",
                    answer_mode="auto",
                    contact=st.contact,
                )
                continue
            self.stations[sid] = Station(
                id=sid,
                name=st.name or sid,
                password=st.password,
                kind="phone" if st.contact else "program",
                answer_mode=st.answer_mode,
                contact=st.contact,
            )
        self.nonces = P.NonceCache()

    # -- presence -------------------------------------------------------------------
    def start(self) -> None:
        for st in self.stations.values():
            if st.kind == "phone":
                self._up(st, "static contact")

    def _up(self, st: Station, why: str) -> None:
        """A station (re)appears. Only its first appearance logs the agent in: one
        that vanished (PC asleep) comes back as it was, so an agent who logged
        out is not rung at an empty desk."""
        if st.reachable:
            return
        st.reachable = True
        log.info("station %s is up (%s)", st.id, why)
        self.c.run(self.c.acd.station_up(st.id), "acd")
        if not st.seen:
            st.seen = True
            self.c.run(self.c.acd.login(st.id), "acd")
        self.c.notify.agents.station(station=st.id, reachable=True)

    def _down(self, st: Station, why: str) -> None:
        if not st.reachable:
            return
        st.reachable = False
        log.warning("station %s is unavailable (%s)", st.id, why)
        self.c.run(self.c.acd.station_down(st.id), "acd")
        self.c.notify.agents.station(station=st.id, reachable=False)

    def on_message(self, source: str, content_type: str, body: str) -> None:
        if content_type.split(";")[0].strip().lower() != P.CONTENT_TYPE:
            return
        known = [*self.stations.values(), *([self.gateway] if self.gateway else [])]
        secrets = {s.id: s.password for s in known if s.password}
        try:
            data = P.verify_message(body, secrets, nonces=self.nonces)
        except P.StationAuthError as exc:
            log.warning("station message from %s refused: %s", source.rsplit(":", 1)[0], exc)
            return
        if data.get("kind") != "heartbeat":
            return
        if self.gateway is not None and data["station"] == GATEWAY_STATION:
            self._gateway_heartbeat(data)
            return
        st = self.stations[str(data["station"])]
        if st.retired:
            return
        st.last_seen = time.monotonic()
        st.audio_ok = bool(data.get("audio"))
        st.detail = str(data.get("detail", ""))
        contact = str(data.get("contact", ""))
        if contact and contact != st.contact:
            st.contact = contact
            st.messenger = None
        self.c.dirty = True
        if data.get("state") == "down":
            self._down(st, "the station signed off")
        else:
            self._up(st, "heartbeat")

    def _gateway_heartbeat(self, data: dict[str, Any]) -> None:
        gw = self.gateway
        assert gw is not None
        gw.last_seen = time.monotonic()
        gw.audio_ok, gw.detail = bool(data.get("audio")), str(data.get("detail", ""))
        gw.contact = str(data.get("contact", "")) or gw.contact
        up = data.get("state") != "down"
        if up != gw.reachable:
            gw.reachable = up
            log.info("GSM gateway %s (%s)", "up" if up else "down", gw.detail or "audio ok")
            self.c.notify.gsm.gateway(reachable=up, audio=gw.audio_ok, detail=gw.detail)
        self.c.outbound.gsm_uri = gw.contact if up else None
        self.c.dirty = True

    def tick(self) -> None:
        now = time.monotonic()
        gw = self.gateway
        if gw is not None and gw.reachable and now - gw.last_seen > P.STALE_AFTER_S:
            self._gateway_heartbeat({"state": "down", "audio": False, "detail": "no heartbeat", "contact": gw.contact})
        for st in self.stations.values():
            if st.kind == "program" and st.reachable and now - st.last_seen > P.STALE_AFTER_S:
                self._down(st, "no heartbeat")
            if (
                st.kind == "phone"
                and not st.reachable
                and st.down_at is not None
                and now - st.down_at > RECHECK_PHONE_S
            ):
                self._up(st, "retrying the desk phone")

    def edge_registrations(self, registered: Iterable[str], edge_uri: str) -> None:
        """The SIP edge's registrar says which stations' desk phones are registered.

        A station with no static contact and no station program becomes a
        desk phone reached at ``sip:<id>@<edge>`` while registered there.
        """
        now = set(registered)
        for st in self.stations.values():
            if st.id in now and not st.edge and not (st.kind == "program" and st.reachable):
                st.kind, st.edge, st.contact, st.down_at = "phone", True, f"sip:{st.id}@{edge_uri}", None
                st.audio_ok, st.detail = True, "desk phone registered at the SIP edge"
                self._up(st, "registered at the SIP edge")
            elif st.edge and st.id not in now:
                st.kind, st.edge, st.contact, st.detail = "program", False, "", "desk phone not registered"
                self._down(st, "its desk phone is no longer registered at the SIP edge")
        self.c.dirty = True

    # -- ACD actions ------------------------------------------------------------------
    def execute(self, a: A.RingAgent | A.CancelRing | A.ConnectAgent) -> None:
        if isinstance(a, A.RingAgent):
            self._ring(a)
        elif isinstance(a, A.CancelRing):
            self._cancel(a.call_id, a.agent)
        elif isinstance(a, A.ConnectAgent):
            self._connect(a.call_id, a.agent, a.record)

    def _ring(self, a: A.RingAgent) -> None:
        st = self.stations.get(a.agent)
        call = self.c.calls.get(a.call_id)
        if st is None or call is None or call.ended:
            return
        if st.leg is not None or not st.reachable or not st.contact or st.retired:
            self.c.soon(lambda: self.c.run(self.c.acd.agent_declined(a.call_id, a.agent), "acd"))
            return
        st.ringing, st.direct = a.call_id, False
        self.c.notify.agents.ringing(
            station=st.id,
            call_id=a.call_id,
            caller=call.caller,
            queue=a.queue,
            patient_id=call.patient_id,
        )
        if st.kind == "program" and st.answer_mode == "manual":
            self.command(st, "ring", a.call_id)
        else:
            self.invite(st, a.call_id, "auto")

    def _cancel(self, call_id: str, agent: str) -> None:
        st = self.stations.get(agent)
        if st is None or st.ringing != call_id:
            return
        st.ringing = None
        if st.kind == "program" and st.answer_mode == "manual":
            self.command(st, "stop-ring", call_id)
        if st.leg is not None and st.call is None:
            st.leg.end()
        self.c.notify.agents.ring_cancelled(station=st.id, call_id=call_id)

    def _connect(self, call_id: str, agent: str, record: bool) -> None:
        st = self.stations.get(agent)
        call = self.c.calls.get(call_id)
        if st is None or call is None or call.ended:
            return
        st.ringing = None
        st.call = call_id
        st.record = record
        if st.leg is not None and st.leg.owner == call_id and st.leg.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.bridge(st, call)
        elif st.leg is None:  # a callback: the agent was reserved, not rung
            self.invite(st, call_id, "accepted")

    # -- legs --------------------------------------------------------------------------------
    def invite(self, st: Station, call_id: str, answer: str) -> None:
        leg = self.c.track(Leg(self.c, self.c.local, role="agent", owner=call_id, agent=st.id))
        st.leg = leg
        prm = pj.CallOpParam(True)
        if st.kind == "program":
            headers = pj.SipHeaderVector()
            for name, value in ((P.AUTH_HEADER, P.invite_token(st.id, st.password)), (P.ANSWER_HEADER, answer)):
                h = pj.SipHeader()
                h.hName, h.hValue = name, value
                headers.append(h)
            prm.txOption.headers = headers
        try:
            leg.makeCall(st.contact, prm)
        except pj.Error as exc:
            st.leg = None
            leg.gone = True
            self.c.legs.discard(leg)
            busy = exc.status == PJ_ETOOMANY  # every line in use: not the station's fault
            log.warning("cannot call station %s: %s", st.id, "every line is in use" if busy else exc.reason)
            if st.call == call_id:
                self.c.soon(lambda: self._not_connected(st, call_id, 0, station_fault=not busy))
            elif busy:
                self.c.soon(lambda: self.c.run(self.c.acd.agent_declined(call_id, st.id), "acd"))
            else:
                self.c.soon(lambda: self._failed(st, call_id))
            return
        if st.call == call_id:  # a transfer or a callback's agent: no ACD ring timer covers it
            call = self.c.calls.get(call_id)
            if call is not None:
                call.agent_leg = leg  # a caller who hangs up stops the station ringing
            seconds = float(self.c.cfg.queues[self.queue_of(call)].ring_timeout_s)
            st.ring_timer = self.c.loop.later(seconds, lambda: self._rang_out(st, leg, seconds))

    def _rang_out(self, st: Station, leg: Leg, seconds: float) -> None:
        if st.leg is leg and not leg.gone and leg.state != pj.PJSIP_INV_STATE_CONFIRMED:
            log.warning("station %s did not answer within %.0f s", st.id, seconds)
            leg.end()  # → leg_gone → the caller goes back to the queue

    def _stop_ring_timer(self, st: Station) -> None:
        timer, st.ring_timer = st.ring_timer, None
        if timer is not None:
            timer.cancel()

    def queue_of(self, call: ActiveCall | None) -> str:
        queue = call.queue if call is not None else None
        return queue if queue is not None and queue in self.c.cfg.queues else self.c.front_desk_queue()

    def leg_media(self, leg: Leg) -> None:
        st = self.stations.get(leg.agent or "")
        if st is not None and st.call == leg.owner and leg.state == pj.PJSIP_INV_STATE_CONFIRMED:
            call = self.c.calls.get(leg.owner)
            if call is not None and call.state != "held":
                self.bridge(st, call)

    def leg_confirmed(self, leg: Leg) -> None:
        st = self.stations.get(leg.agent or "")
        if st is None or st.leg is not leg:
            leg.end()
            return
        self._stop_ring_timer(st)
        call = self.c.calls.get(leg.owner)
        if call is None or call.ended:
            leg.end()
            return
        if st.ringing == leg.owner:
            self.c.run(self.c.acd.agent_answered(leg.owner, st.id), "acd")  # → ConnectAgent → bridge
        elif st.call == leg.owner:
            self.bridge(st, call)

    def leg_gone(self, leg: Leg, code: int) -> None:
        st = self.stations.get(leg.agent or "")
        if st is None or st.leg is not leg:
            return
        st.leg = None
        self._stop_ring_timer(st)
        call_id = leg.owner
        if st.call == call_id:
            call = self.c.calls.get(call_id)
            if call is not None and not call.ended and call.agent != st.id:
                self._not_connected(st, call_id, code)  # failed or rang out before it was bridged
                return
            st.call, st.last_call = None, call_id  # the agent's side of a conversation ended
            if call is not None and not call.ended:
                self.c.end_call(call, "agent")
            return
        if st.ringing == call_id:
            st.ringing = None
            self._failed(st, call_id, code)

    def _not_connected(self, st: Station, call_id: str, code: int, *, station_fault: bool = True) -> None:
        """The station never came on the line for a call it was connected to.

        Without this the caller would hear music until the maximum call
        duration, and the ACD would keep the agent on-call.
        """
        if st.call != call_id:
            return
        st.call = None
        if st.kind == "phone" and station_fault and code in (0, 408, 503):
            st.down_at = time.monotonic()
            self._down(st, f"desk phone did not answer the INVITE ({code or 'no route'})")
        call = self.c.calls.get(call_id)
        if call is None or call.ended:
            return
        if call.agent_leg is not None and call.agent_leg.gone:
            call.agent_leg = None
        if call.console is not None and call.console.station == st.id:  # a console callback for this station alone
            self.c.end_call(call, "agent")
            return
        log.warning("station %s did not take call %s (%s): back to the front of the queue", st.id, call_id[:8], code)
        call.state = "queued"
        self.c.run(
            self.c.acd.connect_failed(
                call_id,
                st.id,
                self.queue_of(call),
                number=call.caller if call.caller.startswith("+") else "",
                language=call.language or "en",
            ),
            "acd",
        )

    def _failed(self, st: Station, call_id: str, code: int = 0) -> None:
        if st.kind == "phone" and code in (0, 408, 503):
            st.down_at = time.monotonic()
            self._down(st, f"desk phone did not answer the INVITE ({code or 'no route'})")
        self.c.run(self.c.acd.agent_declined(call_id, st.id), "acd")

    def bridge(self, st: Station, call: ActiveCall) -> None:
        leg = st.leg
        if leg is None or leg.media is None or call.leg.media is None:
            return
        if call.direction == "outbound" and not call.answered:
            return  # a call the agent placed: connect when the far end answers, not before
        self.c.sounds.stop(call)
        self.c.sounds.music_off(call)
        call.leg.media.startTransmit(leg.media)
        leg.media.startTransmit(call.leg.media)
        first = call.agent != st.id or call.state != "held"
        call.state, call.agent, call.agent_leg = "talking", st.id, leg
        st.last_call = call.id
        if first:
            self.c.notify.agents.connected(station=st.id, call_id=call.id, caller=call.caller)
            if call.direction == "outbound":  # a callback: no queue wait recorded it
                self.c.writer.db(cdr.update(call.id, agent=st.id, agent_answered_at=self.c.now()))
            if st.record:
                st.record = False
                self.c.voicemail.record_call(call, st.id)
        self.c.dirty = True

    def unbridge(self, st: Station, call: ActiveCall) -> None:
        leg = st.leg
        if leg is None or leg.media is None or call.leg.media is None:
            return
        for src, dst in ((call.leg.media, leg.media), (leg.media, call.leg.media)):
            try:
                src.stopTransmit(dst)
            except pj.Error:
                pass

    def drop_agent(self, st: Station, call: ActiveCall, *, end_leg: bool = True) -> None:
        """``end_leg`` False: the phone's leg stays up (a REFER's NOTIFYs still to send)."""
        self.unbridge(st, call)
        st.call, st.last_call = None, call.id
        leg, st.leg = st.leg, None
        call.agent_leg, call.agent = None, None
        if leg is not None and end_leg:
            leg.end()

    def command(self, st: Station, cmd: str, call_id: str) -> None:
        if not st.contact:
            return
        try:
            if st.messenger is None:
                st.messenger = Messenger(self.c.local, st.contact)
            st.messenger.send(P.CONTENT_TYPE, P.command(st.id, st.password, cmd, call_id))
        except pj.Error as exc:
            log.warning("cannot send %s to station %s: %s", cmd, st.id, exc.reason)

    def get(self, station: str) -> Station:
        st = self.stations.get(station)
        if st is None:
            raise SwitchboardError(f"unknown station {station!r}; known: {', '.join(sorted(self.stations))}")
        return st

    def talking(self, station: str) -> tuple[Station, ActiveCall]:
        st = self.get(station)
        call = self.c.calls.get(st.call or "")
        if call is None or call.ended:
            raise SwitchboardError(f"{st.name} is not on a call")
        return st, call

    def view(self) -> dict[str, dict[str, Any]]:
        return {
            st.id: {
                "reachable": st.reachable,
                "audio": st.audio_ok,
                "kind": st.kind,
                "mode": st.answer_mode,
                "detail": st.detail,
                "ringing": st.ringing,
                "call": st.call,
                "leg": st.leg is not None,
            }
            for st in self.stations.values()
        }
