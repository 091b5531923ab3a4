"""``config.reload`` over the control socket: the core hands the new config to every
service, new calls follow the changed hours at once, and the answer says what waits
for a restart."""

from __future__ import annotations

import tomllib

import tomli_w

from tests.integration.switchboard.test_ivr_paths import hear_and_hang_up

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def test_a_reload_closes_the_clinic_for_new_calls_and_names_what_waits_for_a_restart(box, sipua) -> None:
    b = box(open_hours=True)
    assert b.control.call("config.reload") == {"reloaded": True, "applied": [], "restart": []}
    settings = b.dir / "settings.toml"
    overlay = tomllib.loads(settings.read_text(encoding="utf-8"))
    overlay["hours"] = {**{day: [] for day in DAYS}, "holidays": []}  # the manager closes the clinic
    overlay["sip"] = {**overlay.get("sip", {}), "rtp_timeout_s": 20, "port": b.sip_port + 1}
    overlay["panel"] = {"enabled": True}
    settings.write_text(tomli_w.dumps(overlay), encoding="utf-8")
    result = b.control.call("config.reload")
    assert result["reloaded"] is True
    assert {f"hours.{d}" for d in DAYS} | {"sip.rtp_timeout_s"} <= set(result["applied"])
    assert {"sip.port", "panel.enabled"} <= set(result["restart"])
    assert not set(result["applied"]) & set(result["restart"])
    rec = hear_and_hang_up(b, sipua)  # on the port it started on: the transport waits for a restart
    assert rec.ivr_path[:2] == ["hours", "closed"]


def test_moved_panel_pins_apply_on_the_running_core(box) -> None:
    """The real core with its panel (gpiozero's mock pins on a simulated box): moved LED
    pins and thresholds apply at once; the pin library waits for a restart."""
    b = box(overlay={"panel": {"enabled": True}})
    settings = b.dir / "settings.toml"
    overlay = tomllib.loads(settings.read_text(encoding="utf-8"))
    overlay["panel"] = {**overlay.get("panel", {}), "green_pin": 5, "wait_thresholds_s": [20, 40, 80]}
    overlay["panel"]["pin_factory"] = "lgpio"
    settings.write_text(tomli_w.dumps(overlay), encoding="utf-8")
    result = b.control.call("config.reload")
    assert {"panel.green_pin", "panel.wait_thresholds_s"} <= set(result["applied"])
    assert "panel.pin_factory" in result["restart"] and "panel.green_pin" not in result["restart"]
    assert "panel settings applied: panel.green_pin" in (b.dir / "core.log").read_text()
    assert b.status()["agents"] is not None  # the core goes on answering
