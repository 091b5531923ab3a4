"""Control socket: request validation and a real socket round trip."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from appliance.control import CommandRefused, ControlClient, ControlServer, ProtocolError, Request
from appliance.control.protocol import parse_request
from appliance.errors import ClinicBoxError, ControlError
from appliance.events import EventBus


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"not json", "bad-json"),
        (b"[1,2]", "bad-json"),
        (b'{"cmd": "rm -rf"}', "unknown-command"),
        (b'{"v": 2, "cmd": "ping"}', "bad-version"),
        (b'{"cmd": "call.answer"}', "bad-args"),
        (b'{"cmd": "call.answer", "args": {"station": "d", "evil": 1}}', "bad-args"),
        (b'{"cmd": "ping", "args": []}', "bad-args"),
        (b"\xff\xfe", "bad-json"),
    ],
)
def test_malformed_requests_are_rejected(line: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_request(line)
    assert err.value.code == code


class Scripted:
    def __init__(self) -> None:
        self.seen: list[Request] = []

    def handle(self, request: Request) -> Any:
        self.seen.append(request)
        if request.cmd == "call.answer":
            raise ClinicBoxError("nothing is ringing at desk1")
        return {"ok": request.cmd}

    def snapshot(self) -> dict[str, Any]:
        return {"queues": [], "n": len(self.seen)}


@pytest.fixture
def server(tmp_path: Path):
    bus = EventBus()
    handler = Scripted()
    srv = ControlServer(tmp_path / "c.sock", handler, bus, min_interval=0.01)
    srv.start()
    yield srv, bus, handler
    srv.stop()


def test_commands_and_refusals(server: Any, tmp_path: Path) -> None:
    _, _, handler = server
    client = ControlClient(tmp_path / "c.sock")
    assert client.login("desk1") == {"ok": "agent.login"}
    with pytest.raises(CommandRefused, match="nothing is ringing"):
        client.answer("desk1")
    assert [r.cmd for r in handler.seen] == ["agent.login", "call.answer"]
    assert oct((tmp_path / "c.sock").stat().st_mode & 0o777) == "0o600"


def test_garbage_on_the_socket_gets_an_error_and_the_server_survives(server: Any, tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(tmp_path / "c.sock"))
        s.sendall(b"\x00\x01garbage\n")
        reply = json.loads(s.makefile("rb").readline())
    assert reply["ok"] is False and reply["error"]["code"] == "bad-json"
    assert ControlClient(tmp_path / "c.sock").call("ping") == {"pong": True}


def test_subscribers_get_snapshots_and_events(server: Any, tmp_path: Path) -> None:
    _, bus, _ = server
    stream = ControlClient(tmp_path / "c.sock").subscribe()
    assert next(stream)[0] == "snapshot"
    bus.emit("agent.ringing", station="desk1", call_id="c1")
    bus.emit("unrelated.thing")
    event, data = next((e, d) for e, d in stream if e != "snapshot")
    assert (event, data["station"]) == ("agent.ringing", "desk1")


def test_client_says_when_the_core_is_down(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="core is not running"):
        ControlClient(tmp_path / "nothing.sock").status()


def test_a_subscription_stays_open_across_quiet_periods(server: Any, tmp_path: Path) -> None:
    """A wallboard may see no change for minutes; its stream must not drop."""
    import time

    _, bus, _ = server
    stream = ControlClient(tmp_path / "c.sock").subscribe()
    assert next(stream)[0] == "snapshot"
    bus.emit("agent.state", station="desk1", state="available")
    assert next(e for e, _ in stream if e != "snapshot") == "agent.state"
    time.sleep(3.0)  # longer than any send timeout
    bus.emit("agent.ringing", station="desk1", call_id="c2")
    event, data = next((e, d) for e, d in stream if e != "snapshot")
    assert (event, data["call_id"]) == ("agent.ringing", "c2")
