"""The demo traffic generator against a stand-in box: real processes, real SIP, a real control socket.

The "box" is a sipua answering every call on the demo config's SIP port,
and a ControlServer with a scripted handler plays the core's control
socket, so this tests the generator alone: it calls the clinic's number
with demo patients' numbers, presses menu keys, answers the box's calls,
starts the demo stations, and drives the agents.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.config import load_config
from appliance.control import ControlServer, Request
from appliance.demo.seed import seed
from appliance.demo.traffic import plan_answer
from appliance.events import EventBus
from appliance.station import protocol
from tests.integration.sip.peers import SipUA, free_port
from tests.integration.sip.peers.common import REPO, child_env

SEED = 11


class FakeCore:
    """The control socket's other end: desk1 logged out, then ringing, on a call, in wrap-up."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.state = {"desk1": "logged-out", "desk2": "available"}

    def snapshot(self) -> dict[str, Any]:
        return {
            "agents": [
                {"station": s, "state": st, "call_id": "c1" if st != "available" else None}
                for s, st in self.state.items()
            ]
        }

    def handle(self, request: Request) -> Any:
        self.commands.append((request.cmd, dict(request.args)))
        station = request.args.get("station")
        following = {
            "agent.login": "ringing",
            "call.answer": "on-call",
            "call.hangup": "wrap-up",
            "call.wrapup_done": "available",
        }
        if station in self.state and request.cmd in following:
            self.state[station] = following[request.cmd]
        return {"ok": True}


@pytest.fixture
def demo(tmp_path: Path, sipua: Callable[..., SipUA]) -> tuple[Path, SipUA, int]:
    box = sipua(name="box", auto_answer=True)
    pstn_port = free_port()
    seed(tmp_path / "demo", sip_port=box.port, pstn_port=pstn_port, web_port=free_port(), rtp_port=30000)
    return tmp_path / "demo" / "clinicbox.toml", box, pstn_port


@pytest.fixture
def fake_core(demo: tuple[Path, SipUA, int]) -> Iterator[FakeCore]:
    cfg = load_config(demo[0])
    core = FakeCore()
    server = ControlServer(cfg.control_socket, core, EventBus())
    server.start()
    yield core
    server.stop()


def run_traffic(config: Path, seconds: float, *extra: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "appliance.demo.traffic", "--config", str(config), "--seed", str(SEED)]
    argv += ["--calls-per-min", "40", "--speed", "10", "--duration", str(seconds), *extra]
    return subprocess.Popen(argv, env=child_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_calls_in_with_patient_numbers_and_menu_keys(demo: tuple[Path, SipUA, int]) -> None:
    config, box, _ = demo
    cfg = load_config(config)
    traffic = run_traffic(config, 7, "--no-stations")
    first = box.wait_for("incoming", timeout=8)
    assert first["to"].startswith(f"<sip:{cfg.clinic.phone_number}@") or cfg.clinic.phone_number in first["to"]
    box.wait_for("dtmf", timeout=8)  # a caller walked the menu
    out, _ = traffic.communicate(timeout=20)
    assert traffic.returncode == 0, out.decode()
    callers = {e["caller"] for e in box.seen("incoming")}
    assert all(c.startswith(("+1212555", "+1347555", "+1917555")) for c in callers)
    assert any(c.startswith("+1212555") for c in callers)  # numbers from the demo store
    assert {e["digit"] for e in box.seen("dtmf")} <= {"0", "1", "2", "3"}
    log = out.decode()
    assert not [c for c in callers if c in log]  # callers' numbers are masked in its log


def test_answers_the_boxs_calls_and_presses_a_key(demo: tuple[Path, SipUA, int]) -> None:
    config, box, pstn_port = demo
    expected = plan_answer(random.Random(SEED + 1), speed=10)
    assert expected.answer and expected.digit  # what this seed makes "the patient" do
    traffic = run_traffic(config, 8, "--no-stations", "--calls-per-min", "0.01")
    time.sleep(1.5)
    cid = box.call(f"sip:+12125550101@127.0.0.1:{pstn_port}")
    box.wait_state("EARLY", cid, timeout=5)
    box.wait_state("CONFIRMED", cid, timeout=5)
    # Like a patient hearing a reminder: a key to hear the details, then the choice.
    assert box.wait_for("dtmf", lambda e: e["call"] == cid, timeout=5)["digit"] == "1"
    assert box.wait_for("dtmf", lambda e: e["call"] == cid, timeout=5)["digit"] == expected.digit
    box.hangup(cid)
    traffic.communicate(timeout=20)
    assert traffic.returncode == 0


def test_starts_the_demo_stations_and_plays_their_agents(demo: tuple[Path, SipUA, int], fake_core: FakeCore) -> None:
    config, box, _ = demo
    cfg = load_config(config)
    secrets = {sid: st.password for sid, st in cfg.stations.items()}
    traffic = run_traffic(config, 8, "--calls-per-min", "0.01", "--speed", "20")
    beats = set()
    deadline = time.monotonic() + 8
    while len(beats) < 2 and time.monotonic() < deadline:
        msg = box.wait_for("message", lambda e: e["content_type"] == protocol.CONTENT_TYPE, timeout=8)
        beats.add(protocol.verify_message(msg["body"], secrets)["station"])
    assert beats == {"desk1", "desk2"}
    traffic.communicate(timeout=25)
    assert traffic.returncode == 0
    cmds = [(c, a.get("station")) for c, a in fake_core.commands]
    assert cmds[:4] == [
        ("agent.login", "desk1"),
        ("call.answer", "desk1"),  # desk1 answers manually
        ("call.hangup", "desk1"),
        ("call.wrapup_done", "desk1"),
    ]
    assert ("call.answer", "desk2") not in cmds
