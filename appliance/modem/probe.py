"""Talking to the modem from a short-lived process (CLI, doctor), not the core.

Only used when the core is not running: the core owns the port, and a
second process is refused by the port's lock (:class:`PortBusyError`).
The caller hands in the hardware (the composition root's choice, see
:func:`appliance.doctor.modem_hardware.modem_adapter`), so probing a real modem loads no
simulator code.
"""

from __future__ import annotations

from typing import Any

from appliance.config import Config
from appliance.modem import ModemHardware, voicepath
from appliance.modem.driver import Modem, PinGuard, SimProblem


def open_modem(cfg: Config, hardware: ModemHardware) -> Modem:
    """A connected :class:`Modem` on ``hardware`` (close it after use).

    Raises:
        PortBusyError: the core (or another program) holds the port.
        ModemNotFoundError: no modem answered.
    """
    modem = Modem(
        cfg.modem, hardware, lambda line, pdu: None, pin_guard=PinGuard(cfg.paths.state_dir / "modem-pin.json")
    )
    modem.connect()
    return modem


def _voice_path(modem: Modem, maker: str, model: str) -> voicepath.VoicePath:
    """The voice path as it stands, changing nothing in the modem (the core sets it up)."""
    vendor_of = getattr(modem.hardware, "usb_vendor", None)
    family = voicepath.family_of(maker, model, vendor_of() if callable(vendor_of) else "")
    finder = getattr(modem.hardware, "voice_port", None)
    port = ""
    if family is not None and family.voice_interface >= 0 and callable(finder):
        port = str(finder(family.voice_interface) or "")
    return voicepath.prepare(modem, family, voice_port=port, fix=False, who=f"{maker} {model}".strip())


def probe(cfg: Config, hardware: ModemHardware, wait_s: float = 5.0) -> dict[str, Any]:
    """Identity, SIM, registration and signal, as a status dict like the core's."""
    modem = open_modem(cfg, hardware)
    try:
        info = modem.info
        assert info is not None
        data: dict[str, Any] = {
            "port": info.port,
            "imei": info.imei,
            "model": f"{info.manufacturer} {info.model}",
            "revision": info.revision,
            "hardware": modem.hardware.describe(),
            "voice_path": _voice_path(modem, info.manufacturer, info.model).as_dict(),
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
