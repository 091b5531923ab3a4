"""A desk phone's attended transfer: REFER with ``Replaces`` on a queue call, on the PJSUA2 thread.

The front desk puts the caller on hold, calls a colleague's station (an internal
call, :mod:`.intercom`), talks to them, then presses transfer: the phone sends a
REFER on the caller's leg whose Refer-To carries ``?Replaces=<Call-ID of the
internal call>;to-tag=..;from-tag=..``. The box is the other end of both
dialogs, so it does the replacing itself: the colleague's leg of the internal
call becomes the queue call's agent leg (the ACD puts that station on the call,
:meth:`Acd.connect_direct`, and the first one wraps up), the caller is bridged
to it, the internal call's leg to the transferring phone ends, and the phone is
told "SIP/2.0 200 OK" by NOTIFY (:mod:`.phonexfer`). The call log and queue
events read as after a blind transfer to that station.

Any: 0.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pjsua2 as pj

from appliance.errors import SwitchboardError, ValidationError
from appliance.switchboard import cdr

if TYPE_CHECKING:
    from appliance.switchboard.deskcalls import DeskCallHost
    from appliance.switchboard.intercom import Intercom
    from appliance.switchboard.legs import Leg

log = logging.getLogger(__name__)


def replaces_call_id(refer_to: str) -> str:
    """The Call-ID a Refer-To's ``Replaces`` header names ("" without one)."""
    text = refer_to.strip().strip("<>")
    _, _, headers = text.partition("?")
    for part in headers.split("&"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "replaces":
            return unquote(value).split(";", 1)[0].strip()
    return ""


class AttendedTransfer:
    """Joins a queue caller to the station a phone consulted on an internal call (loop thread)."""

    def __init__(self, controller: DeskCallHost, intercom: Intercom) -> None:
        self.c = controller
        self.intercom = intercom

    def consulted(self, station: str, call_id: str) -> tuple[Leg, Leg] | None:
        """(the phone's internal-call leg at the box, the consulted station's leg) for the
        internal call with SIP ``call_id`` that ``station``'s phone placed, answered; else None."""
        for mine, other in self.intercom.peer.items():
            if mine.agent != station or mine in self.intercom.callee or mine.gone or other.gone:
                continue
            try:
                sip_call_id = str(mine.getInfo().callIdString)
            except pj.Error:
                continue
            if sip_call_id == call_id and other.state == pj.PJSIP_INV_STATE_CONFIRMED:
                return mine, other
        return None

    def complete(self, station: str, call_id: str, mine: Leg, other: Leg) -> None:
        """The queue call ``call_id`` moves from ``station`` to the consulted station's leg.

        Raises:
            SwitchboardError: the call or the consultation ended meanwhile, or the ACD refuses.
        """
        call = self.c.calls.get(call_id)
        target = other.agent or ""
        st, to = self.c.agents.stations.get(station), self.c.agents.stations.get(target)
        if call is None or call.ended or st is None or to is None or mine.gone or other.gone:
            raise SwitchboardError("the call or the consultation ended before the transfer")
        try:
            actions = self.c.acd.connect_direct(call.id, target, self.c.agents.queue_of(call))
        except ValidationError as exc:
            raise SwitchboardError(str(exc)) from exc
        self.intercom.peer.pop(mine, None)
        self.intercom.peer.pop(other, None)
        self.intercom.callee.discard(other)
        if mine.media is not None and other.media is not None:  # the internal call's own bridge
            for src, dst in ((mine.media, other.media), (other.media, mine.media)):
                try:
                    src.stopTransmit(dst)
                except pj.Error:
                    pass
        self.c.agents.drop_agent(st, call, end_leg=False)
        other.role, other.owner = "agent", call.id
        to.leg, to.call, to.direct = other, call.id, True
        self.c.run(actions, "acd")
        for who in (station, target):  # the internal call had paused both for the queues
            self.c.run(self.c.acd.unpause(who), "acd")
        self.c.agents.bridge(to, call)
        self.c.writer.db(cdr.queue_event(call.id, self.c.now(), call.queue or "", "transfer", station, {"to": target}))
        mine.end()  # replaced: the transferring phone's consultation leg ends
        log.info("%s's phone handed call %s to %s (attended)", station, call.id[:8], target)


__all__ = ["AttendedTransfer", "replaces_call_id"]
