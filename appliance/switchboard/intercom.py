"""Internal calls: a desk phone dialling another station's id, on the PJSUA2 thread.

The box rings the station at its contact (a registered desk phone through the
edge, ``sip:<id>@127.0.0.1:<sip.port>``, or a station program's), answers the
dialling phone when the station answers and bridges the two legs B2BUA-style.
A station already on a call or ringing gets 486 back to the dialler, one not
reachable 480, one that rings ``sip.internal_ring_s`` (30 s) unanswered 480 too;
either side hanging up ends the other. Both stations are paused
for the queues while the call lasts. Internal calls have no call-log row and do
not show in the console (no patient involved).

Any: 0.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pjsua2 as pj

from appliance.switchboard.legs import Leg

if TYPE_CHECKING:
    from appliance.switchboard.deskcalls import DeskCallHost

log = logging.getLogger(__name__)

BUSY = 486
UNREACHABLE = 480


class Intercom:
    """Station-to-station calls from desk phones (loop thread)."""

    def __init__(self, controller: DeskCallHost) -> None:
        self.c = controller
        self.peer: dict[Leg, Leg] = {}  # each leg of an internal call → the other one
        self.callee: set[Leg] = set()  # the legs the box placed (to the dialled station)

    def busy(self, station: str) -> bool:
        return any(leg.agent == station for leg in self.peer)

    def call(self, leg: Leg, station: str, target: str) -> None:
        """``station``'s phone dialled ``target``'s id: ring it, or refuse (486/480)."""
        st = self.c.agents.stations.get(target)
        taken = st is None or st.leg is not None or st.call is not None or st.ringing is not None
        code = BUSY if taken or target == station or self.busy(target) else 0
        if st is None or not (st.reachable and st.contact):
            code = code or UNREACHABLE
        if code or st is None:
            log.info("%s dialled %s: %s", station, target, "busy" if code == BUSY else "unreachable")
            self.c.soon(lambda: leg.end(code))
            return
        out = self.c.track(Leg(self.c, self.c.local, role="desk", owner="", agent=target))
        try:
            out.makeCall(st.contact, pj.CallOpParam(True))
        except pj.Error as exc:
            out.gone = True
            self.c.legs.discard(out)
            log.warning("%s dialled %s: cannot ring it: %s", station, target, exc.reason)
            self.c.soon(lambda: leg.end(UNREACHABLE))
            return
        self.peer[leg], self.peer[out] = out, leg
        self.callee.add(out)
        for who in (station, target):
            self.c.run(self.c.acd.pause(who, "internal call"), "acd")
        self.c.soon(lambda: leg.answer_with(180))
        self.c.loop.later(float(self.c.cfg.sip.internal_ring_s), lambda: self._rang_out(out))
        log.info("%s calls %s", station, target)

    def _rang_out(self, out: Leg) -> None:
        if out in self.peer and not out.gone and out.state != pj.PJSIP_INV_STATE_CONFIRMED:
            log.info(
                "station %s did not answer an internal call within %d s", out.agent, self.c.cfg.sip.internal_ring_s
            )
            out.end()

    def media(self, leg: Leg) -> bool:
        """A leg's audio is up: answer the dialler once the station answered, then bridge.
        False: not an internal call's leg."""
        other = self.peer.get(leg)
        if other is None:
            return False
        if leg in self.callee and other.state != pj.PJSIP_INV_STATE_CONFIRMED:
            other.answer_with(200)
        if leg.media is not None and other.media is not None and not leg.gone and not other.gone:
            leg.media.startTransmit(other.media)
            other.media.startTransmit(leg.media)
        return True

    def gone(self, leg: Leg) -> bool:
        """One side hung up (or never answered): end the other. False: not an internal call's leg."""
        other = self.peer.pop(leg, None)
        if other is None:
            return False
        self.peer.pop(other, None)
        answered = leg.state == pj.PJSIP_INV_STATE_CONFIRMED or other.state == pj.PJSIP_INV_STATE_CONFIRMED
        callee = leg if leg in self.callee else other
        self.callee.discard(callee)
        for who in (leg.agent, other.agent):
            if who is not None:
                self.c.run(self.c.acd.unpause(who), "acd")
        if not other.gone:
            code = 0 if answered or other is callee else (BUSY if leg.code in (BUSY, 600) else UNREACHABLE)
            other.end(code)
        return True


__all__ = ["Intercom"]
