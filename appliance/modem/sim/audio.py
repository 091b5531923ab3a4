"""The simulated modem's voice-path commands, per family, and whether a call's
voice would flow.

Each family answers only its own commands (another family's answer
``ERROR``, as real firmware does):

* ``ec25``: ``AT+QCFG="USBCFG"`` (read; write stores the UAC flag, which the
  firmware uses from the next power-on) and ``AT+QPCMV`` (``1,2``: voice
  over USB audio; refused while the USB audio is not enumerated);
* ``sim7600``: ``AT+CPCMREG`` (``1`` only during a connected call);
* ``e173``: ``AT^CVOICE?`` (voice in the firmware) and ``AT^DDSETEX=2``
  (only during a connected call).

:func:`voice_route` is the truth a test checks: no voice unless that
family's step was done during this call (the PCM steps are forgotten when
the call ends).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.modem.sim.state import CmdError, SimState, arg_value

if TYPE_CHECKING:
    from appliance.modem.sim.simulator import ModemSimulator

Handler = Callable[["ModemSimulator", str, str], Any]

#: USBCFG as an EC25 reports it: VID, PID, diag, nmea, at, modem, rmnet, adb, uac.
_USBCFG = ["0x2C7C", "0x0125", "1", "1", "1", "1", "1", "0"]


def voice_route(st: SimState) -> str:
    """Where a call's voice goes now: "uac", "serial" or "" (nowhere)."""
    if not any(c.state == "active" for c in st.calls):
        return ""
    if st.profile == "ec25" and st.uac_active and st.qpcmv == "1,2":
        return "uac"
    if (st.profile == "sim7600" and st.cpcmreg) or (st.profile == "e173" and st.ddsetex):
        return "serial"
    return ""


def call_over(st: SimState) -> None:
    """No call is connected: the per-call PCM steps are forgotten."""
    if not any(c.state == "active" for c in st.calls):
        st.cpcmreg = st.ddsetex = False


def _only(profile: str, handler: Handler) -> Handler:
    def checked(sim: ModemSimulator, name: str, arg: str) -> Any:
        st = sim.state
        if st.profile != profile or name in st.voice_errors:
            raise CmdError("ERROR")
        return handler(sim, name, arg)

    return checked


def _active(st: SimState) -> None:
    if not any(c.state == "active" for c in st.calls):
        raise CmdError("CME", 3)  # operation not allowed: no connected call


def _qcfg(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    value = arg_value(arg)
    if not value.upper().startswith('"USBCFG"'):
        return []  # other QCFG settings are accepted and ignored
    parts = [p.strip() for p in value.split(",")[1:]]
    if not parts:
        if st.voice_noise:
            return ['+QCFG: "USBCFG",0x2C7C']
        return ['+QCFG: "USBCFG",' + ",".join([*_USBCFG, "1" if st.uac_stored else "0"])]
    if len(parts) != 9 or parts[:2] != _USBCFG[:2] or parts[8] not in ("0", "1"):
        raise CmdError("ERROR")
    st.uac_stored = parts[8] == "1"  # stored; the USB functions change at the next power-on
    return []


def _qpcmv(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if arg == "?":
        return [f"+QPCMV: {st.qpcmv or '0'}"]
    if arg == "=?":
        return ["+QPCMV: (0,1),(0-2)"]
    value = arg_value(arg).replace(" ", "")
    if value == "0":
        st.qpcmv = ""
        return []
    if value != "1,2" or not st.uac_active:
        raise CmdError("ERROR")  # voice over UAC needs the UAC function enumerated
    st.qpcmv = value
    return []


def _cpcmreg(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if arg == "=?":
        return ["+CPCMREG: (0,1)"]
    if arg == "?":
        return [f"+CPCMREG: {int(st.cpcmreg)}"]
    value = arg_value(arg)
    if value not in ("0", "1"):
        raise CmdError("CME", 4)
    if value == "1":
        _active(st)
    st.cpcmreg = value == "1"
    return []


def _cvoice(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if not st.voice_firmware:
        raise CmdError("ERROR")  # a data-only firmware does not know the command
    if arg == "?":
        return ["^CVOICE: ?"] if st.voice_noise else ["^CVOICE: 0,8000,16,20"]
    return []


def _ddsetex(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if not st.voice_firmware:
        raise CmdError("ERROR")
    if arg_value(arg) != "2":
        raise CmdError("CME", 4)
    _active(st)
    st.ddsetex = True
    return []


HANDLERS: dict[str, Handler] = {
    "+QCFG": _only("ec25", _qcfg),
    "+QPCMV": _only("ec25", _qpcmv),
    "+CPCMREG": _only("sim7600", _cpcmreg),
    "^CVOICE": _only("e173", _cvoice),
    "^DDSETEX": _only("e173", _ddsetex),
}
