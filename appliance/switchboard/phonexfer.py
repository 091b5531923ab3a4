"""A desk phone's transfer key (REFER) on a queue call: blind or attended, on the PJSUA2 thread.

:meth:`PhoneTransfer.refer` runs inside PJSUA2's ``onCallTransferRequest`` (the
loop thread, within ``libHandleEvents``) and returns the REFER's status.
The Refer-To's user names another station, a queue or an outside number; the
box connects the caller itself through the console's transfer
(:meth:`AgentConsole.transfer`: ring the station, back into the queue, or out
through the trunk with :meth:`Outbound.dial`) and writes the same ``transfer``
queue event as the console. A Refer-To with ``Replaces`` (an attended transfer:
the phone consulted a colleague on an internal call first) joins the caller to
that colleague's leg (:mod:`.attended`); a Replaces the box does not know is 481,
and if the join fails the phone keeps the caller and hears a 503 sipfrag.

With the ClinicBox engine (patch 0003, ``PJSUA_CALL_XFER_BY_APP``) the REFER is
answered **202 Accepted** and PJSUA sends the NOTIFY "SIP/2.0 100 Trying"
without placing a call of its own; the phone's leg stays up while the box
connects the caller, and :class:`_Watch` then sends the final NOTIFY
(message/sipfrag): "200 OK" when the station or the number answered (a queue
takes the caller at once), else the failure ("480", the target's own code, or
"487" when the caller hung up). The phone hangs up after the 200 (RFC 5589);
the box ends the leg a moment after a failure NOTIFY (the caller is back in the
queue). An engine without the flag would place its own call on a 2xx, so
there the REFER is answered 603 as before (the box's BYE follows). A target
the box cannot reach is refused at once: 404 (unknown) or 486 (station busy or
unavailable), and the caller goes back into the call's queue rather than being
lost (baresip 1.0 ends its call after any refusal). A second REFER while the
first has no final NOTIFY yet is answered 491 Request Pending (RFC 3515), and
the first goes on.

Any: 0.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pjsua2 as pj

from appliance import sip
from appliance.errors import SwitchboardError, ValidationError
from appliance.store.phones import normalize
from appliance.switchboard.attended import AttendedTransfer, replaces_call_id

if TYPE_CHECKING:
    from appliance.switchboard.deskcalls import DeskCallHost
    from appliance.switchboard.intercom import Intercom
    from appliance.switchboard.legs import Leg

log = logging.getLogger(__name__)

#: PJSUA's "the application carries out this transfer" flag (patch 0003); None on an older engine.
XFER_BY_APP: int | None = getattr(pj, "PJSUA_CALL_XFER_BY_APP", None)
DONE_BY_BOX = 603  # an engine without XFER_BY_APP: never 2xx, PJSUA2 would place its own call
ACCEPTED = 202
WATCH_EVERY_S = 0.2
WATCH_LIMIT_S = 150.0  # longer than any ring limit: the NOTIFY says 408 after that
BYE_AFTER_S = 1.0  # the phone's own BYE normally follows a 200 NOTIFY before this
#: The final NOTIFY never follows the first ("100 Trying") sooner than this: Kamailio's worker
#: processes at the edge may forward two back-to-back NOTIFYs out of order, and a phone that
#: sees the final one first refuses the "100 Trying" after it (its subscription is over).
FINAL_NOTIFY_GAP_S = 0.3


class PhoneTransfer:
    """Transfers from a desk phone's own key (loop thread)."""

    def __init__(self, controller: DeskCallHost, intercom: Intercom) -> None:
        self.c = controller
        self.attended = AttendedTransfer(controller, intercom)

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
        """The phone's REFER: the status to answer it with (202 when the box reports by NOTIFY)."""
        station = leg.agent or ""
        if leg.xfer_pending:  # RFC 3515: one REFER at a time; the first one's NOTIFYs go on
            log.warning("%s's phone sent a second transfer while its first is pending: 491", station or "?")
            return 491
        call = self.c.calls.get(leg.owner)
        if leg.role != "agent" or call is None or call.ended or call.agent_leg is not leg:
            log.warning("refused a transfer (REFER) from %s's phone: only a queue call transfers", station or "?")
            return 501
        notify = XFER_BY_APP is not None
        replaced = replaces_call_id(refer_to)
        if replaced:  # an attended transfer: to the station this phone is talking to
            found = self.attended.consulted(station, replaced)
            if found is None:
                log.warning("%s's phone transfers to a call the box does not know (Replaces)", station)
                return 481
            self.c.soon(lambda: self._attended(leg, station, call.id, *found, notify=notify))
            leg.xfer_pending = notify
            return ACCEPTED if notify else DONE_BY_BOX
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
        self.c.soon(lambda: self._transfer(leg, station, call.id, kind, target, notify=notify))
        leg.xfer_pending = notify
        return ACCEPTED if notify else DONE_BY_BOX

    def _transfer(self, leg: Leg, station: str, call_id: str, kind: str, target: str, *, notify: bool) -> None:
        try:
            self.c.console.transfer(
                station,
                to_station=target if kind == "station" else None,
                to_queue=target if kind == "queue" else None,
                to_number=target if kind == "number" else None,
                keep_leg=notify,
            )
        except SwitchboardError as exc:
            log.warning("transfer from %s's phone failed (%s): the caller goes back to the queue", station, exc)
            self._requeue(station, call_id, keep_leg=notify)
            if notify:
                _Watch.finish(self.c, leg, 480)
            return
        if notify:
            self.c.loop.later(FINAL_NOTIFY_GAP_S, _Watch(self.c, leg, call_id, kind, target).check)

    def _attended(self, leg: Leg, station: str, call_id: str, mine: Leg, other: Leg, *, notify: bool) -> None:
        try:
            self.attended.complete(station, call_id, mine, other)
        except SwitchboardError as exc:  # the phone keeps the caller (on hold) and may try again
            log.warning("attended transfer from %s's phone failed: %s", station, exc)
            if notify:
                self.c.loop.later(FINAL_NOTIFY_GAP_S, lambda: _Watch.finish(self.c, leg, 503, end=False))
            return
        if notify:
            self.c.loop.later(FINAL_NOTIFY_GAP_S, lambda: _Watch.finish(self.c, leg, 200))
        else:
            leg.end()

    def _requeue(self, station: str, call_id: str, *, keep_leg: bool = False) -> None:
        call = self.c.calls.get(call_id)
        queue = (call.queue if call is not None else None) or next(iter(self.c.cfg.queues), None)
        if call is None or call.ended or queue is None:
            return
        try:
            self.c.console.transfer(station, to_station=None, to_queue=queue, to_number=None, keep_leg=keep_leg)
        except SwitchboardError as exc:
            log.warning("could not put call %s back in the queue: %s", call_id[:8], exc)


