"""Time for everything that reads time, and whether that time can be trusted.

A Raspberry Pi has no real-time clock: after a power cut it boots with the
time it last saved (or 1970) until NTP or the mobile network tells it
otherwise. Code that acts on wall-clock time (reminder calls, business
hours) asks :meth:`Clock.trusted` first, and everything takes a ``Clock``
argument so tests can run a week of schedule in milliseconds with
:class:`FakeClock`.

Example:
    >>> clock = FakeClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    >>> clock.advance(3600)
    >>> clock.now().hour
    1
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

#: No ClinicBox build exists before this date; a clock earlier than it is
#: certainly wrong (a Pi booted without network time).
EARLIEST_PLAUSIBLE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TimeSync:
    """Why the box believes (or doubts) its clock."""

    trusted: bool
    source: str  # "ntp", "gsm", "manual", "simulated", "none"
    detail: str


class Clock(Protocol):
    """What every time-dependent component is given."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps, for timeouts and durations."""
        ...

    def sync_state(self) -> TimeSync:
        """Whether :meth:`now` may be acted on (dial patients, etc.)."""
        ...


class SystemClock:
    """The real clock, with time-sync detection from the kernel.

    The kernel clears ``STA_UNSYNC`` once NTP (chrony, systemd-timesyncd)
    disciplines the clock; systemd-timesyncd also touches
    ``/run/systemd/timesync/synchronized``. Either counts as NTP sync. A
    network time from the GSM modem (NITZ / ``AT+CCLK``) can be offered with
    :meth:`offer_network_time` when NTP is unreachable.

    Args:
        assume_synced: treat the clock as trusted regardless (simulation and
            development machines whose clock is managed by the host).
    """

    _STA_UNSYNC = 0x0040
    #: How long a look at the kernel's NTP state is reused by :meth:`now`.
    NTP_RECHECK_S = 10.0
    #: A network time older than this is not used to correct the clock.
    NETWORK_TIME_MAX_AGE_S = 24 * 3600.0

    def __init__(self, assume_synced: bool = False, ntp_synced: Callable[[], bool] | None = None) -> None:
        self._assume_synced = assume_synced
        self._ntp_synced = ntp_synced or _ntp_synced
        self._lock = threading.Lock()
        self._network_time: tuple[datetime, float] | None = None
        self._ntp_seen: tuple[bool, float] = (False, -1e9)

    def now(self) -> datetime:
        """The system clock, or the mobile network's time when NTP is absent and the two disagree.

        A Pi that boots after a power cut without internet has a clock that is
        hours or years off; the core (which owns the modem) then runs on the
        network's time so that reminders, business hours and call records use
        the real time. The system clock itself is left to NTP.
        """
        system = datetime.now(UTC)
        if self._assume_synced or self._network_time is None:
            return system
        corrected = self._network_now()
        if corrected is None or abs((corrected - system).total_seconds()) <= 60 or self._ntp_now():
            return system
        return corrected

    def _network_now(self) -> datetime | None:
        with self._lock:
            network = self._network_time
        if network is None:
            return None
        age = time.monotonic() - network[1]
        if age > self.NETWORK_TIME_MAX_AGE_S:
            return None
        return network[0] + timedelta(seconds=age)

    def _ntp_now(self) -> bool:
        synced, checked = self._ntp_seen
        mono = time.monotonic()
        if mono - checked > self.NTP_RECHECK_S:
            synced = self._ntp_synced()
            self._ntp_seen = (synced, mono)
        return synced

    def monotonic(self) -> float:
        return time.monotonic()

    def offer_network_time(self, network_now: datetime) -> None:
        """Record a time reported by the mobile network (NITZ/+CCLK).

        If NTP has not synchronised the system clock and it differs from the
        network by more than a minute, :meth:`now` follows the network time
        (kept with the monotonic clock) and the clock counts as trusted.
        """
        with self._lock:
            self._network_time = (network_now.astimezone(UTC), time.monotonic())

    def sync_state(self) -> TimeSync:
        if self._assume_synced:
            return TimeSync(True, "simulated", "clock trusted by configuration (clock.assume_synced)")
        system = datetime.now(UTC)
        if self._ntp_now():  # cached: the core's status snapshot asks often, on the PJSUA2 thread
            if system < EARLIEST_PLAUSIBLE:
                return TimeSync(False, "none", f"system clock reads {system:%Y-%m-%d}, before this software existed")
            return TimeSync(True, "ntp", "kernel clock disciplined by NTP")
        net_now = self._network_now()
        if net_now is not None and net_now >= EARLIEST_PLAUSIBLE:
            skew = abs((net_now - system).total_seconds())
            if skew <= 60:
                return TimeSync(True, "gsm", f"mobile network time agrees within {skew:.0f} s")
            return TimeSync(
                True, "gsm", f"system clock is {skew:.0f} s off and NTP is unreachable: following mobile network time"
            )
        if system < EARLIEST_PLAUSIBLE:
            return TimeSync(False, "none", f"system clock reads {system:%Y-%m-%d}, before this software existed")
        return TimeSync(False, "none", "no NTP sync and no mobile network time yet")


def _ntp_synced() -> bool:
    """NTP (chrony, systemd-timesyncd) has synchronised the system clock."""
    return _kernel_ntp_synced() or Path("/run/systemd/timesync/synchronized").exists()


def _kernel_ntp_synced() -> bool:
    """Ask the kernel (adjtimex) whether NTP has synchronised the clock."""

    class Timex(ctypes.Structure):
        _fields_ = [
            ("modes", ctypes.c_uint),
            ("offset", ctypes.c_long),
            ("freq", ctypes.c_long),
            ("maxerror", ctypes.c_long),
            ("esterror", ctypes.c_long),
            ("status", ctypes.c_int),
            ("constant", ctypes.c_long),
            ("precision", ctypes.c_long),
            ("tolerance", ctypes.c_long),
            ("time_sec", ctypes.c_long),
            ("time_usec", ctypes.c_long),
            ("tick", ctypes.c_long),
            ("ppsfreq", ctypes.c_long),
            ("jitter", ctypes.c_long),
            ("shift", ctypes.c_int),
            ("stabil", ctypes.c_long),
            ("jitcnt", ctypes.c_long),
            ("calcnt", ctypes.c_long),
            ("errcnt", ctypes.c_long),
            ("stbcnt", ctypes.c_long),
            ("tai", ctypes.c_int),
            ("_pad", ctypes.c_int * 11),
        ]

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    # TIME_ERROR (5) means unsynchronised.
    return state != 5 and not (tx.status & SystemClock._STA_UNSYNC)


class FakeClock:
    """A clock that moves only when told to; for tests and benchmarks."""

    def __init__(self, start: datetime | None = None, trusted: bool = True) -> None:
        self._now = (start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)).astimezone(UTC)
        self._mono = 1000.0
        self._trusted = trusted
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, when: datetime) -> None:
        with self._lock:
            delta = (when.astimezone(UTC) - self._now).total_seconds()
            self._now = when.astimezone(UTC)
            self._mono += max(delta, 0.0)

    def set_trusted(self, trusted: bool) -> None:
        self._trusted = trusted

    def sync_state(self) -> TimeSync:
        if self._trusted:
            return TimeSync(True, "simulated", "fake clock")
        return TimeSync(False, "none", "fake clock marked untrusted")
