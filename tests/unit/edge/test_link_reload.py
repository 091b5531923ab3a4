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
from appliance.errors import EdgeError


class Recorder:
    def __init__(self) -> None:
        self.stops = 0
        self.reloads = 0
        self.down = False
        self.advertising = {"127.0.0.1"}

    def advertised(self) -> set[str]:
        return set(self.advertising)

    def stop(self) -> None:
        self.stops += 1

    def reload_credentials(self) -> None:
        if self.down:
            raise EdgeError("the SIP edge is not running")
        self.reloads += 1

    def registrations(self) -> dict[str, list[str]]:
        if self.down:
            raise EdgeError("the SIP edge is not running")
        return {}

    def counters(self) -> dict[str, int]:
        return {}


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


DESK = {"desk1": {"name": "Front desk 1", "queues": ["front-desk"]}}


def test_a_saved_desk_phone_password_is_loaded_by_the_edge_before_the_save_returns(tmp_path: Path) -> None:
    link, rec = _link(tmp_path, [0])
    link.reconfigure(_cfg(tmp_path, stations=DESK))
    before = rec.reloads
    link.reconfigure(_cfg(tmp_path, stations={"desk1": {**DESK["desk1"], "password": "pw-one-1234"}}))
    table = (tmp_path / "edge" / "credentials" / "credentials").read_text()
    assert table.count("desk1:0:0:") == 1 and rec.reloads == before + 1  # the phone set up next gets in
    link.reconfigure(_cfg(tmp_path, stations={"desk1": {**DESK["desk1"], "password": "pw-one-1234"}}))
    assert rec.reloads == before + 1  # nothing new written, nothing reloaded


def test_a_password_saved_while_the_edge_is_down_is_loaded_once_it_answers(tmp_path: Path) -> None:
    link, rec = _link(tmp_path, [0])
    link.poll_once()
    rec.down = True
    link.reconfigure(_cfg(tmp_path, stations={"desk1": {**DESK["desk1"], "password": "pw-two-1234"}}))
    assert rec.reloads == 1  # only the first poll's
    link.poll_once()
    assert rec.reloads == 1 and link.status()["reachable"] is False
    rec.down = False
    link.poll_once()
    assert rec.reloads == 2 and link.status()["reachable"] is True


def _wildcard_link(tmp_path: Path, calls: list[int], address: list[str]) -> tuple[EdgeLink, Recorder]:
    cfg = _cfg(tmp_path, sip={"bind_address": "0.0.0.0"})
    link = EdgeLink(cfg, lambda regs: None, calls=lambda: calls[0], address=lambda _cfg: address[0])
    rec = Recorder()
    link.rpc = rec  # type: ignore[assignment]
    return link, rec


def test_an_edge_started_before_the_network_restarts_once_the_box_has_its_address(tmp_path: Path) -> None:
    address = ["127.0.0.1"]  # at boot, before DHCP: the edge advertised loopback
    link, rec = _wildcard_link(tmp_path, [0], address)
    link.poll_once()
    assert rec.stops == 0
    address[0] = "192.168.1.20"  # the lease arrived
    link.poll_once()
    assert rec.stops == 1
    link.poll_once()  # the edge has not come back yet: one restart per change, not one per poll
    assert rec.stops == 1
    rec.advertising = {"192.168.1.20"}  # the new edge rendered the new address
    link.poll_once()
    assert rec.stops == 1
    address[0] = "192.168.1.31"  # a new lease later
    link.poll_once()
    assert rec.stops == 2


def test_an_address_change_during_a_call_waits_for_the_call_to_end(tmp_path: Path) -> None:
    calls, address = [1], ["10.0.0.5"]
    link, rec = _wildcard_link(tmp_path, calls, address)
    link.poll_once()
    assert rec.stops == 0 and link.edge_status()["waiting"] == ["the box's network address"]
    calls[0] = 0
    assert link.restart_edge_if_idle() is True and rec.stops == 1


def test_an_edge_on_one_address_never_restarts_for_the_route(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, sip={"bind_address": "127.0.0.1"})
    link = EdgeLink(cfg, lambda regs: None, address=lambda _cfg: "10.9.9.9")
    rec = Recorder()
    link.rpc = rec  # type: ignore[assignment]
    link.poll_once()
    assert rec.stops == 0
