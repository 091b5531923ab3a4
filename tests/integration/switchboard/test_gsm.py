"""GSM calls through the real switchboard: the simulated modem (AT over a
pty, in the core) plus the real GSM gateway process (PJSUA2)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from appliance.control import ControlClient
from tests.integration.switchboard.conftest import DESKS

A = "+12125550001"


def sim(box: Any, **command: Any) -> dict[str, Any]:
    """Send a command to the core's simulated modem (see appliance/modem/sim/control.py)."""
    path = Path(box.dir) / "run" / "modem-sim.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(json.dumps(command).encode() + b"\n")
        return json.loads(s.makefile().readline())


def gsm_box(box: Any, station_proc: Any, **overlay: Any) -> Any:
    stations = {"desk2": DESKS["desk2"], "gsm": {"name": "GSM gateway"}}
    b = box(overlay={"modem": {"enabled": True}, **overlay}, stations=stations)  # the demo box simulates its modem
    b.wait(lambda s: s["modem"].get("state") == "ready", timeout=20, what="the simulated modem")
    station_proc(b.config, station="gsm", core=b.core, gateway=True)
    deadline = time.monotonic() + 10
    while "GSM gateway up" not in b.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, b.tail()
        time.sleep(0.1)
    return b


def test_an_incoming_gsm_call_reaches_the_ivr(box, station_proc) -> None:
    b = gsm_box(box, station_proc)
    assert sim(b, cmd="call", **{"from": A})["ok"]
    status = b.wait(
        lambda s: any(c["route"] == "gsm" and c["state"] == "ivr" for c in s["calls"]),
        timeout=15,
        what="the GSM caller in the IVR",
    )
    assert next(c for c in status["calls"] if c["route"] == "gsm")["caller"] == A
    time.sleep(1.0)
    assert sim(b, cmd="hangup")["ok"]  # the patient hangs up on the mobile network
    rec = b.call_record(lambda r: r.route == "gsm", timeout=15)
    assert rec.direction == "inbound" and rec.caller == A and rec.disposition == "ivr"
    assert rec.ivr_path[:2] == ["hours", "welcome"]


def test_with_the_trunk_down_outgoing_calls_use_the_modem(box, station_proc) -> None:
    b = gsm_box(box, station_proc, trunk={"enabled": False})
    b.wait(lambda s: s["failover"]["route"] == "gsm", timeout=10, what="the GSM route")
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    ControlClient(b.dir / "run" / "control.sock").call("call.originate", station="desk2", number="+48601234567")
    status = b.wait(
        lambda s: any(c["route"] == "gsm" and c["state"] == "talking" for c in s["calls"]),
        timeout=20,
        what="the GSM call answered and bridged to desk2",
    )
    assert next(c for c in status["calls"] if c["route"] == "gsm")["agent"] == "desk2"
    time.sleep(1.0)
    ControlClient(b.dir / "run" / "control.sock").hangup("desk2")
    rec = b.call_record(lambda r: r.route == "gsm", timeout=15)
    assert rec.direction == "outbound" and rec.disposition == "answered" and rec.agent == "desk2"


def test_a_gsm_call_with_no_line_left_for_an_agent_is_rejected_and_kept_for_a_callback(
    box, station_proc, sipua
) -> None:
    b = gsm_box(box, station_proc, sip={"max_calls": 4})
    patient = sipua(name="patients")
    for n in range(3):  # three callers in the menu; the fourth line stays free to ring an agent
        cid = patient.call(b.uri, from_user=f"+1212555010{n}")
        patient.wait_state("CONFIRMED", cid)
    b.wait(lambda s: s["capacity"]["in_use"] == 3, timeout=10, what="three lines in use")
    assert sim(b, cmd="call", **{"from": A})["ok"]
    deadline = time.monotonic() + 10
    while sim(b, cmd="calls")["calls"]:  # the box rejects the mobile call instead of letting it ring out
        assert time.monotonic() < deadline, b.tail()
        time.sleep(0.2)
    rows = b.rows("SELECT number, source, status FROM callbacks WHERE number = ?", (A,))
    assert rows == [(A, "busy", "open")], b.tail()
    assert b.query("SELECT route, disposition FROM calls WHERE caller = ?", (A,)) == [("gsm", "busy")]
    assert b.proc.poll() is None


def test_a_second_mobile_caller_during_a_gsm_call_goes_on_the_callback_list(box, station_proc) -> None:
    b = gsm_box(box, station_proc)
    second = "+12125550002"
    assert sim(b, cmd="call", **{"from": A})["ok"]
    b.wait(
        lambda s: any(c["route"] == "gsm" and c["state"] == "ivr" for c in s["calls"]),
        timeout=15,
        what="the first GSM caller in the IVR",
    )
    assert sim(b, cmd="call", **{"from": second})["ok"]  # rings while the line is in use: call waiting
    rows = b.rows("SELECT number, source, status FROM callbacks WHERE number = ?", (second,))
    assert rows == [(second, "busy", "open")], b.tail()
    assert b.query("SELECT route, disposition FROM calls WHERE caller = ?", (second,)) == [("gsm", "busy")]
    calls = sim(b, cmd="calls")["calls"]
    assert [(c["state"], c["number"]) for c in calls] == [("active", A)]  # the first caller is still on
    status = b.wait(lambda s: s, what="a snapshot")
    assert [c["caller"] for c in status["calls"] if c["route"] == "gsm"] == [A]
    assert sim(b, cmd="hangup")["ok"]
