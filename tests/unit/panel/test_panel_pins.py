"""The panel on gpiozero's MockFactory: pin levels per pattern, buttons driven on pins."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.board import resolve_factory_name
from appliance.clock import FakeClock
from appliance.config import Config
from appliance.events import Event, EventBus
from appliance.panel.gpio import GpioPanel
from appliance.panel.health import DiskUsage, HealthProbe, ProvisioningWatcher
from appliance.panel.service import PanelService
from appliance.provision_status import RunStatus, write_status
from tests.conftest import clinic_config

PINS = {"green": 17, "amber": 27, "red": 22, "blue": 23}
ROOMY = DiskUsage(total=100, used=10, free=10**12)


class Rig:
    """A panel service on MockFactory with a fake clock and a recorded bus."""

    def __init__(self, tmp: Path, panel: dict[str, Any] | None = None, disk: DiskUsage = ROOMY) -> None:
        stations = {"desk1": {"name": "Desk 1"}, "desk2": {"name": "Desk 2"}}
        self.cfg: Config = clinic_config(tmp, stations=stations, panel=panel or {})
        self.clock = FakeClock()
        self.bus = EventBus()
        self.seen: list[Event] = []
        self.bus.subscribe(self.seen.append, "panel.")
        self.factory = MockFactory()
        self.disk = disk
        health = HealthProbe(self.clock, self.cfg.paths.state_dir, 1, 95, disk_usage=lambda _p: self.disk)
        watcher = ProvisioningWatcher(self.cfg.paths.state_dir, self.clock, 15)
        self.service = PanelService.from_config(self.cfg, self.bus, self.clock, pin_factory=self.factory)
        self.service.health = health
        self.service.watcher = watcher

    def begin(self) -> Rig:
        """Subscribe, but drive the ticks from the test, deterministically."""
        self.service.start()
        self.service._stop.set()
        self.service._thread.join()  # type: ignore[union-attr]
        return self

    def levels(self) -> dict[str, bool]:
        return {led: bool(self.factory.pin(pin).state) for led, pin in PINS.items()}

    def at(self, seconds: float) -> dict[str, bool]:
        """Advance the clock, tick twice (events queued in the first come back), read pins."""
        self.clock.advance(seconds)
        self.service.step()
        self.service.step()
        return self.levels()

    def emit(self, kind: str, **data: Any) -> None:
        self.bus.emit(kind, **data)


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    r = Rig(tmp_path).begin()
    yield r
    r.service.stop()


def test_ready_idle_lights_only_green(rig: Rig) -> None:
    rig.emit("trunk.up")
    assert rig.at(0.1) == {"green": True, "amber": False, "red": False, "blue": False}


def test_no_line_lights_red_steady(rig: Rig) -> None:
    assert rig.at(0.1) == {"green": False, "amber": False, "red": True, "blue": False}
    assert rig.at(0.7)["red"] is True


def test_calls_in_progress_blink_green_slowly(rig: Rig) -> None:
    rig.emit("trunk.up")
    rig.emit("queue.changed", waiting=0, longest_wait_s=0, calls_in_progress=2)
    phase = rig.clock.monotonic() % 2.0
    rig.at(2.0 - phase + 0.25)  # 0.25 s into an "on" second
    assert rig.levels()["green"] is True
    assert rig.at(1.0)["green"] is False
    assert rig.at(1.0)["green"] is True


def test_waiting_callers_light_amber_and_blink_past_thresholds(rig: Rig) -> None:
    rig.emit("trunk.up")
    rig.emit("queue.changed", waiting=1, longest_wait_s=5, calls_in_progress=0)
    assert rig.at(0.1) == {"green": False, "amber": True, "red": False, "blue": False}
    rig.emit("queue.changed", waiting=1, longest_wait_s=130, calls_in_progress=0)
    samples = [rig.at(0.1)["amber"] for _ in range(8)]  # 0.2 s on / 0.2 s off
    assert True in samples and False in samples


def test_gsm_fallback_lights_blue(rig: Rig) -> None:
    rig.emit("trunk.down")
    rig.emit("modem.status", registered=True)
    rig.emit("failover.changed", route="gsm")
    assert rig.at(0.1) == {"green": True, "amber": False, "red": False, "blue": True}


def test_fault_blinks_red(rig: Rig) -> None:
    rig.emit("trunk.up")
    rig.emit("store.locked")
    reds = {rig.at(0.25)["red"] for _ in range(6)}
    assert reds == {True, False}
    assert rig.levels()["green"] is True


def test_full_disk_and_unsynced_clock_are_faults(tmp_path: Path) -> None:
    r = Rig(tmp_path, disk=DiskUsage(total=100, used=99, free=10**12)).begin()
    r.emit("trunk.up")
    r.service.step()
    assert r.service.snapshot().faults == frozenset({"disk-full"})
    r.disk = ROOMY
    r.clock.set_trusted(False)
    r.at(31.0)  # the next health check
    assert r.service.snapshot().faults == frozenset({"clock-unsynced"})
    r.service.stop()


def test_provisioning_run_chases_then_flashes(rig: Rig) -> None:
    state_dir = rig.cfg.paths.state_dir
    started = rig.clock.now().isoformat()
    write_status(state_dir, RunStatus("r1", "running", started))
    seen_on = []
    for _ in range(8):
        levels = rig.at(0.15)
        seen_on.append([led for led, on in levels.items() if on])
    assert all(len(on) == 1 for on in seen_on[1:])
    assert {tuple(on) for on in seen_on[1:]} == {("green",), ("amber",), ("red",), ("blue",)}
    rig.clock.advance(1)
    write_status(state_dir, RunStatus("r1", "failed", started, rig.clock.now().isoformat(), reason="unsigned"))
    rig.at(0.6)
    flashes = {rig.at(0.1)["red"] for _ in range(4)}
    assert flashes == {True, False}
    assert [e.kind for e in rig.seen if e.kind == "panel.leds"]  # the web UI can follow the panel


def test_an_old_result_does_not_flash_after_a_restart(tmp_path: Path) -> None:
    r = Rig(tmp_path).begin()
    old = (r.clock.now() - timedelta(hours=2)).isoformat()
    write_status(r.cfg.paths.state_dir, RunStatus("r0", "succeeded", old, old))
    r.emit("trunk.up")
    r.service.step()
    r.service.step()
    assert r.service.snapshot().provisioning == "idle"
    r.service.stop()


def test_active_low_leds_invert_the_pins(tmp_path: Path) -> None:
    r = Rig(tmp_path, panel={"active_high": False}).begin()
    r.emit("trunk.up")
    assert r.at(0.1) == {"green": False, "amber": True, "red": True, "blue": True}
    r.service.stop()


def test_night_mode_button_must_be_held_three_seconds(tmp_path: Path) -> None:
    r = Rig(tmp_path, panel={"night_mode_pin": 5}).begin()
    pin = r.factory.pin(5)
    pin.drive_low()  # pressed (wired to ground)
    r.at(0.1)
    r.at(1.0)
    pin.drive_high()
    r.at(0.1)
    assert not [e for e in r.seen if e.kind == "panel.night_mode"]
    pin.drive_low()
    for _ in range(35):
        r.at(0.1)
    pin.drive_high()
    r.at(0.1)
    r.at(0.1)
    assert [e.data for e in r.seen if e.kind == "panel.night_mode"] == [{"on": True}]
    pin.drive_low()
    for _ in range(35):
        r.at(0.1)
    assert [e.data for e in r.seen if e.kind == "panel.night_mode"] == [{"on": True}, {"on": False}]
    r.service.stop()


def test_night_mode_set_in_the_console_keeps_the_button_in_step(tmp_path: Path) -> None:
    r = Rig(tmp_path, panel={"night_mode_pin": 5}).begin()
    r.emit("box.night_mode", on=True)  # what the switchboard emits on a console change
    pin = r.factory.pin(5)
    pin.drive_low()
    for _ in range(35):
        r.at(0.1)
    pin.drive_high()
    r.at(0.1)
    # The first hold after the console turned night mode on turns it off, not on again.
    assert [e.data for e in r.seen if e.kind == "panel.night_mode"] == [{"on": False}]
    r.service.stop()


def test_answer_next_buttons_name_their_station_and_ignore_bounce(tmp_path: Path) -> None:
    r = Rig(tmp_path, panel={"answer_next_pins": {"desk1": 5, "desk2": 6}}).begin()
    p6 = r.factory.pin(6)
    p6.drive_low()
    r.at(0.01)
    p6.drive_high()  # a 10 ms bounce
    r.at(0.01)
    r.at(0.2)
    assert not [e for e in r.seen if e.kind == "panel.answer_next"]
    p6.drive_low()
    r.at(0.01)
    r.at(0.1)
    r.at(0.1)
    assert [e.data for e in r.seen if e.kind == "panel.answer_next"] == [{"station": "desk2"}]
    r.service.stop()


def test_stop_switches_every_led_off(tmp_path: Path) -> None:
    r = Rig(tmp_path).begin()
    r.emit("trunk.up")
    r.at(0.1)
    r.service.stop()
    assert not any(bool(r.factory.pin(pin).state) for pin in PINS.values())


def test_service_thread_runs_on_its_own(tmp_path: Path) -> None:
    r = Rig(tmp_path)
    r.service.start()
    try:
        r.emit("trunk.up")
        for _ in range(100):
            if r.factory.pin(17).state:
                break
            import time

            time.sleep(0.01)
        assert r.factory.pin(17).state
        assert r.service.healthy()
    finally:
        r.service.stop()


def test_gpio_panel_writes_only_changes() -> None:
    factory = MockFactory()
    panel = GpioPanel({"green": 17}, {}, factory)
    panel.set_leds({"green": True})
    panel.set_leds({"green": True})
    panel.set_leds({"green": False})
    states = [s.state for s in factory.pin(17).states]
    assert states == [False, True, False]
    panel.close()


@pytest.mark.parametrize(
    ("kind", "simulate", "model", "expected"),
    [
        ("auto", True, "Raspberry Pi 5 Model B Rev 1.0", "mock"),
        ("auto", False, "Raspberry Pi 5 Model B Rev 1.0", "lgpio"),
        ("auto", False, "Raspberry Pi 4 Model B Rev 1.5", "default"),
        ("auto", False, "", "default"),
        ("rpigpio", True, "", "rpigpio"),
    ],
)
def test_pin_factory_choice(kind: str, simulate: bool, model: str, expected: str) -> None:
    assert resolve_factory_name(kind, simulate, model) == expected


def test_a_store_locked_before_the_panel_started_blinks_red(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    bus = EventBus()
    factory = MockFactory()
    service = PanelService.from_config(cfg, bus, FakeClock(), pin_factory=factory, store_locked=True)
    service.step()
    assert service.snapshot().store_locked
    service.stop()
