"""What each status LED shows: a pure function of the box's state.

A receptionist reads the panel from across the room, so every state maps
to one distinct, slow-enough pattern:

======================  ==========================================
green steady            ready, idle
green slow blink        calls in progress
amber steady            callers waiting (all below the first threshold)
amber blinking          faster as the longest wait passes each threshold
red steady              no line: the trunk and the modem are both down
red blink               a fault needs a technician (store locked, disk
                        nearly full, clock unsynchronised)
blue steady             calls and SMS go over the GSM modem (fallback)
all chase               provisioning from a USB stick is running
green / red fast flash  the last provisioning run succeeded / failed
======================  ==========================================

Patterns are data (:class:`Pattern`); :func:`lit` says whether an LED is on
at a moment, so the driver, the tests and a simulated panel in the web UI
all agree on what the box shows.

Example:
    >>> snap = Snapshot(trunk="up", calls_in_progress=2)
    >>> show(snap, now=0.0, thresholds=(30, 60, 120))["green"].name
    'slow-blink'
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEDS = ("green", "amber", "red", "blue")

#: Seconds a provisioning run may claim to be running before the panel
#: stops chasing (a killed run must not leave the LEDs chasing forever).
PROVISIONING_STALE_S = 30 * 60


@dataclass(frozen=True)
class Pattern:
    """On for ``on_s``, off for ``off_s``, repeating; shifted by ``phase_s``.

    ``on_s == 0`` is off, ``off_s == 0`` is steady.
    """

    name: str
    on_s: float
    off_s: float
    phase_s: float = 0.0

    @property
    def period(self) -> float:
        return self.on_s + self.off_s


OFF = Pattern("off", 0.0, 1.0)
STEADY = Pattern("steady", 1.0, 0.0)
SLOW_BLINK = Pattern("slow-blink", 1.0, 1.0)
FAULT_BLINK = Pattern("fault-blink", 0.5, 0.5)
FLASH = Pattern("flash", 0.1, 0.1)
#: Amber beyond each wait threshold: faster and faster.
WAIT_BLINKS = (
    Pattern("wait-blink-1", 0.8, 0.8),
    Pattern("wait-blink-2", 0.4, 0.4),
    Pattern("wait-blink-3", 0.2, 0.2),
    Pattern("wait-blink-4", 0.1, 0.1),
)
CHASE_STEP_S = 0.15


def chase(index: int) -> Pattern:
    """The ``index``-th LED of a chase: one LED lit at a time, in order."""
    return Pattern("chase", CHASE_STEP_S, CHASE_STEP_S * (len(LEDS) - 1), CHASE_STEP_S * index)


@dataclass(frozen=True)
class Snapshot:
    """What the panel knows about the box, built from events.

    ``trunk``: ``up``, ``down`` or ``disabled`` (no trunk configured).
    ``modem``: ``up`` (registered), ``down`` or ``absent``.
    ``route``: ``trunk`` or ``gsm`` (where calls go now).
    ``provisioning``: ``idle``, ``running``, ``succeeded`` or ``failed``;
    ``provisioning_at`` is the monotonic time it entered that state.
    ``faults``: short names of conditions needing a technician.
    """

    trunk: str = "down"
    modem: str = "absent"
    route: str = "trunk"
    waiting: int = 0
    longest_wait_s: float = 0.0
    calls_in_progress: int = 0
    store_locked: bool = False
    faults: frozenset[str] = field(default_factory=frozenset)
    provisioning: str = "idle"
    provisioning_at: float = 0.0

    @property
    def has_line(self) -> bool:
        return self.trunk == "up" or self.modem == "up"

    @property
    def all_faults(self) -> frozenset[str]:
        return self.faults | ({"store-locked"} if self.store_locked else frozenset())


def _amber(snap: Snapshot, thresholds: tuple[int, ...]) -> Pattern:
    if snap.waiting <= 0:
        return OFF
    passed = sum(1 for t in thresholds if snap.longest_wait_s >= t)
    if passed == 0:
        return STEADY
    return WAIT_BLINKS[min(passed, len(WAIT_BLINKS)) - 1]


def show(snap: Snapshot, now: float, thresholds: tuple[int, ...], result_flash_s: float = 15.0) -> dict[str, Pattern]:
    """The pattern of every LED for this snapshot at monotonic time ``now``."""
    age = now - snap.provisioning_at
    if snap.provisioning == "running" and age < PROVISIONING_STALE_S:
        return {led: chase(i) for i, led in enumerate(LEDS)}
    if snap.provisioning in ("succeeded", "failed") and age < result_flash_s:
        lit = "green" if snap.provisioning == "succeeded" else "red"
        return {led: FLASH if led == lit else OFF for led in LEDS}

    if not snap.has_line:
        red = STEADY
    elif snap.all_faults:
        red = FAULT_BLINK
    else:
        red = OFF
    if snap.calls_in_progress > 0:
        green = SLOW_BLINK
    elif snap.has_line and snap.waiting == 0:
        green = STEADY
    else:
        green = OFF
    blue = STEADY if snap.route == "gsm" and snap.has_line else OFF
    return {"green": green, "amber": _amber(snap, thresholds), "red": red, "blue": blue}


def lit(pattern: Pattern, now: float) -> bool:
    """Is an LED following ``pattern`` on at monotonic time ``now``?"""
    if pattern.on_s <= 0:
        return False
    if pattern.off_s <= 0:
        return True
    position = (now - pattern.phase_s) % pattern.period
    return position < pattern.on_s