class _Watch:
    """Follows one accepted transfer until it has an outcome, then sends the final NOTIFY."""

    def __init__(self, controller: DeskCallHost, leg: Leg, call_id: str, kind: str, target: str) -> None:
        self.c, self.leg, self.call_id, self.kind, self.target = controller, leg, call_id, kind, target
        st = self.c.agents.stations.get(target) if kind == "station" else None
        call = self.c.calls.get(call_id)
        self.target_leg = st.leg if st is not None else (call.transfer.leg if call and call.transfer else None)
        self.left = WATCH_LIMIT_S

    def outcome(self) -> int:
        """The final status once there is one, else 0."""
        call = self.c.calls.get(self.call_id)
        if call is None or call.ended:
            return 487  # the caller hung up first
        if self.kind == "queue":
            return 200  # the caller waits in that queue now: the transfer is done
        if self.kind == "station" and call.agent == self.target and call.state == "talking":
            return 200
        if self.kind == "number" and call.transferred:
            return 200
        if self.target_leg is None or self.target_leg.gone:
            code = self.target_leg.code if self.target_leg is not None else 0
            return code if code >= 300 and code != 487 else 480  # 487: the box gave up ringing
        return 0

    def check(self) -> None:
        if self.leg.gone:
            return  # the phone hung up: its subscription ended without a NOTIFY (patch 0003)
        code = self.outcome() or (408 if self.left <= 0 else 0)
        if code:
            self.finish(self.c, self.leg, code)
            return
        self.left -= WATCH_EVERY_S
        self.c.loop.later(WATCH_EVERY_S, self.check)

    @staticmethod
    def finish(controller: DeskCallHost, leg: Leg, code: int, *, end: bool = True) -> None:
        """The final NOTIFY (sipfrag ``SIP/2.0 <code> ...``), then the phone's leg ends (``end``)."""
        leg.xfer_pending = False  # the phone may transfer again (after a failure that keeps its leg)
        if leg.gone:
            return
        try:
            leg.xferNotify(code)
            log.info("told %s's phone its transfer ended %d", leg.agent or "?", code)
        except pj.Error as exc:
            log.warning("cannot send the transfer's NOTIFY to %s's phone: %s", leg.agent or "?", exc.reason)
        if end:
            controller.loop.later(BYE_AFTER_S, leg.end)


__all__ = ["PhoneTransfer"]
