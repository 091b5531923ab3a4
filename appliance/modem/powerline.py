"""The modem's supply through a GPIO-switched power line: the last recovery step.

A USB unbind/bind makes the modem enumerate again but leaves its firmware
powered; a modem wedged hard enough needs its power cut, which is what a
technician does by pulling the plug. Boxes that fit a relay or MOSFET on
the modem's USB supply name its BCM pin in ``modem.power_gpio``; this
drives it with gpiozero and the pin factory the panel uses (gpiozero's
``MockFactory`` when simulated, where an observer hands each level to the
simulated modem's supply).

Example:
    >>> from gpiozero.pins.mock import MockFactory
    >>> line = PowerLine(26, active_high=True, off_s=0.01, pin_factory=MockFactory())
    >>> line.powered
    True
    >>> line.cycle(); line.powered
    True
    >>> line.close()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from appliance.errors import ModemError

log = logging.getLogger(__name__)


class PowerLine:
    """One output pin switching the modem's supply (powered at start).

    Args:
        pin: BCM pin number.
        active_high: the modem has power while the pin is high.
        off_s: how long :meth:`cycle` keeps the power cut.
        pin_factory: the gpiozero pin factory (None: gpiozero's default).
        observer: called with the supply's new state (True = powered) after
            each change, read back from the pin (the simulated modem's supply).
    """

    def __init__(
        self,
        pin: int,
        *,
        active_high: bool,
        off_s: float,
        pin_factory: Any,
        observer: Callable[[bool], None] | None = None,
    ) -> None:
        from gpiozero import DigitalOutputDevice

        try:
            self.device = DigitalOutputDevice(pin, active_high=active_high, initial_value=True, pin_factory=pin_factory)
        except Exception as exc:  # gpiozero raises its own errors for busy or missing pins
            raise ModemError(f"cannot drive the modem's power line on GPIO {pin}: {exc}") from exc
        self.pin = pin
        self.off_s = off_s
        self.observer = observer

    @property
    def powered(self) -> bool:
        return bool(self.device.value)

    def cycle(self) -> None:
        """Cut the power for ``off_s`` seconds, then restore it."""
        log.warning("cutting the modem's power on GPIO %d for %g s", self.pin, self.off_s)
        try:
            self._set(False)
            time.sleep(self.off_s)
        finally:
            self._set(True)  # whatever happened, never leave the modem unpowered

    def _set(self, on: bool) -> None:
        try:
            self.device.value = on
        except Exception as exc:
            raise ModemError(f"the modem's power line on GPIO {self.pin} did not switch: {exc}") from exc
        if self.observer is not None:
            self.observer(self.powered)

    def describe(self) -> str:
        return f"GPIO {self.pin} ({'powered' if self.powered else 'cut'})"

    def close(self) -> None:
        self.device.close()
