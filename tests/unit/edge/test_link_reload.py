"""A reload that changes what the edge renders: the core's answer names it, and the edge restarts when idle.

Kamailio stands in as a recorder of the RPCs the core sends (the real edge
exiting on ``core.kill`` and rendering the new ACL is
tests/integration/edge/test_hostile.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.config import load_config
from appliance.edge.link import EdgeLink
from appliance.edge.script import rendered_changed


class Recorder:
    def __init__(self) -> None:
        self.stops = 0
        self.reloads = 0

    def stop(self) -> None:
        self.stops += 1

    def reload_credentials(self) -> None:  # the reload loads the new table at once (link.reconfigure)
        self.reloads += 1


def _cfg(tmp_path: Path, **sections: dict[str, Any]) -> Any:
    base: dict[str, Any] = {
        "edge": {"enabled": True},
        "paths": {"edge_dir": str(tmp_path / "edge")},
        "sip": {"trusted_networks": ["127.0.0.1/32"]},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return load_config(overrides=base, use_secrets=False)


def _link(tmp_path: Path, calls: list[int]) -> tuple[EdgeLink, Recorder]:
    link = EdgeLink(_cfg(tmp_path), lambda regs: None, calls=lambda: calls[0])
    rec = Recorder()
    link.rpc = rec  # type: ignore[assignment]
    return link, rec


def test_a_new_trusted_network_restarts_the_edge_at_once_when_no_call_is_in_progress(tmp_path: Path) -> None:
    link, rec = _link(tmp_path, [0])
    result = link.reconfigure(_cfg(tmp_path, sip={"trusted_networks": ["127.0.0.1/32", "10.0.0.0/24"]}))
    assert result.applied == ["sip.trusted_networks"] and result.restart == []
    assert rec.stops == 1 and link.edge_restart == []


def test_during_a_call_the_edge_settings_wait_and_the_poller_restarts_it_once_idle(tmp_path: Path) -> None:
    calls = [1]
    link, rec = _link(tmp_path, calls)
    result = link.reconfigure(_cfg(tmp_path, edge={"pike_requests": 60}, trunk={"provider_networks": ["192.0.2.0/24"]}))
    assert set(result.restart) == {"edge.pike_requests", "trunk.provider_networks"} and result.applied == []
    assert rec.stops == 0 and sorted(link.edge_status()["waiting"]) == ["edge.pike_requests", "trunk.provider_networks"]
    assert link.restart_edge_if_idle() is False and rec.stops == 0  # still a call
    calls[0] = 0
    assert link.restart_edge_if_idle() is True and rec.stops == 1
    assert link.edge_status()["waiting"] == []


def test_settings_the_edge_does_not_render_never_restart_it(tmp_path: Path) -> None:
    link, rec = _link(tmp_path, [0])
    result = link.reconfigure(_cfg(tmp_path, edge={"poll_interval_s": 5.0}, sip={"rtp_timeout_s": 45}))
    assert result.applied == ["edge.poll_interval_s"] and result.restart == []
    assert rec.stops == 0


def test_the_core_port_waits_for_the_core_itself(tmp_path: Path) -> None:
    link, rec = _link(tmp_path, [0])
    result = link.reconfigure(_cfg(tmp_path, edge={"core_port": 5099}))
    assert result.restart == ["edge.core_port"] and rec.stops == 0


def test_rendered_changed_names_what_the_script_holds(tmp_path: Path) -> None:
    old = _cfg(tmp_path)
    assert rendered_changed(old, _cfg(tmp_path)) == []
    assert rendered_changed(old, _cfg(tmp_path, sip={"port": 5070}, trunk={"registrar": "sip:prov.example"})) == [
        "sip.port",
        "trunk.registrar",
    ]
    assert rendered_changed(old, _cfg(tmp_path, trunk={"password": "x"}, clinic={"name": "Other"})) == []
