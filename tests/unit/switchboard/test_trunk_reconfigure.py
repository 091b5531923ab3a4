"""The trunk monitor follows a reloaded ``[trunk]``: a new registration is judged afresh,
a change that does not touch the registration leaves the verdict alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.switchboard.trunk import TrunkMonitor
from tests.conftest import clinic_config

TRUNK = {"enabled": True, "register": True, "registrar": "sip:127.0.0.1:5999", "username": "clinic"}


def config(tmp_path: Path, **trunk: Any) -> Config:
    return clinic_config(tmp_path, trunk={**TRUNK, "keepalive_interval_s": 0, **trunk})


def test_a_new_registrar_is_judged_afresh_and_other_changes_keep_the_verdict(tmp_path: Path) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    trunk = TrunkMonitor(config(tmp_path), lambda kind, **data: events.append((kind, data)))
    trunk.start()
    trunk.on_registration(200, "OK", True)
    assert trunk.view()["state"] == "up"
    trunk.reconfigure(config(tmp_path, provider_networks=["192.0.2.0/24"]), reregister=False)
    assert trunk.view()["state"] == "up" and events == [("trunk.up", {"reason": "registered"})]
    trunk.reconfigure(config(tmp_path, registrar="sip:127.0.0.1:5998"), reregister=True)
    assert trunk.view() == {"state": "registering", "detail": "waiting for the provider"}
    trunk.on_registration(403, "Forbidden", False)
    assert trunk.view()["state"] == "down" and events[-1][0] == "trunk.down"
    trunk.on_registration(200, "OK", True)
    assert trunk.view()["state"] == "up"
    trunk.stop()


def test_a_trunk_switched_off_and_on_by_a_reload(tmp_path: Path) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    trunk = TrunkMonitor(config(tmp_path), lambda kind, **data: events.append((kind, data)))
    trunk.start()
    trunk.on_registration(200, "OK", True)
    trunk.reconfigure(config(tmp_path, enabled=False), reregister=True)
    assert trunk.view() == {"state": "disabled", "detail": "no trunk configured"}
    assert events[-1] == ("trunk.down", {"reason": "disabled"})
    trunk.reconfigure(config(tmp_path), reregister=True)
    assert trunk.view()["state"] == "registering"
    trunk.on_registration(200, "OK", True)
    assert trunk.view()["state"] == "up" and events[-1] == ("trunk.up", {"reason": "registered"})
    trunk.stop()
