"""The status panel: four LEDs a receptionist reads from across the room, and optional buttons.

Public names: :class:`PanelService` (what the core starts), the pure
:func:`show` and :func:`lit` with :class:`Snapshot` and :class:`Pattern`,
and the GPIO adapter :class:`GpioPanel` with :func:`make_pin_factory`.
"""

from appliance.board import make_pin_factory
from appliance.panel.buttons import ButtonSpec, ButtonTracker
from appliance.panel.gpio import GpioPanel
from appliance.panel.patterns import LEDS, Pattern, Snapshot, lit, show
from appliance.panel.service import PanelService

__all__ = [
    "LEDS",
    "ButtonSpec",
    "ButtonTracker",
    "GpioPanel",
    "PanelService",
    "Pattern",
    "Snapshot",
    "lit",
    "make_pin_factory",
    "show",
]
