"""The one adapter between the panel and GPIO pins: gpiozero with an injected pin factory.

The pin factory is chosen in config (``panel.pin_factory``), made by
:func:`appliance.board.make_pin_factory` (the modem's power line uses the
same pins) and passed to every gpiozero device, never set globally.

Example:
    >>> from gpiozero.pins.mock import MockFactory
    >>> factory = MockFactory()
    >>> panel = GpioPanel({"green": 17}, {}, factory)
    >>> panel.set_leds({"green": True})
    >>> factory.pin(17).state
    True
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.errors import PanelError

log = logging.getLogger(__name__)


class GpioPanel:
    """Four LEDs out, some buttons in.

    Args:
        leds: LED name -> BCM pin.
        buttons: button name -> BCM pin (wired to ground; internal pull-up).
        pin_factory: a gpiozero pin factory (``None`` = gpiozero's default).
        active_high: LEDs light when the pin is high.
    """

    def __init__(
        self,
        leds: dict[str, int],
        buttons: dict[str, int],
        pin_factory: Any,
        active_high: bool = True,
    ) -> None:
        from gpiozero import LED, DigitalInputDevice
        from gpiozero.exc import GPIOZeroError

        self._leds: dict[str, Any] = {}
        self._buttons: dict[str, Any] = {}
        self._state: dict[str, bool] = {}
        try:
            for name, pin in leds.items():
                self._leds[name] = LED(pin, active_high=active_high, initial_value=False, pin_factory=pin_factory)
                self._state[name] = False
            for name, pin in buttons.items():
                self._buttons[name] = DigitalInputDevice(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            self.close()
            raise PanelError(
                f"cannot use the panel's GPIO pins: {exc}; check the panel.*_pin settings or set panel.enabled = false"
            ) from exc

    def set_leds(self, states: dict[str, bool]) -> None:
        """Switch LEDs; pins are written only when their state changes."""
        for name, on in states.items():
            led = self._leds.get(name)
            if led is not None and self._state.get(name) != on:
                led.value = on
                self._state[name] = on

    def leds(self) -> dict[str, bool]:
        return dict(self._state)

    def pressed(self) -> dict[str, bool]:
        """Each button's raw level right now (True = pressed)."""
        return {name: bool(button.is_active) for name, button in self._buttons.items()}

    def close(self) -> None:
        for device in [*self._leds.values(), *self._buttons.values()]:
            try:
                device.close()
            except Exception:
                log.debug("closing a GPIO device failed", exc_info=True)
        self._leds.clear()
        self._buttons.clear()
