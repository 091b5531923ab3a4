"""Child process for test_port_teardown: builds and frees application audio ports.

``python -m tests.integration.station.teardown_child KIND MODE N``: KIND is
``meter`` (the test phones' LevelMeter) or ``capture`` (the switchboard's
voicemail FrameCapture); MODE is ``close`` (the port's close(), then the last
reference) or ``drop`` (the last reference only). Each round holds the GIL
through a media clock tick before freeing the port, so the clock thread is
waiting to call the port when its teardown starts: the race that crashed the
test phones in CI, made to happen every round instead of once in thousands.
Prints "freed N" and exits 0 when every port went cleanly.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pjsua2 as pj

from appliance.station.media import LevelMeter
from appliance.switchboard.media import FrameCapture


def make(kind: str) -> Any:
    if kind == "meter":
        return LevelMeter()
    return FrameCapture("teardown-capture", lambda chunk: None, chunk_bytes=320)


def main(kind: str, mode: str, rounds: int) -> int:
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    ep.libStart()
    tone = pj.ToneGenerator()
    tone.createToneGenerator(8000, 1)
    desc = pj.ToneDesc()
    desc.freq1, desc.freq2, desc.on_msec, desc.off_msec, desc.volume = 440, 0, 1000, 0, 0
    tones = pj.ToneDescVector()
    tones.append(desc)
    tone.play(tones, True)
    sys.setswitchinterval(1.0)  # this thread keeps the GIL until it blocks
    for _ in range(rounds):
        port = make(kind)
        tone.startTransmit(port)
        ep.libHandleEvents(30)  # the port receives frames
        end = time.monotonic() + 0.03  # hold the GIL across a 20 ms tick
        while time.monotonic() < end:
            pass
        if mode == "close":
            port.close()
        del port
    print("freed", rounds, flush=True)
    del tone
    ep.libDestroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
