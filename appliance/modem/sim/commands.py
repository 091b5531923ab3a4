"""The simulated modem's general commands: identity, SIM, network, clock, calls.

Each handler takes ``(sim, name, arg)`` where ``arg`` is what follows the
command name (``"=1"``, ``"?"``, ``"=?"``, ``""``) and returns the answer's
information lines, or raises :class:`CmdError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from appliance.modem.sim import audio, voice
from appliance.modem.sim.state import PROFILES, SILENT, CmdError, arg_ints, arg_value, need_sim

if TYPE_CHECKING:
    from appliance.modem.sim.simulator import ModemSimulator

Handler = Callable[["ModemSimulator", str, str], Any]

CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    16: "incorrect password",
    30: "no network service",
    100: "unknown",
}


# -- basic V.250 commands ---------------------------------------------------------------
def _echo(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    sim.state.echo = arg != "0"
    return []


def _noop(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    return []


def _reset(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    st.echo, st.cmee, st.cmgf, st.clip = True, 0, 0, False
    return []


def _identity(field: str) -> Handler:
    def handler(sim: ModemSimulator, name: str, arg: str) -> list[str]:
        if arg == "=?":
            return []
        return [PROFILES[sim.state.profile][field]]

    return handler


def _ati(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    p = PROFILES[sim.state.profile]
    return [p["manufacturer"], p["model"], f"Revision: {p['revision']}"]


def _imei(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    return [] if arg == "=?" else [sim.state.imei]


def _imsi(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    need_sim(sim.state.sim)
    return [] if arg == "=?" else [sim.state.imsi]


def _iccid(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if sim.state.sim == "absent":  # readable before the PIN, as on real modems
        raise CmdError("CME", 10)
    label = {"+QCCID": "+QCCID: ", "+CICCID": "ICCID: ", "+CCID": "+CCID: "}[name]
    return [f"{label}{sim.state.iccid}"]


def _cmee(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f"+CMEE: {sim.state.cmee}"]
    if arg == "=?":
        return ["+CMEE: (0-2)"]
    sim.state.cmee = arg_ints(arg)[0]
    return []


def _cscs(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f'+CSCS: "{sim.state.cscs}"']
    if arg == "=?":
        return ['+CSCS: ("GSM","IRA","UCS2")']
    value = arg_value(arg).strip('"').upper()
    if value not in ("GSM", "IRA", "UCS2"):
        raise CmdError("CME", 4)
    sim.state.cscs = value
    return []


# -- SIM ---------------------------------------------------------------------------------
def _cpin(sim: ModemSimulator, name: str, arg: str) -> list[str] | object:
    st = sim.state
    if arg == "?":
        if st.sim == "absent":
            raise CmdError("CME", 10)
        return [f"+CPIN: {st.cpin_text()}"]
    if arg == "=?":
        return []
    codes = [c.strip().strip('"') for c in arg_value(arg).split(",")]
    st.pin_entries += 1
    if st.sim == "absent":
        raise CmdError("CME", 10)
    if st.pin_silent:
        return SILENT
    if st.pin_error:
        raise CmdError("CME", st.pin_error)
    if st.sim == "ready":
        raise CmdError("CME", 3)
    if st.sim == "puk":
        if codes[0] == st.puk and len(codes) > 1:
            st.pin, st.sim, st.pin_tries = codes[1], "ready", 3
            sim.later(0.05, lambda: sim.emit("+CPIN: READY"))
            schedule_registration(sim)
            return []
        raise CmdError("CME", 16)
    if codes[0] == st.pin:
        st.sim, st.pin_tries = "ready", 3
        sim.later(0.05, lambda: sim.emit("+CPIN: READY"))
        schedule_registration(sim)
        return []
    st.pin_tries -= 1
    if st.pin_tries <= 0:
        st.sim = "puk"
        raise CmdError("CME", 12)
    raise CmdError("CME", 16)


def _pin_counter(field: str) -> Handler:
    """Tries left: Quectel ``AT+QPINC="SC"`` (ec25), SIMCom ``AT+SPIC`` (sim7600)."""

    def handler(sim: ModemSimulator, name: str, arg: str) -> list[str]:
        st = sim.state
        if st.profile != field:
            raise CmdError("ERROR")  # the other family's command
        if st.sim == "absent":
            raise CmdError("CME", 10)
        left = 0 if st.sim == "puk" else st.pin_tries
        return [f'+QPINC: "SC",{left},10'] if name == "+QPINC" else [f"+SPIC: {left},10,3,10"]

    return handler


# -- network ---------------------------------------------------------------------------
def schedule_registration(sim: ModemSimulator) -> None:
    sim.later(sim.state.register_delay_s, lambda: update_registration(sim))


def update_registration(sim: ModemSimulator) -> None:
    """Recompute <stat> and send +CREG/+CEREG URCs when it changed."""
    st = sim.state
    if st.sim == "ready" and st.cfun == 1 and st.network:
        new = 1
    elif st.sim == "ready" and st.cfun == 1:
        new = 2  # searching
    else:
        new = 0
    if new == st.reg_stat:
        return
    st.reg_stat = new
    if st.creg_n:
        sim.emit(f"+CREG: {new}")
    if st.cereg_n:
        sim.emit(f"+CEREG: {new}")
    if new == 1 and st.nitz and st.profile == "ec25":
        sim.emit(f'+CTZE: "{st.tz_quarters:+03d}",0,"{_clock_text(sim)}"')
    elif new == 1 and st.nitz:
        sim.emit(f"+CTZV: {st.tz_quarters:+03d}")
    if new == 1:
        from appliance.modem.sim import smsc

        smsc.flush_undelivered(sim)


def _reg(attr: str, label: str) -> Handler:
    def handler(sim: ModemSimulator, name: str, arg: str) -> list[str]:
        st = sim.state
        if arg == "=?":
            return [f"{label}: (0-2)"]
        if arg == "?":
            n = getattr(st, attr)
            extra = ',"1A2B","01A2B3C4",7' if n == 2 and st.reg_stat in (1, 5) else ""
            return [f"{label}: {n},{st.reg_stat}{extra}"]
        setattr(st, attr, arg_ints(arg)[0])
        return []

    return handler


def _csq(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    rssi = st.rssi if st.cfun == 1 and st.network and st.sim != "absent" else 99
    return [f"+CSQ: {rssi},99"]


def _cops(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if arg == "?":
        if st.reg_stat in (1, 5):
            return [f'+COPS: 0,0,"{st.operator}",{st.act}']
        return ["+COPS: 0"]
    if arg == "=?":
        return [f'+COPS: (2,"{st.operator}","Orange","26003",7),,(0-4),(0-2)']
    return []


def _clock_text(sim: ModemSimulator) -> str:
    st = sim.state
    if not st.nitz or st.reg_stat not in (1, 5):
        return "80/01/06,00:01:30+00"
    local = datetime.now(UTC).astimezone(timezone(timedelta(minutes=15 * st.tz_quarters)))
    return local.strftime("%y/%m/%d,%H:%M:%S") + f"{st.tz_quarters:+03d}"


def _cclk(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f'+CCLK: "{_clock_text(sim)}"']
    return []


def _ctzu(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    allowed = (0, 1, 3) if sim.state.profile == "ec25" else (0, 1)
    if arg == "?":
        return [f"+CTZU: {sim.state.ctzu}"]
    value = arg_ints(arg)[0]
    if value not in allowed:
        raise CmdError("CME", 4)
    sim.state.ctzu = value
    return []


def _cfun(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if arg == "?":
        return [f"+CFUN: {st.cfun}"]
    if arg == "=?":
        return ["+CFUN: (0,1,4),(0-1)"]
    values = arg_ints(arg)
    if len(values) > 1 and values[1] == 1:
        sim.later(0.1, sim.power_cycle)  # the module reboots: USB goes away and comes back
        return []
    st.cfun = values[0]
    if st.cfun != 1:
        st.calls.clear()
    sim.later(0.05, lambda: update_registration(sim))
    return []


HANDLERS: dict[str, Handler] = {
    "E": _echo,
    "V": _noop,
    "Q": _noop,
    "X": _noop,
    "&C": _noop,
    "&D": _noop,
    "&K": _noop,
    "Z": _reset,
    "&F": _reset,
    "I": _ati,
    "+CGMI": _identity("manufacturer"),
    "+GMI": _identity("manufacturer"),
    "+CGMM": _identity("model"),
    "+GMM": _identity("model"),
    "+CGMR": _identity("revision"),
    "+GMR": _identity("revision"),
    "+CGSN": _imei,
    "+GSN": _imei,
    "+CIMI": _imsi,
    "+QCCID": _iccid,
    "+CICCID": _iccid,
    "+CCID": _iccid,
    "+CMEE": _cmee,
    "+CSCS": _cscs,
    "+CPIN": _cpin,
    "+QPINC": _pin_counter("ec25"),
    "+SPIC": _pin_counter("sim7600"),
    "+CREG": _reg("creg_n", "+CREG"),
    "+CEREG": _reg("cereg_n", "+CEREG"),
    "+CGREG": _reg("cgreg_n", "+CGREG"),
    "+CSQ": _csq,
    "+COPS": _cops,
    "+CCLK": _cclk,
    "+CTZU": _ctzu,
    "+CTZR": _noop,
    "+CFUN": _cfun,
    "+CRC": _noop,
    "+COLP": _noop,
    "+CLVL": _noop,
    "+QURCCFG": _noop,
}

HANDLERS.update(voice.HANDLERS)
HANDLERS.update(audio.HANDLERS)
