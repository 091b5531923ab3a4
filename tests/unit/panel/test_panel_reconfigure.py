"""A reloaded config and the panel: pins and timings are set up at start, so changes wait for a restart."""

from __future__ import annotations

from pathlib import Path

from gpiozero.pins.mock import MockFactory

from appliance.clock import FakeClock
from appliance.config import Applied
from appliance.events import EventBus
from appliance.panel.service import PanelService
from tests.conftest import clinic_config


def test_panel_changes_wait_for_a_restart_and_other_sections_are_not_its_business(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    service = PanelService.from_config(cfg, EventBus(), FakeClock(), pin_factory=MockFactory())
    try:
        moved = clinic_config(tmp_path, panel={"green_pin": 5, "hold_s": 7}, hours={"sunday": ["10:00-11:00"]})
        result = service.reconfigure(moved)
        assert result == Applied(applied=[], restart=["panel.green_pin", "panel.hold_s"])
        assert service.settings.green_pin == cfg.panel.green_pin  # the LED stays on its pin until the restart
        assert service.reconfigure(moved) == Applied(), "a reload that changes nothing reports nothing"
    finally:
        service.stop()
