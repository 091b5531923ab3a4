"""Simulated devices only on a simulated box: the config refuses the mix,
naming the key; the demo and test boxes still load; the web UI's overlay
never switches simulation on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from appliance.config import load_config
from appliance.config.simulation import SIMULATOR_KEYS, simulator_keys_in, without_simulator_keys
from appliance.demo.seed import DEMO_CONFIG
from appliance.errors import ConfigError


def problems(**overrides: Any) -> list[str]:
    try:
        load_config(overrides=overrides, use_secrets=False)
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        ({"reminders": {"dialer": "simulator"}}, "reminders.dialer", "simulated patients confirm and cancel real"),
        ({"modem": {"enabled": True, "simulate": True}}, "modem.simulate", "take the place of the real modem"),
        ({"modem": {"enabled": False, "simulate": True}}, "modem.simulate", "take the place of the real modem"),
        ({"panel": {"pin_factory": "mock"}}, "panel.pin_factory", "light no LED"),
    ],
)
def test_a_simulated_device_on_a_real_box_is_refused_naming_the_key(
    overrides: dict[str, Any], key: str, says: str
) -> None:
    found = problems(**overrides)
    assert len(found) == 1, found
    assert found[0].startswith(f"{key}: ") and says in found[0]
    assert "simulate = true" in found[0], "the message says which box may have it"


@pytest.mark.parametrize(
    "overrides",
    [
        {"reminders": {"dialer": "simulator"}},
        {"modem": {"enabled": True, "simulate": True}},
        {"panel": {"pin_factory": "mock"}},
    ],
)
def test_a_simulated_box_may_have_them(overrides: dict[str, Any]) -> None:
    assert problems(simulate=True, **overrides) == []


def test_a_real_box_loads_with_the_real_devices() -> None:
    cfg = load_config(overrides={"modem": {"enabled": True}}, use_secrets=False)
    assert not cfg.simulate and cfg.reminders.dialer == "switchboard" and not cfg.modem.simulate


def test_the_simulators_own_settings_alone_change_nothing_and_load() -> None:
    """[reminders.simulator] is inert without the simulator dialer (the shipped defaults have it)."""
    cfg = load_config(overrides={"reminders": {"simulator": {"answer": 0.5}}}, use_secrets=False)
    assert cfg.reminders.dialer == "switchboard"


def test_the_demo_clinic_is_a_simulated_box(tmp_path: Path) -> None:
    config = tmp_path / "clinicbox.toml"
    config.write_text(DEMO_CONFIG.format(web_port=18080, sip_port=15060, rtp_port=20000, pstn_port=15070))
    cfg = load_config(config, use_secrets=False)
    assert cfg.simulate and cfg.modem.simulate


def write_clinic(tmp_path: Path, overlay: str, *, simulate: bool = False) -> Path:
    config = tmp_path / "clinicbox.toml"
    config.write_text(
        f"simulate = {'true' if simulate else 'false'}\n"
        f'[paths]\nstate_dir = "{tmp_path}"\nsecrets_file = ""\n'
        "[reminders.simulator]\nanswer = 0.4\n"
    )
    (tmp_path / "settings.toml").write_text(overlay)
    return config


def test_the_web_uis_overlay_never_switches_simulation_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    overlay = (
        'simulate = true\n[modem]\nenabled = true\nsimulate = true\nsimulator_profile = "sim7600"\n'
        '[reminders]\ndialer = "simulator"\nmax_calls = 3\n[reminders.simulator]\nanswer = 0.9\n'
    )
    with caplog.at_level(logging.WARNING, logger="appliance.config.loader"):
        cfg = load_config(write_clinic(tmp_path, overlay))
    assert not cfg.simulate and not cfg.modem.simulate and cfg.reminders.dialer == "switchboard"
    assert cfg.modem.simulator_profile == "ec25" and cfg.reminders.simulator.answer == 0.4
    assert cfg.modem.enabled and cfg.reminders.max_calls == 3, "the overlay's other settings still apply"
    warned = " ".join(r.getMessage() for r in caplog.records)
    for key in ("simulate", "modem.simulate", "reminders.dialer", "reminders.simulator"):
        assert f"{key} is ignored" in warned


def test_on_a_demo_box_the_overlay_still_cannot_change_the_simulation(tmp_path: Path) -> None:
    cfg = load_config(write_clinic(tmp_path, "[reminders.simulator]\nanswer = 0.9\n", simulate=True))
    assert cfg.simulate and cfg.reminders.simulator.answer == 0.4


@pytest.mark.parametrize(
    ("data", "found", "left"),
    [
        ({}, [], {}),
        ({"clinic": {"name": "X"}}, [], {"clinic": {"name": "X"}}),
        ({"simulate": False}, ["simulate"], {}),
        ({"modem": {"simulate": True, "pin": "1234"}}, ["modem.simulate"], {"modem": {"pin": "1234"}}),
        ({"modem": {"simulator_profile": "ec25"}}, ["modem.simulator_profile"], {}),
        (
            {"reminders": {"dialer": "switchboard", "simulator": {"seed": 1}, "max_calls": 2}},
            ["reminders.dialer", "reminders.simulator"],
            {"reminders": {"max_calls": 2}},
        ),
        ({"reminders": "not a table"}, [], {"reminders": "not a table"}),
    ],
)
def test_finding_and_dropping_simulator_keys(data: dict[str, Any], found: list[str], left: dict[str, Any]) -> None:
    assert simulator_keys_in(data) == found
    assert without_simulator_keys(data) == left


def test_every_simulator_key_is_a_real_key() -> None:
    defaults = load_config(use_secrets=False)
    for key in SIMULATOR_KEYS:
        node: Any = defaults
        for part in key.split("."):
            node = getattr(node, part)
