"""A modem's voice serial port as two PCM streams, with a bounded jitter buffer.

SIMCom and Huawei modems carry a call's voice as raw PCM (8 kHz, 16-bit LE
mono, 320-byte frames every 20 ms) on a USB serial port. The GSM gateway's
audio port (:mod:`appliance.station.pcmport`) is driven by PJMEDIA's clock
thread, which must never wait for a device: so the serial reads and writes
happen here, on two threads of their own, and the clock thread only takes a
frame from (:meth:`SerialPcm.pull`) and gives one to (:meth:`SerialPcm.push`)
bounded buffers. Nothing here touches PJSUA2.

The jitter buffer holds at most ``depth`` frames: on overflow the oldest
frame goes (latency stays bounded), on underrun the clock gets silence and
playing resumes once ``prefill`` frames are back. A port that vanishes (the
modem re-enumerates, a cable is pulled) sets :attr:`SerialPcm.gone` with the
reason; the gateway's loop thread then ends the call.

Example:
    >>> pcm = SerialPcm("/dev/ttyUSB4")   # doctest: +SKIP
    >>> pcm.open()                        # doctest: +SKIP
    >>> frame = pcm.pull()                # 320 bytes, silence until PCM arrives  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import termios
import threading
import tty
from collections import deque

from appliance.errors import StationError
from appliance.station.voiceroute import PCM_FRAME_BYTES

log = logging.getLogger(__name__)

SILENCE = bytes(PCM_FRAME_BYTES)
_GONE_ERRNOS = (errno.EIO, errno.ENXIO, errno.ENODEV, errno.EBADF)


class SerialPcm:
    """One voice serial port, open for the length of one call.

    Args:
        path: the device (checked by :func:`~appliance.station.voiceroute.acceptable_port`).
        depth: jitter buffer size in 20 ms frames, each way.
        prefill: frames buffered before the received voice plays (after an underrun too).
    """

    def __init__(self, path: str, *, depth: int = 8, prefill: int = 2) -> None:
        self.path = path
        self.depth = depth
        self.prefill = prefill
        self._fd = -1
        self._rx: deque[bytes] = deque(maxlen=depth)
        self._rx_lock = threading.Lock()
        self._rx_partial = bytearray()
        self._playing = False
        self._tx: queue.Queue[bytes] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.gone = threading.Event()
        self.gone_reason = ""
        self.frames_in = 0
        self.frames_out = 0
        self.underruns = 0
        self.dropped = 0

    # -- lifecycle (the gateway's loop thread) ------------------------------------------
    def open(self) -> None:
        """Open the port raw and start its reader and writer threads.

        Raises:
            StationError: the port cannot be opened.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            raise StationError(f"cannot open the modem's voice port {self.path}: {exc.strerror}") from None
        try:
            tty.setraw(fd)
        except termios.error as exc:
            os.close(fd)
            raise StationError(f"{self.path} is not a serial port: {exc}") from None
        self._fd = fd
        for name, target in (("gsm-pcm-read", self._read_loop), ("gsm-pcm-write", self._write_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("GSM voice: serial PCM on %s", self.path)

    def close_soon(self) -> None:
        """Stop at once and close on a helper thread: the caller (the gateway's
        PJSUA2 thread) must not wait for the reader and writer to notice."""
        self._stop.set()
        threading.Thread(target=self.close, name="gsm-pcm-close", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._threads.clear()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        log.info(
            "GSM voice port closed: %d frames in, %d out, %d underruns, %d dropped",
            self.frames_in,
            self.frames_out,
            self.underruns,
            self.dropped,
        )

    def _vanished(self, why: str) -> None:
        if not self.gone.is_set():
            self.gone_reason = why
            self.gone.set()
            log.warning("GSM voice port %s vanished: %s", self.path, why)

    # -- the PJMEDIA clock thread: never blocks ----------------------------------------
    def pull(self) -> bytes:
        """The next received frame for the call, or silence."""
        with self._rx_lock:
            if not self._playing and len(self._rx) >= self.prefill:
                self._playing = True
            if self._playing and self._rx:
                return self._rx.popleft()
            if self._playing:
                self._playing = False
                self.underruns += 1
        return SILENCE

    def push(self, pcm: bytes) -> None:
        """A frame of the call's audio for the modem (the oldest is dropped when full)."""
        if self.gone.is_set():
            return
        try:
            self._tx.put_nowait(pcm)
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                self._tx.get_nowait()
            self.dropped += 1
            with contextlib.suppress(queue.Full):
                self._tx.put_nowait(pcm)

    # -- the serial threads ----------------------------------------------------------------
    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self._fd, 4096)
            except BlockingIOError:
                continue
            except (OSError, ValueError) as exc:
                self._vanished(str(getattr(exc, "strerror", "") or exc))
                return
            if not data:
                self._vanished("end of file")
                return
            self._take(data)

    def _take(self, data: bytes) -> None:
        self._rx_partial += data
        while len(self._rx_partial) >= PCM_FRAME_BYTES:
            frame = bytes(self._rx_partial[:PCM_FRAME_BYTES])
            del self._rx_partial[:PCM_FRAME_BYTES]
            with self._rx_lock:
                if len(self._rx) == self._rx.maxlen:
                    self.dropped += 1  # the deque drops the oldest
                self._rx.append(frame)
                self.frames_in += 1

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._tx.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                os.write(self._fd, frame)
                self.frames_out += 1
            except BlockingIOError:
                self.dropped += 1  # the modem does not take it now: the frame is lost, not queued
            except OSError as exc:
                if exc.errno in _GONE_ERRNOS:
                    self._vanished(exc.strerror or str(exc))
                    return
                raise
