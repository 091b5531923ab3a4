"""The modem hardware for a short-lived process (the doctor, ``clinicbox modem``).

The doctor and the modem commands run while the core may be stopped and
open the modem themselves, so, like the core's composition root
(:func:`appliance.app.modem_simulation`), this module picks the real USB
modem or, in simulate mode, a fresh simulator. It is the only module
outside the roots that imports :mod:`appliance.modem.sim` (the
``modem-simulator`` import contract in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from appliance.config import Config
from appliance.modem import ModemHardware


@contextmanager
def modem_adapter(cfg: Config) -> Iterator[ModemHardware]:
    """The modem hardware for a short-lived process (CLI, doctor) while the core is not running.

    The USB modem; in simulate mode a fresh simulator on its own pty,
    started here and stopped on leaving the ``with`` block.
    """
    if not (cfg.modem.simulate or cfg.simulate):
        from appliance.modem.hardware import UsbModemHardware

        yield UsbModemHardware(cfg.modem)
        return
    from appliance.modem.sim import ModemSimulator, PtySimulator, Simulation

    sim = Simulation(PtySimulator(ModemSimulator(profile=cfg.modem.simulator_profile, pin=cfg.modem.pin)))
    sim.start()
    try:
        yield sim.hardware
    finally:
        sim.stop()
