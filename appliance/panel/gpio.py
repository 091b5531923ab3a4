"""The one adapter between the panel and GPIO pins: gpiozero with an injected pin factory.

The pin factory is chosen in config (``panel.pin_factory``) and passed to
every gpiozero device, never set globally: gpiozero's ``MockFactory`` in
tests and simulation (the shipped fake), ``lgpio`` on a Pi 5 (whose RP1
chip the older libraries cannot drive), gpiozero's default elsewhere.

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
from pathlib import Path
from typing import Any

from appliance.errors import PanelError

log = logging.getLogger(__name__)

_MODEL = Path("/proc/device-tree/model")


def board_model(path: Path = _MODEL) -> str:
    """The board's model string (``Raspberry Pi 5 Model B Rev 1.0``), or '' off a Pi."""
    try:
        return path.read_bytes().rstrip(b"\0").decode("ascii", "replace")
    except OSError:
        return ""


def resolve_factory_name(kind: str, simulate: bool, model: str) -> str:
    """Which pin factory ``auto`` means on this machine."""
    if kind != "auto":
        return kind
    if simulate:
        return "mock"
    if model.startswith("Raspberry Pi 5"):
        return "lgpio"
    return "default"


def make_pin_factory(kind: str, simulate: bool, model: str | None = None) -> Any:
    """Build the gpiozero pin factory named by ``panel.pin_factory``.

    Returns ``None`` for gpiozero's default factory.

    Raises:
        PanelError: the library behind the factory is not installed.
    """
    name = resolve_factory_name(kind, simulate, board_model() if model is None else model)
    try:
        if name == "mock":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        if name == "native":
            from gpiozero.pins.native import NativeFactory

            return NativeFactory()
    except ImportError as exc:
        raise PanelError(
            f"the {name} GPIO library is not installed ({exc.name}); install it, choose another "
            "panel.pin_factory, or set panel.enabled = false"
        ) from exc
    except Exception as exc:  # gpiozero raises its own errors when the chip is missing
        raise PanelError(
            f"cannot open the GPIO chip with the {name} pin factory: {exc}; "
            "set panel.enabled = false on a machine without a status panel"
        ) from exc
    return None


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
