"""The simulated modem on a pseudo-terminal, the way a USB modem appears.

:class:`PtySimulator` gives the simulator a real serial device
(``/dev/pts/N``), optionally symlinked at a stable path (like
``/dev/serial/by-id/...``). A power cycle (``AT+CFUN=1,1`` or
:meth:`usb_reset`) behaves like a USB modem re-enumerating: the device
disappears (the host's reads fail), and after a moment a *new* pty
appears, so the driver must find the modem again by identity, not by
its old device name.

Example:
    >>> sim = PtySimulator(link=tmp / "modem")      # doctest: +SKIP
    >>> path = sim.start()                            # doctest: +SKIP
    >>> sim.modem.inject_sms("+48601234567", "TAK")   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from appliance.modem.sim.simulator import ModemSimulator
from appliance.modem.sim.state import SERIAL_PCM_PROFILES
from appliance.modem.sim.voiceport import VoicePort

log = logging.getLogger(__name__)


class PtySimulator:
    """Runs a :class:`ModemSimulator` on a pty in a background thread.

    Args:
        modem: the simulated modem (a fresh EC25 by default).
        link: a symlink kept pointing at the current pty.
        reenumerate_s: how long the device is gone during a power cycle.
    """

    def __init__(
        self,
        modem: ModemSimulator | None = None,
        link: Path | None = None,
        reenumerate_s: float = 0.3,
    ) -> None:
        self.modem = modem or ModemSimulator()
        self.link = Path(link) if link else None
        self.reenumerate_s = reenumerate_s
        self._master = -1
        self._slave = -1
        self._path = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset_at: float | None = None
        self._off = False  # its supply is cut (a GPIO-switched power line)
        self._changed = threading.Condition()
        self.generation = 0
        self.on_reenumerated: Callable[[str], None] | None = None
        self.modem.on_power_cycle = self.usb_reset
        #: The call-PCM port of the SIMCom and Huawei profiles (None for the others).
        self.voice: VoicePort | None = None
        if self.modem.state.profile in SERIAL_PCM_PROFILES:
            voice_link = self.link.with_name(self.link.name + "-voice") if self.link is not None else None
            self.voice = VoicePort(self.modem, link=voice_link)

    @property
    def path(self) -> str:
        """The current device (changes after every power cycle)."""
        return self._path

    def start(self) -> str:
        """Create the pty, boot the modem, return the device path."""
        self._open_pty()
        if self.voice is not None:
            self.voice.start()
        self.modem.power_on()
        self._thread = threading.Thread(target=self._loop, name="modem-simulator", daemon=True)
        self._thread.start()
        return self._path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_pty()
        if self.voice is not None:
            self.voice.stop()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                if self.link.is_symlink():
                    self.link.unlink()

    def usb_reset(self) -> None:
        """Power-cycle the modem: the device vanishes, then a new one appears."""
        with self._changed:
            self._reset_at = time.monotonic()
        self.modem.detach()

    def set_power(self, on: bool) -> None:
        """The modem's supply, as a GPIO-switched power line drives it: off, the
        device is gone until power returns; on, it enumerates and cold-boots
        (which clears even a hang that a USB reset cannot)."""
        if not on:
            with self._changed:
                if self._off:
                    return
                self._off = True
                self._reset_at = time.monotonic()
            self.modem.detach()
            return
        self.modem.cold_boot()
        with self._changed:
            self._off = False
            self._changed.notify_all()

    @property
    def powered(self) -> bool:
        return not self._off

    def wait_for_generation(self, generation: int, timeout: float = 5.0) -> str:
        """Block until the pty was re-created ``generation`` times; return its path."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation >= generation and self._reset_at is None, timeout)
        return self._path

    # -- pty handling ---------------------------------------------------------------------
    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._path = os.ttyname(slave)
        if self.link is not None:
            self.link.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.link.with_name(self.link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._path)
            os.replace(tmp, self.link)
        self.modem.attach(self._write)
        log.info("simulated modem on %s", self._path)

    def _close_pty(self) -> None:
        self.modem.detach()
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _write(self, data: bytes) -> None:
        fd = self._master
        if fd < 0:
            return
        try:
            os.write(fd, data)
        except BlockingIOError:
            log.debug("nobody reads the simulated modem; %d bytes dropped", len(data))
        except OSError as exc:
            if exc.errno not in (errno.EIO, errno.EBADF):
                raise

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = min(self.modem.tick(), 0.05)
            if self._reset_at is not None:
                self._do_reset()
                continue
            if self._master < 0:
                time.sleep(wait)
                continue
            try:
                ready, _, _ = select.select([self._master], [], [], wait)
            except (OSError, ValueError):
                continue
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # no host has the device open right now
                    time.sleep(0.05)
                    continue
                raise
            if data:
                self.modem.feed(data)

    def _do_reset(self) -> None:
        self._close_pty()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        time.sleep(self.reenumerate_s)
        with self._changed:
            while self._off and not self._stop.is_set():
                self._changed.wait(0.1)
        self._open_pty()
        with self._changed:
            self._reset_at = None
            self.generation += 1
            self._changed.notify_all()
        self.modem.power_on()
        if self.on_reenumerated is not None:
            self.on_reenumerated(self._path)
