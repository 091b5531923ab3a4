"""A USB bundle never turns a box into a simulated one, nor gives it simulated devices."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_config
from provisioning.run import provision
from provisioning.services import RecordingServiceManager
from tests.unit.provisioning.kit import Box, good_files
from tests.unit.provisioning.test_provision_refusals import bundle, refused


def real_box(box: Box) -> Box:
    """The kit's box, as a box in service (no ``simulate = true`` in its own file)."""
    box.config.write_text(box.config.read_text().replace("simulate = true\n", ""))
    assert not load_config(box.config).simulate
    return box


def with_toml(text: str) -> dict[str, bytes]:
    return {**good_files(), "provision.toml": text.encode()}


@pytest.mark.parametrize(
    ("config", "keys"),
    [
        ("[config]\nsimulate = true\n", ["config.simulate"]),
        ('[config.reminders]\ndialer = "simulator"\n', ["config.reminders.dialer"]),
        (
            "[config]\nsimulate = true\n[config.modem]\nenabled = true\nsimulate = true\n",
            ["config.simulate", "config.modem.simulate"],
        ),
        ("[config.reminders.simulator]\nanswer = 1.0\n", ["config.reminders.simulator"]),
    ],
)
def test_a_bundle_that_sets_simulation_is_refused_and_nothing_changes(
    box: Box, tmp_path: Path, config: str, keys: list[str]
) -> None:
    real_box(box)
    reason = refused(box, bundle(box, tmp_path, with_toml(f"[bundle]\nformat = 1\n{config}")))
    for key in keys:
        assert f"{key}: simulation cannot be set by a bundle" in reason, reason
    assert not load_config(box.config).simulate


def test_replace_mode_cannot_bring_simulation_either(box: Box, tmp_path: Path) -> None:
    toml = '[bundle]\nformat = 1\nconfig_mode = "replace"\n[config]\nsimulate = true\n[config.clinic]\nname = "Nowa"\n'
    reason = refused(real_box(box), bundle(box, tmp_path, with_toml(toml)))
    assert "config.simulate: simulation cannot be set by a bundle" in reason


def test_a_test_box_keeps_its_own_switch_through_a_bundle(box: Box, tmp_path: Path) -> None:
    outcome = provision(
        bundle(box, tmp_path), box.config, services=RecordingServiceManager(), serial="10000000abcdef01"
    )
    assert outcome.ok, outcome.reason
    cfg = load_config(box.config)
    assert cfg.simulate and cfg.clinic.name == "Przychodnia Nowa"
