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
