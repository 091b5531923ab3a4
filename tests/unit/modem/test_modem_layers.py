"""The production modem path loads no simulator code (the fake is chosen by composition roots)."""

from __future__ import annotations

import json
import subprocess
import sys

PRODUCTION = [
    "appliance.modem",
    "appliance.modem.driver",
    "appliance.modem.worker",
    "appliance.modem.service",
    "appliance.modem.smsservice",
    "appliance.modem.hardware",
    "appliance.modem.probe",
    "appliance.modem.failover",
    "appliance.modem.status",
    "appliance.app",  # the core's composition root picks the simulator only when config says so
    "appliance.doctor.modem",
]

_SCRIPT = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(*modules: str) -> list[str]:
    """Import ``modules`` in a fresh interpreter; return every module it then holds."""
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *modules], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _sim_modules(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m == "appliance.modem.sim" or m.startswith("appliance.modem.sim.")]


def test_importing_the_driver_and_the_service_loads_no_simulator() -> None:
    loaded = _loaded_by(*PRODUCTION)
    assert set(PRODUCTION) <= set(loaded)
    assert _sim_modules(loaded) == []


def test_the_check_sees_the_simulator_when_it_is_imported() -> None:
    """The check above could not pass by looking in the wrong place."""
    assert "appliance.modem.sim.simulator" in _sim_modules(_loaded_by("appliance.modem.sim"))


def test_the_wire_codecs_load_no_driver_transport_or_simulator() -> None:
    loaded = _loaded_by(
        "appliance.modem.wire.at",
        "appliance.modem.wire.atparse",
        "appliance.modem.wire.concat",
        "appliance.modem.wire.pdunet",
    )
    assert _sim_modules(loaded) == []
    assert "serial" not in loaded
    assert "appliance.modem.driver" not in loaded
