"""The baseline for bench.calls: the least a PJSUA2 program can do for an IVR caller.

    python -m bench.raw_ivr --port 5090 --prompt greeting.wav --music music.wav [--max-calls 256]

Same binding and media settings as the box (8 kHz bridge, null sound
device, one thread polling with ``libHandleEvents``): answer every call,
play the prompt, and on the digit 0 switch the caller to one shared looping
music player. No IVR engine, queue, call log or store: what the box spends
beyond this is its own overhead. Prints ``ready`` when it listens; runs
until SIGTERM, then prints ``calls=N digits=M`` and exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

import pjsua2 as pj


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, app: App, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        self.app = app
        self.prompt: Any = None
        self.media: Any = None

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for i, mi in enumerate(info.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(i)
                self.prompt = pj.AudioMediaPlayer()
                self.prompt.createPlayer(self.app.prompt, pj.PJMEDIA_FILE_NO_LOOP)
                self.prompt.startTransmit(self.media)

    def onDtmfDigit(self, prm: Any) -> None:
        self.app.digits += 1
        if prm.digit == "0" and self.media is not None:
            self.prompt = None  # freed: one player per caller at most
            self.app.music.startTransmit(self.media)

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.app.gone.append(self)


class Account(pj.Account):  # type: ignore[misc]
    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app

    def onIncomingCall(self, prm: Any) -> None:
        call = Call(self.app, self, prm.callId)
        self.app.calls[prm.callId] = call
        self.app.count += 1
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)


class App:
    def __init__(self, args: argparse.Namespace) -> None:
        self.prompt = args.prompt
        self.calls: dict[int, Call] = {}
        self.gone: list[Call] = []
        self.count = self.digits = 0
        self.running = True
        ep = self.ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = args.max_calls
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        med = cfg.medConfig
        med.clockRate = med.sndClockRate = 8000
        med.channelCount = 1
        med.noVad = True
        med.ecTailLen = 0
        med.maxMediaPorts = 3 * args.max_calls + 2
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = args.port
        tcfg.boundAddress = "127.0.0.1"
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:ivr@127.0.0.1:{args.port}"
        acfg.mediaConfig.transportConfig.port = args.rtp_port
        acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        self.account = Account(self)
        self.account.create(acfg, True)
        self.music = pj.AudioMediaPlayer()
        try:
            self.music.createPlayer(args.music, 0)
        except pj.Error as exc:
            raise SystemExit(f"cannot play {args.music}: {exc.info()}") from None

    def run(self) -> None:
        print("ready", flush=True)
        while self.running:
            self.ep.libHandleEvents(10)
            while self.gone:
                call = self.gone.pop()
                self.calls.pop(call.getId(), None)
        print(f"calls={self.count} digits={self.digits}", flush=True)
        self.ep.hangupAllCalls()
        self.calls.clear()
        self.gone.clear()
        self.music = None
        self.ep.libDestroy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rtp-port", type=int, default=40000)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--music", required=True)
    ap.add_argument("--max-calls", type=int, default=256)
    app = App(ap.parse_args())

    def stop(*_: Any) -> None:
        app.running = False

    signal.signal(signal.SIGTERM, stop)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
