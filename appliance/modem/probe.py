"""Talking to the modem from a short-lived process (CLI, doctor), not the core.

Only used when the core is not running: the core owns the port, and a
second process is refused by the port's lock (:class:`PortBusyError`).
"""

from __future__ import annotations

from typing import Any

from appliance.config import Config
from appliance.modem.driver import Modem, PinGuard, SimProblem
from appliance.modem.hardware import ModemHardware, SimulatedHardware, UsbModemHardware
from appliance.modem.simpty import PtySimulator
from appliance.modem.simulator import ModemSimulator


def hardware_for(cfg: Config) -> tuple[ModemHardware, PtySimulator | None]:
    """The configured hardware; in simulate mode a simulator is started (stop it after)."""
    if cfg.modem.simulate or cfg.simulate:
        sim = PtySimulator(ModemSimulator(profile=cfg.modem.simulator_profile, pin=cfg.modem.pin))
        sim.start()
        return SimulatedHardware(sim), sim
    return UsbModemHardware(cfg.modem), None


def open_modem(cfg: Config) -> tuple[Modem, PtySimulator | None]:
    """A connected :class:`Modem` (close it, and stop the simulator, after use).

    Raises:
        PortBusyError: the core (or another program) holds the port.
        ModemNotFoundError: no modem answered.
    """
    hardware, sim = hardware_for(cfg)
    modem = Modem(
        cfg.modem, hardware, lambda line, pdu: None, pin_guard=PinGuard(cfg.paths.state_dir / "modem-pin.json")
    )
    try:
        modem.connect()
    except Exception:
        if sim is not None:
            sim.stop()
        raise
    return modem, sim


def probe(cfg: Config, wait_s: float = 5.0) -> dict[str, Any]:
    """Identity, SIM, registration and signal, as a status dict like the core's."""
    modem, sim = open_modem(cfg)
    try:
        info = modem.info
        assert info is not None
        data: dict[str, Any] = {
            "port": info.port,
            "imei": info.imei,
            "model": f"{info.manufacturer} {info.model}",
            "revision": info.revision,
            "hardware": modem.hardware.describe(),
        }
        try:
            modem.unlock_sim()
        except SimProblem as exc:
            data.update(state=exc.sim, sim=exc.sim, detail=str(exc))
            return data
        ns = modem.wait_registered(wait_s)
        reg = ns.registration
        data.update(
            state="ready" if reg and reg.registered else "searching",
            sim=ns.sim,
            registered=bool(reg and reg.registered),
            operator=ns.operator,
            signal=ns.signal.bars if ns.signal else 0,
            dbm=ns.signal.dbm if ns.signal else None,
            detail=reg.name if reg else "",
        )
        return data
    finally:
        modem.close()
        if sim is not None:
            sim.stop()
