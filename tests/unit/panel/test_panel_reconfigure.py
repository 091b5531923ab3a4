"""A reloaded config and the panel: pins, polarity and timings apply at once; the
service's presence and the pin library wait for a restart; a pin that cannot be
opened leaves the panel on its old pins (and says the change waits)."""

from __future__ import annotations

from pathlib import Path

from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from appliance.clock import FakeClock
from appliance.config import Applied
from appliance.events import EventBus
from appliance.panel.service import PanelService
from tests.conftest import clinic_config


def lit_pins(factory: MockFactory, pins: dict[str, int]) -> dict[str, bool]:
    return {name: bool(factory.pin(pin).state) for name, pin in pins.items()}


def test_moved_leds_and_timings_apply_at_once_on_the_new_pins(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    factory = MockFactory()
    service = PanelService.from_config(cfg, EventBus(), FakeClock(), pin_factory=factory)
    try:
        service.step()
        shown = service.gpio.leds()
        assert any(shown.values()), "the panel shows something at start (ready or no line)"
        moved = clinic_config(
            tmp_path, panel={"green_pin": 5, "red_pin": 6, "hold_s": 7}, hours={"sunday": ["10:00-11:00"]}
        )
        result = service.reconfigure(moved)
        assert result == Applied(applied=["panel.green_pin", "panel.red_pin", "panel.hold_s"], restart=[])
        service.step()
        pins = {"green": 5, "amber": cfg.panel.amber_pin, "red": 6, "blue": cfg.panel.blue_pin}
        assert lit_pins(factory, pins) == service.gpio.leds() == shown  # the same picture, on the new pins
        assert service.reconfigure(moved) == Applied(), "a reload that changes nothing reports nothing"
    finally:
        service.stop()


def test_enabling_and_the_pin_library_wait_for_a_restart(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    service = PanelService.from_config(cfg, EventBus(), FakeClock(), pin_factory=MockFactory())
    try:
        result = service.reconfigure(clinic_config(tmp_path, panel={"pin_factory": "lgpio", "debounce_ms": 20}))
        assert result == Applied(applied=["panel.debounce_ms"], restart=["panel.pin_factory"])
    finally:
        service.stop()


def test_a_pin_in_use_keeps_the_old_pins_and_the_change_waits(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    factory = MockFactory()
    busy = LED(13, pin_factory=factory)  # something else holds GPIO 13
    service = PanelService.from_config(cfg, EventBus(), FakeClock(), pin_factory=factory)
    try:
        service.step()
        shown = service.gpio.leds()
        result = service.reconfigure(clinic_config(tmp_path, panel={"green_pin": 13}))
        assert result == Applied(applied=[], restart=["panel.green_pin"])
        service.step()
        old = {"green": cfg.panel.green_pin, "amber": cfg.panel.amber_pin, "red": cfg.panel.red_pin}
        old["blue"] = cfg.panel.blue_pin
        assert lit_pins(factory, old) == shown  # still driving its old pins
    finally:
        service.stop()
        busy.close()
