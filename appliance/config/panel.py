"""Config section for the status panel: LED and button pins, thresholds.

Pins are BCM GPIO numbers (what gpiozero and the Pi's pinout call
``GPIO17``), not header pin positions. The defaults match the status-panel
device-tree overlay in ``firmware/overlays/clinicbox-panel-overlay.dts``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

#: BCM numbers usable for the panel: GPIO0/1 are the HAT EEPROM bus.
FIRST_PIN = 2
LAST_PIN = 27
PIN_FACTORIES = ("auto", "mock", "lgpio", "rpigpio", "native")


def _ascending(value: Any) -> str | None:
    if not value:
        return "give at least one threshold, e.g. [30, 60, 120]"
    if any(b <= a for a, b in itertools.pairwise(value)):
        return f"{value} must go up, e.g. [30, 60, 120]"
    if len(value) > 4:
        return "at most 4 thresholds (the blink rates run out)"
    return None


def _button_pins(value: Any) -> str | None:
    for station, pin in value.items():
        if not FIRST_PIN <= pin <= LAST_PIN:
            return f"stations.{station}: GPIO {pin} is not usable; choose {FIRST_PIN}-{LAST_PIN}"
    return None


@dataclass(frozen=True)
class PanelSettings:
    enabled: bool = setting(doc="Drive the status LEDs and read the panel buttons.")
    pin_factory: str = setting(
        doc="gpiozero pin factory: auto (mock when simulate, lgpio on a Pi 5, else gpiozero's default), "
        "mock, lgpio, rpigpio or native.",
        choices=PIN_FACTORIES,
    )
    active_high: bool = setting(doc="LEDs light when their pin is high (false for LEDs wired to 3.3 V).")
    green_pin: int = setting(doc="BCM pin of the green LED (ready / calls in progress).", min=FIRST_PIN, max=LAST_PIN)
    amber_pin: int = setting(doc="BCM pin of the amber LED (callers waiting).", min=FIRST_PIN, max=LAST_PIN)
    red_pin: int = setting(doc="BCM pin of the red LED (no line / fault).", min=FIRST_PIN, max=LAST_PIN)
    blue_pin: int = setting(doc="BCM pin of the blue LED (on GSM fallback).", min=FIRST_PIN, max=LAST_PIN)
    night_mode_pin: int = setting(
        doc="BCM pin of the night-mode button (held to toggle after-hours routing); 0 = not fitted.",
        min=0,
        max=LAST_PIN,
    )
    answer_next_pins: dict[str, int] = setting(
        doc="Station id -> BCM pin of its 'answer next' button.", check=_button_pins
    )
    debounce_ms: int = setting(doc="Ignore button contact bounce shorter than this.", min=5, max=500)
    hold_s: float = setting(doc="How long a destructive button (night mode) must be held.", min=1.0, max=10.0)
    wait_thresholds_s: list[int] = setting(
        doc="Longest-wait thresholds (s): amber is steady below the first and blinks faster past each.",
        check=_ascending,
    )
    disk_fault_percent: int = setting(doc="Red blink when the data disk is this full.", min=50, max=100)
    health_interval_s: int = setting(doc="How often the panel re-checks disk and clock.", min=5, max=600)
    result_flash_s: int = setting(doc="How long green/red flash after a provisioning run.", min=2, max=600)


def panel_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """Pins used twice, and buttons for stations that do not exist."""
    panel = cfg.panel
    used: dict[int, str] = {}
    candidates = [
        ("panel.green_pin", panel.green_pin),
        ("panel.amber_pin", panel.amber_pin),
        ("panel.red_pin", panel.red_pin),
        ("panel.blue_pin", panel.blue_pin),
    ]
    if panel.night_mode_pin:
        if panel.night_mode_pin < FIRST_PIN:
            yield (
                "panel.night_mode_pin",
                f"GPIO {panel.night_mode_pin} is not usable; choose {FIRST_PIN}-{LAST_PIN} or 0",
            )
        candidates.append(("panel.night_mode_pin", panel.night_mode_pin))
    candidates += [(f"panel.answer_next_pins.{sid}", pin) for sid, pin in sorted(panel.answer_next_pins.items())]
    if cfg.modem.enabled and cfg.modem.power_gpio:
        if cfg.modem.power_gpio < FIRST_PIN:
            yield "modem.power_gpio", f"GPIO {cfg.modem.power_gpio} is not usable; choose {FIRST_PIN}-{LAST_PIN} or 0"
        if panel.enabled:  # the panel's pins are only taken when it is fitted
            candidates.append(("modem.power_gpio", cfg.modem.power_gpio))
    for key, pin in candidates:
        if pin in used:
            yield key, f"GPIO {pin} is already used by {used[pin]}"
        else:
            used[pin] = key
    for sid in sorted(panel.answer_next_pins):
        if sid not in cfg.stations:
            known = ", ".join(sorted(cfg.stations)) or "none configured"
            yield f"panel.answer_next_pins.{sid}", f'unknown station "{sid}"; known: {known}'
