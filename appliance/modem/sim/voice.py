"""The simulated modem's voice line: dial, answer, hang up, DTMF, caller ID.

An incoming call rings (``RING`` and ``+CLIP`` every three seconds) until
answered or hung up by the far end; an outgoing call goes dialing →
alerting → active after ``answer_delay_s``, or ends ``BUSY`` for numbers
in ``busy_numbers``. A second caller during a call waits (``+CCWA``) when
``AT+CCWA`` enabled call waiting, else the network gives them busy;
``AT+CHLD=0`` turns a waiting caller away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.modem.sim import audio
from appliance.modem.sim.state import SILENT, CmdError, SimCall, arg_ints, arg_value, need_sim

if TYPE_CHECKING:
    from appliance.modem.sim.simulator import ModemSimulator

Handler = Callable[["ModemSimulator", str, str], Any]


def _next_index(sim: ModemSimulator) -> int:
    used = {c.index for c in sim.state.calls}
    return next(i for i in range(1, 8) if i not in used)


def incoming_call(sim: ModemSimulator, number: str, withheld: bool) -> None:
    st = sim.state
    shown = "" if withheld else number
    if st.calls:
        if not st.call_waiting or any(c.state == "waiting" for c in st.calls):
            st.turned_away.append(number)  # the network says busy; the box never hears of it
            return
        st.calls.append(SimCall(_next_index(sim), False, "waiting", shown))
        if st.ccwa_urc:
            ton = 145 if shown.startswith("+") else 129
            sim.emit(f'+CCWA: "{shown}",{ton},1,,{1 if withheld else 0}')
        return
    call = SimCall(_next_index(sim), False, "incoming", shown)
    st.calls.append(call)
    _ring(sim, call)


def _ring(sim: ModemSimulator, call: SimCall) -> None:
    if call not in sim.state.calls or call.state != "incoming":
        return
    lines = ["RING"]
    if sim.state.clip:
        if call.number:
            ton = 145 if call.number.startswith("+") else 129
            lines.append(f'+CLIP: "{call.number}",{ton},"",0,"",0')
        else:
            lines.append('+CLIP: "",128,"",0,"",1')
    sim.emit(*lines)
    sim.later(3.0, lambda: _ring(sim, call))


def remote_hangup(sim: ModemSimulator) -> None:
    if sim.state.calls:
        sim.state.calls.clear()
        audio.call_over(sim.state)
        sim.emit("NO CARRIER")


def _dial(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if not arg.endswith(";"):
        raise CmdError("ERROR")  # data calls are not simulated
    need_sim(sim.state.sim)
    if st.reg_stat not in (1, 5):
        raise CmdError("CME", 30)
    if st.calls:
        raise CmdError("CME", 3)
    number = arg[:-1].strip()
    call = SimCall(_next_index(sim), True, "dialing", number)
    st.calls.append(call)

    def alerting() -> None:
        if call in st.calls:
            call.state = "alerting"
            if number in st.busy_numbers:
                sim.later(0.1, lambda: _end(sim, call, "BUSY"))
            else:
                sim.later(st.answer_delay_s, connect)

    def connect() -> None:
        if call in st.calls:
            call.state = "active"

    sim.later(0.1, alerting)
    return []


def _end(sim: ModemSimulator, call: SimCall, result: str) -> None:
    if call in sim.state.calls:
        sim.state.calls.remove(call)
        audio.call_over(sim.state)
        sim.emit(result)


def _answer(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    for call in sim.state.calls:
        if call.state == "incoming":
            call.state = "active"
            return []
    raise CmdError("ERROR")  # real modems answer NO CARRIER; ERROR is close enough


def _ccwa(sim: ModemSimulator, name: str, arg: str) -> object:
    """``AT+CCWA=<n>[,<mode>[,<class>]]``: n = present +CCWA; mode 0/1 = the
    network switches call waiting off/on, 2 = query (both need the network)."""
    st = sim.state
    if arg == "=?":
        return ["+CCWA: (0,1)"]
    if arg == "?":
        return [f"+CCWA: {int(st.ccwa_urc)}"]
    values = arg_ints(arg)
    mode = values[1] if len(values) > 1 else None
    if mode is not None and mode not in (0, 1, 2):
        raise CmdError("CME", 4)
    st.ccwa_urc = values[0] == 1
    if mode is None:
        return []
    if st.ccwa_silent:
        return SILENT  # the network never answers; the host's command times out
    if mode in (0, 1):
        st.call_waiting = mode == 1
        return []
    return [f"+CCWA: {int(st.call_waiting)},1"]


def _chld(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    """Call hold and multiparty (TS 22.030): 0 = release the waiting or held calls."""
    if arg == "=?":
        return ["+CHLD: (0,1,1x,2,2x,3,4)"]
    st = sim.state
    action = arg_value(arg).strip()
    if action != "0":
        raise CmdError("CME", 4)  # only what the box uses is simulated
    released = [c for c in st.calls if c.state in ("waiting", "held")]
    for call in released:
        st.calls.remove(call)
        st.turned_away.append(call.number)
    if released:  # some modems report the released call's end like any other
        sim.later(0.05, lambda: sim.emit("NO CARRIER"))
    return []


def _hangup(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "=?":
        return []
    sim.state.calls.clear()
    audio.call_over(sim.state)
    return []


def _clcc(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "=?":
        return []
    codes = {"active": 0, "held": 1, "dialing": 2, "alerting": 3, "incoming": 4, "waiting": 5}
    out = []
    for c in sim.state.calls:
        ton = 145 if c.number.startswith("+") else 129
        out.append(f'+CLCC: {c.index},{0 if c.outgoing else 1},{codes[c.state]},0,0,"{c.number}",{ton}')
    return out


def _vts(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if not any(c.state == "active" for c in sim.state.calls):
        raise CmdError("CME", 3)
    digit = arg_value(arg).strip('"')
    if not digit or any(ch not in "0123456789*#ABCD" for ch in digit):
        raise CmdError("CME", 4)
    sim.state.dtmf += digit
    return []


def _clip(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f"+CLIP: {int(sim.state.clip)},1"]
    if arg == "=?":
        return ["+CLIP: (0,1)"]
    sim.state.clip = arg_ints(arg)[0] == 1
    return []


HANDLERS: dict[str, Handler] = {
    "D": _dial,
    "A": _answer,
    "H": _hangup,
    "+CHUP": _hangup,
    "+CLCC": _clcc,
    "+VTS": _vts,
    "+CLIP": _clip,
    "+CCWA": _ccwa,
    "+CHLD": _chld,
}
