"""Simulated devices exist only on a simulated box.

The simulated patients (``reminders.dialer = "simulator"``), the modem
simulator (``modem.simulate``) and mock panel pins are for the demo and the
tests. On a box in service they would be a hazard: simulated patients
confirm and cancel real appointments. So one switch, the top-level
``simulate``, says the whole box is a demo or test box, and it is set only
in the clinic's own ``clinicbox.toml`` by the demo seed and the tests:

- :func:`simulation_checks` refuses a simulated device on a box that is not
  simulated (a cross-check of the loaded config);
- :data:`SIMULATOR_KEYS` are never taken from the web UI's settings overlay
  or a provisioning bundle (:func:`simulator_keys_in` finds them), and the
  web UI's settings screens never show them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.config.model import Config

#: Keys (dotted; a table covers everything below it) that only the clinic's
#: own file of a demo or test box may set: never the web UI, never a bundle.
SIMULATOR_KEYS = (
    "simulate",
    "modem.simulate",
    "modem.simulator_profile",
    "reminders.dialer",
    "reminders.simulator",
)

_ONLY_SIMULATED = "allowed only on a demo or test box (simulate = true in clinicbox.toml, set by the demo and tests)"


def simulator_keys_in(data: Mapping[str, Any], keys: tuple[str, ...] = SIMULATOR_KEYS) -> list[str]:
    """The simulator keys present in a TOML mapping (an overlay, a bundle's ``[config]``)."""
    found = []
    for key in keys:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            found.append(key)
    return found


def without_simulator_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every simulator key removed (and tables left empty by that)."""

    def strip(node: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in node.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            if key in SIMULATOR_KEYS:
                continue
            if isinstance(value, Mapping) and any(k.startswith(key + ".") for k in SIMULATOR_KEYS):
                value = strip(value, key)
                if not value:
                    continue
            out[name] = value
        return out

    return strip(data, "")


def simulation_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """A simulated device on a box that is not simulated is refused, naming its key."""
    if cfg.simulate:
        return
    if cfg.reminders.dialer == "simulator":
        yield (
            "reminders.dialer",
            f'"simulator" has simulated patients confirm and cancel real appointments; it is {_ONLY_SIMULATED}. '
            'Set reminders.dialer = "switchboard"',
        )
    if cfg.modem.simulate:
        yield (
            "modem.simulate",
            f"the modem simulator would take the place of the real modem; it is {_ONLY_SIMULATED}. "
            "Set modem.simulate = false",
        )
    if cfg.panel.pin_factory == "mock":
        yield (
            "panel.pin_factory",
            f'"mock" pins light no LED and read no button; they are {_ONLY_SIMULATED}. Set panel.pin_factory = "auto"',
        )
