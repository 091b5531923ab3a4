"""The simulated modem's voice serial port: a second pty carrying call PCM.

SIMCom SIM7600 and Huawei sticks put a call's voice on their own USB serial
port as raw PCM (8 kHz, 16-bit little-endian mono, 320 bytes every 20 ms).
:class:`VoicePort` is that port for the simulator: every 20 ms, while the
simulated modem says the voice flows (:meth:`ModemSimulator.voice_route` is
``"serial"``: a connected call *and* the family's step ``AT+CPCMREG=1`` /
``AT^DDSETEX=2``), it writes one frame of the far end's voice (a steady
tone) and measures what the host writes back; otherwise it sends nothing
and discards what comes in, as the real port does.

Tests read :meth:`reading` (also over the control socket, ``{"cmd":
"voice"}``) and pull the port out mid-call with :meth:`unplug`.
"""

from __future__ import annotations

import array
import contextlib
import errno
import logging
import math
import os
import select
import threading
import time
import tty
from pathlib import Path

from appliance.modem.sim.simulator import ModemSimulator
from appliance.station.voiceroute import PCM_FRAME_BYTES, PCM_RATE

log = logging.getLogger(__name__)

FRAME_S = 0.02
#: The far end's voice: a 600 Hz tone at about -10 dBFS.
TONE_HZ = 600
TONE_LEVEL = 10000
#: A received frame whose peak reaches this (about -36 dBFS) is not silence.
LOUD_PEAK = 500


def tone_frame(phase: int) -> bytes:
    """One 20 ms frame of the tone, starting at sample ``phase``."""
    n = PCM_FRAME_BYTES // 2
    samples = array.array(
        "h", (int(TONE_LEVEL * math.sin(2 * math.pi * TONE_HZ * (phase + i) / PCM_RATE)) for i in range(n))
    )
    return samples.tobytes()


def frame_peak(data: bytes) -> int:
    samples = array.array("h", data[: len(data) - len(data) % 2])
    return max((abs(s) for s in samples), default=0)


class VoicePort:
    """The voice pty of one simulated modem (started and stopped with its AT pty).

    Args:
        modem: whose call decides whether voice flows.
        link: a symlink kept pointing at the pty (like ``/dev/serial/by-id``).
    """

    def __init__(self, modem: ModemSimulator, link: Path | None = None) -> None:
        self.modem = modem
        self.link = link
        self.path = ""
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._rx = bytearray()
        self.sent_frames = 0
        self.heard_frames = 0
        self.loud_frames = 0

    def start(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.path)
            os.replace(tmp, self.link)
        self._thread = threading.Thread(target=self._loop, name="modem-sim-voice", daemon=True)
        self._thread.start()
        log.info("simulated modem voice port on %s", self.path)
        return self.path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                if self.link.is_symlink():
                    self.link.unlink()

    def unplug(self) -> None:
        """The port vanishes (USB trouble): the host's reads and writes fail from now on."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close()

    def reading(self) -> dict[str, float]:
        """Seconds of PCM sent to the host, received from it, and received that were not silence."""
        with self._lock:
            return {
                "sent_s": round(self.sent_frames * FRAME_S, 2),
                "heard_s": round(self.heard_frames * FRAME_S, 2),
                "loud_s": round(self.loud_frames * FRAME_S, 2),
            }

    # -- the 20 ms clock -------------------------------------------------------------
    def _close(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _loop(self) -> None:
        phase = 0
        due = time.monotonic()
        while not self._stop.is_set():
            wait = max(0.0, due - time.monotonic())
            with contextlib.suppress(OSError, ValueError):
                ready, _, _ = select.select([self._master], [], [], wait)
                if ready:
                    self._take(os.read(self._master, 4096))
            if time.monotonic() < due:
                continue
            due += FRAME_S
            if due < time.monotonic() - 0.2:
                due = time.monotonic()  # fell far behind (a loaded machine): no burst to catch up
            if self.modem.voice_route() != "serial":
                continue
            try:
                os.write(self._master, tone_frame(phase))
            except BlockingIOError:
                continue  # nobody reads: the frame is lost, as on a real port
            except OSError as exc:
                if exc.errno not in (errno.EIO, errno.EBADF):
                    raise
                continue
            phase = (phase + PCM_FRAME_BYTES // 2) % PCM_RATE
            with self._lock:
                self.sent_frames += 1

    def _take(self, data: bytes) -> None:
        """What the host wrote: measured while the voice flows, else discarded."""
        if self.modem.voice_route() != "serial":
            self._rx.clear()
            return
        self._rx += data
        while len(self._rx) >= PCM_FRAME_BYTES:
            frame, self._rx = bytes(self._rx[:PCM_FRAME_BYTES]), self._rx[PCM_FRAME_BYTES:]
            with self._lock:
                self.heard_frames += 1
                if frame_peak(frame) >= LOUD_PEAK:
                    self.loud_frames += 1
