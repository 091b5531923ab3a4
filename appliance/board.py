"""Which board the box runs on, and the gpiozero pin factory for its GPIO pins.

One low module makes the pin factory, so the panel (LEDs and buttons),
the modem's power line and the self-test share it without importing one
another, and the provisioning report reads the board's model from here.
The factory is chosen in config (``panel.pin_factory``) and passed to
every gpiozero device, never set globally: gpiozero's ``MockFactory`` in
tests and simulation (the shipped fake), ``lgpio`` on a Pi 5 (whose RP1
chip the older libraries cannot drive), gpiozero's default elsewhere.
gpiozero is imported only when a factory is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.errors import PanelError

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
