"""The provider over TLS, with or without SRTP: one PJSUA2 process, one call.

Call mode — the provider calls the box:
``python -m tests.integration.sip.peers.tls_caller --uri URI --cert C --key K
--ca BOX_CERT --srtp mandatory|disabled [--hold 3]``. It verifies the box's
certificate against ``--ca`` (the box's self-signed one) and places one call.

Answer mode — the box calls the provider (an IP-authenticated TLS trunk):
``... --answer --cert C --key K --ca CA``. It listens for TLS on a free port
on 127.0.0.1, prints ``{"event": "ready", "port": N}``, answers the first
call with 200 and hangs up after ``--hold`` seconds.

Either way it prints one JSON object when the call ends: the final status
code, the SDP offer and answer, PJSUA's SRTP verdict from the call dump, RTP
packets received, and (call mode) how long the call took to set up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import pjsua2 as pj


def _sdp(whole: str) -> str:
    return whole.split("\r\n\r\n", 1)[1] if "\r\n\r\nv=0" in whole else ""


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, account: Any, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.state = ""
        self.code = 0
        self.offer = ""
        self.answer_sdp = ""
        self.confirmed_at = 0.0
        self.error = ""

    def onCallTsxState(self, prm: Any) -> None:
        event = prm.e
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx = event.body.tsxState
        if tsx.type == pj.PJSIP_EVENT_RX_MSG:
            whole = str(tsx.src.rdata.wholeMsg)
        elif tsx.type == pj.PJSIP_EVENT_TX_MSG:
            whole = str(tsx.src.tdata.wholeMsg)
        else:
            return
        if whole.startswith("INVITE ") and _sdp(whole) and not self.offer:
            self.offer = _sdp(whole)
        elif whole.startswith("SIP/2.0 200") and _sdp(whole) and not self.answer_sdp:
            self.answer_sdp = _sdp(whole)

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        self.state = str(info.stateText)
        self.code = int(info.lastStatusCode)
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not self.confirmed_at:
            self.confirmed_at = time.monotonic()


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[_Call] = []

    def onIncomingCall(self, prm: Any) -> None:
        call = _Call(self, prm.callId)
        call.offer = _sdp(str(prm.rdata.wholeMsg))
        self.calls.append(call)
        answer = pj.CallOpParam(True)
        answer.statusCode = 200
        try:
            call.answer(answer)
        except pj.Error as exc:
            call.error = f"answer failed: {exc.info()}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", default="")
    ap.add_argument("--answer", action="store_true")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--srtp", choices=("disabled", "mandatory"), default="mandatory")
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    out = os.dup(1)
    os.dup2(2, 1)  # pjlib's banner and logs go to stderr; stdout carries the JSON lines
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 3
    cfg.logConfig.consoleLevel = 3
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    tls = tcfg.tlsConfig
    tls.method = pj.PJSIP_TLSV1_2_METHOD
    tls.certFile, tls.privKeyFile, tls.CaListFile = args.cert, args.key, args.ca
    tls.verifyServer = True
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = "sip:+12125550199@localhost"
    acc_cfg.sipConfig.transportId = tid
    acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    if args.srtp == "mandatory":
        acc_cfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
        acc_cfg.mediaConfig.srtpSecureSignaling = 1
    else:
        acc_cfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_DISABLED
    account = _Account()
    account.create(acc_cfg)
    started = time.monotonic()
    if args.answer:
        port = int(ep.transportGetInfo(tid).localName.rpartition(":")[2])
        os.write(out, (json.dumps({"event": "ready", "port": port}) + "\n").encode())
        while not account.calls and time.monotonic() < started + args.timeout:
            ep.libHandleEvents(10)
        if not account.calls:
            os.write(out, (json.dumps({"event": "result", "code": 0, "state": "no call"}) + "\n").encode())
            os._exit(0)
        call = account.calls[0]
        started = time.monotonic()
    else:
        call = _Call(account)
        call.makeCall(args.uri, pj.CallOpParam(True))
    result: dict[str, Any] = {"event": "result"}
    deadline = started + args.timeout
    hung = False
    while time.monotonic() < deadline and call.state != "DISCONNCTD":
        ep.libHandleEvents(10)
        if call.confirmed_at and not hung and time.monotonic() - call.confirmed_at > args.hold:
            result["dump"] = str(call.dump(True, "  "))
            result["rx_packets"] = int(call.getStreamStat(0).rtcp.rxStat.pkt)
            result["code_confirmed"] = call.code
            call.hangup(pj.CallOpParam(True))
            hung = True
    result.update(
        code=call.code,
        state=call.state,
        offer=call.offer,
        answer=call.answer_sdp,
        error=call.error,
        setup_ms=round((call.confirmed_at - started) * 1000) if call.confirmed_at and not args.answer else None,
    )
    for _ in range(50):
        ep.libHandleEvents(10)
    os.write(out, (json.dumps(result) + "\n").encode())
    sys.stdout.flush()
    os._exit(0)  # skip libDestroy: the result is out; the process ends here


if __name__ == "__main__":
    raise SystemExit(main())
