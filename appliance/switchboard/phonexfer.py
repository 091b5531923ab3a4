"""A desk phone's transfer key (REFER) on a queue call: a blind transfer, on the PJSUA2 thread.

:meth:`PhoneTransfer.refer` runs inside PJSUA2's ``onCallTransferRequest`` (the
loop thread, within ``libHandleEvents``) and returns the REFER's final status.
The Refer-To's user names another station, a queue or an outside number; the
box connects the caller itself through the console's transfer
(:meth:`AgentConsole.transfer`: ring the station, back into the queue, or out
through the trunk with :meth:`Outbound.dial`), which also ends the phone's leg
and writes the same ``transfer`` queue event as the console.

PJSUA2 2.12 places the call itself on any 2xx answer to a REFER (its new call
would report to the phone's leg, and it would dial the phone's URI), so the
REFER is never answered 2xx: a transfer the box carries out is answered 603
(the phone then gets the box's BYE), a target the box cannot reach 404 (unknown)
or 486 (station busy or unavailable), and the caller goes back into the call's
queue rather than being lost (baresip 1.0 ends its call after any refusal).

Any: 0.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from appliance import sip
from appliance.errors import SwitchboardError, ValidationError
from appliance.store.phones import normalize

if TYPE_CHECKING:
    from appliance.switchboard.deskcalls import DeskCallHost
    from appliance.switchboard.legs import Leg

log = logging.getLogger(__name__)

DONE_BY_BOX = 603  # never 2xx: PJSUA2 would place its own call


class PhoneTransfer:
    """Blind transfers from a desk phone's own key (loop thread)."""

    def __init__(self, controller: DeskCallHost) -> None:
        self.c = controller

    def target(self, refer_to: str) -> tuple[str, str]:
        """("station", id), ("queue", id) or ("number", E.164) named by a Refer-To.

        Raises:
            ValidationError: none of those (the message never repeats the digits).
        """
        user = sip.uri_user(refer_to) or refer_to.strip()
        if user in self.c.cfg.stations:
            return "station", user
        if user in self.c.cfg.queues:
            return "queue", user
        text = user.replace("-", "").replace(" ", "")
        if text.startswith("+") or text.isdigit():
            return "number", normalize(text, self.c.cfg.clinic.country)
        raise ValidationError("not a station, a queue or a phone number")

    def refer(self, leg: Leg, refer_to: str) -> int:
        """The phone's REFER: the status to answer it with (never 2xx, see the module)."""
        station = leg.agent or ""
        call = self.c.calls.get(leg.owner)
        if leg.role != "agent" or call is None or call.ended or call.agent_leg is not leg:
            log.warning("refused a transfer (REFER) from %s's phone: only a queue call transfers", station or "?")
            return 501
        try:
            kind, target = self.target(refer_to)
        except ValidationError as exc:
            log.warning("%s's phone transfers to nowhere (%s): the caller goes back to the queue", station, exc)
            self.c.soon(lambda: self._requeue(station, call.id))
            return 404
        if kind == "station":
            st = self.c.agents.stations.get(target)
            if st is None or st.id == station or st.leg is not None or st.call is not None or not st.reachable:
                log.warning("%s's phone transfers to %s, busy or unavailable: the caller goes back", station, target)
                self.c.soon(lambda: self._requeue(station, call.id))
                return 486
        log.info("%s's phone transfers call %s to a %s", station, call.id[:8], kind)
        self.c.soon(lambda: self._transfer(station, call.id, kind, target))
        return DONE_BY_BOX

    def _transfer(self, station: str, call_id: str, kind: str, target: str) -> None:
        try:
            self.c.console.transfer(
                station,
                to_station=target if kind == "station" else None,
                to_queue=target if kind == "queue" else None,
                to_number=target if kind == "number" else None,
            )
        except SwitchboardError as exc:
            log.warning("transfer from %s's phone failed (%s): the caller goes back to the queue", station, exc)
            self._requeue(station, call_id)

    def _requeue(self, station: str, call_id: str) -> None:
        call = self.c.calls.get(call_id)
        queue = (call.queue if call is not None else None) or next(iter(self.c.cfg.queues), None)
        if call is None or call.ended or queue is None:
            return
        try:
            self.c.console.transfer(station, to_station=None, to_queue=queue, to_number=None)
        except SwitchboardError as exc:
            log.warning("could not put call %s back in the queue: %s", call_id[:8], exc)


__all__ = ["PhoneTransfer"]
