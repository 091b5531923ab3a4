"""Call legs and accounts: PJSUA2 objects whose callbacks only report.

A :class:`Leg` is one SIP call (the caller's, a station's, an outbound
one). Its callbacks run inside ``libHandleEvents`` and immediately hand
the event to the controller through ``loop.soon``; the controller decides.
The controller keeps every Leg referenced until it has processed the
DISCONNECTED state, because a Call Python forgets is destroyed under PJSUA2.

Any: 9, all pjsua2 objects (callback parameters, accounts, the call's AudioMedia).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import pjsua2 as pj

from appliance import sip
from appliance.switchboard.owned import LoopOwned

log = logging.getLogger(__name__)


class LegEvents(Protocol):
    """What the controller offers legs and accounts (called on the loop thread)."""

    def on_leg_state(self, leg: Leg, state: int, code: int, reason: str) -> None: ...

    def on_leg_media(self, leg: Leg) -> None: ...

    def on_leg_digit(self, leg: Leg, digit: str, method: int) -> None: ...

    def on_leg_hold(self, leg: Leg, held: bool) -> None: ...

    def on_leg_refer(self, leg: Leg, refer_to: str) -> int: ...

    def on_incoming(self, account: SbAccount, leg: Leg, source: str, request: sip.SipMessage | None) -> None: ...

    def on_message(self, source: str, content_type: str, body: str, from_uri: str) -> None: ...

    def on_reg_state(self, account: SbAccount, code: int, reason: str, active: bool) -> None: ...

    def soon(self, fn: Callable[[], None]) -> None: ...


class Leg(LoopOwned, pj.Call):  # type: ignore[misc]
    """One SIP call. ``role``: caller, agent, outbound, gateway."""

    def __init__(
        self,
        events: LegEvents,
        account: Any,
        call_id: int = pj.PJSUA_INVALID_ID,
        *,
        role: str,
        owner: str,
        agent: str | None = None,
    ) -> None:
        super().__init__(account, call_id)
        self.events = events
        self.role = role
        self.owner = owner  # the ActiveCall id this leg belongs to
        self.agent = agent
        self.media: Any = None
        self.state = pj.PJSIP_INV_STATE_NULL
        self.code = 0
        self.gone = False
        self.rx_packets = 0
        self.digit_at = 0.0
        self.rx_changed_at = 0.0
        self.remote_hold = False  # the far end holds (its re-INVITE said sendonly/inactive)
        self.xfer_pending = False  # a REFER from this phone was accepted and has no final NOTIFY yet

    def onCallState(self, prm: Any) -> None:
        try:
            info = self.getInfo()
        except pj.Error:
            return
        state, code, reason = info.state, info.lastStatusCode, info.lastReason
        self.events.soon(lambda: self.events.on_leg_state(self, state, code, reason))

    def onCallMediaState(self, prm: Any) -> None:
        try:
            info = self.getInfo()
        except pj.Error:
            return
        for index, media in enumerate(info.media):
            held = media.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD
            if media.type != pj.PJMEDIA_TYPE_AUDIO or not (held or media.status == pj.PJSUA_CALL_MEDIA_ACTIVE):
                continue
            if held != self.remote_hold:  # a phone's own hold or resume key
                self.remote_hold = held
                self.events.soon(partial(self.events.on_leg_hold, self, held))
            if not held:
                self.media = self.getAudioMedia(index)
                self.events.soon(lambda: self.events.on_leg_media(self))
            return

    def onCallTransferRequest(self, prm: Any) -> None:
        """A phone's transfer key (REFER): decided right here (the loop thread, inside
        libHandleEvents) because PJSUA2 reads the status back. A 2xx goes with the engine's
        PJSUA_CALL_XFER_BY_APP (patch 0003): the box transfers, PJSUA places no call of its
        own; the box's NOTIFYs report the outcome (see :mod:`.phonexfer`)."""
        try:
            code = self.events.on_leg_refer(self, str(prm.dstUri))
            if 200 <= code < 300:
                prm.opt.flag |= pj.PJSUA_CALL_XFER_BY_APP  # only ever 2xx on an engine that has it
            prm.statusCode = code
        except Exception:  # never let an error escape into PJSUA; refuse instead
            log.exception("a transfer (REFER) from %s's phone failed", self.agent or "?")
            prm.statusCode = 500

    def onDtmfDigit(self, prm: Any) -> None:
        digit, method = str(prm.digit), int(prm.method)
        self.digit_at = time.monotonic()  # for the DTMF-to-prompt measurement
        self.events.soon(lambda: self.events.on_leg_digit(self, digit, method))

    # -- helpers (loop thread) ------------------------------------------------
    def answer_with(self, code: int, reason: str = "") -> None:
        op = pj.CallOpParam()
        op.statusCode = code
        if reason:
            op.reason = reason
        try:
            self.answer(op)
        except pj.Error as exc:
            log.debug("answer %d failed: %s", code, exc.reason)

    def end(self, code: int = 0, reason: str = "") -> None:
        """Hang up (a final ``code`` for a call not yet answered)."""
        if self.gone:
            return
        op = pj.CallOpParam(True)
        if code:
            op.statusCode = code
        if reason:
            op.reason = reason
        try:
            self.hangup(op)
        except pj.Error as exc:
            log.debug("hangup failed: %s", exc.reason)

    def rx_count(self) -> int | None:
        """RTP packets received so far (for the inactivity timeout), or None."""
        try:
            stat = self.getStreamStat(0)
            return int(stat.rtcp.rxStat.pkt)
        except (pj.Error, AttributeError):
            return None


class SbAccount(LoopOwned, pj.Account):  # type: ignore[misc]
    """An account of the box: ``kind`` local (direct calls, stations) or trunk."""

    def __init__(self, events: LegEvents, kind: str) -> None:
        super().__init__()
        self.events = events
        self.kind = kind

    def onIncomingCall(self, prm: Any) -> None:
        leg = Leg(self.events, self, prm.callId, role="caller", owner="")
        source = str(prm.rdata.srcAddress)
        try:
            request = sip.parse(str(prm.rdata.wholeMsg).encode("utf-8", "replace"))
        except sip.SipParseError:
            request = None
        # Decide right away (we are inside the callback; the leg is referenced by the controller).
        self.events.on_incoming(self, leg, source, request)

    def onInstantMessage(self, prm: Any) -> None:
        source = str(prm.rdata.srcAddress)
        ctype, body, sender = str(prm.contentType), str(prm.msgBody), str(prm.fromUri)
        self.events.soon(lambda: self.events.on_message(source, ctype, body, sender))

    def onRegState(self, prm: Any) -> None:
        try:
            info = self.getInfo()
            active = bool(info.regIsActive)
        except pj.Error:
            active = False
        code, reason = int(prm.code), str(prm.reason)
        self.events.soon(lambda: self.events.on_reg_state(self, code, reason, active))


class Messenger(LoopOwned, pj.Buddy):  # type: ignore[misc]
    """Sends out-of-dialog MESSAGEs to one URI (a station's contact)."""

    def __init__(self, account: Any, uri: str) -> None:
        super().__init__()
        cfg = pj.BuddyConfig()
        cfg.uri = uri
        cfg.subscribe = False
        self.create(account, cfg)
        self.uri = uri

    def send(self, content_type: str, body: str) -> None:
        prm = pj.SendInstantMessageParam()
        prm.contentType = content_type
        prm.content = body
        self.sendInstantMessage(prm)
