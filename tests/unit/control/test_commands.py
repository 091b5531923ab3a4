"""The core's command table: who answers which control command, over a real socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.control import COMMANDS, CommandRefused, CommandTable, ControlClient, ControlServer, Request
from appliance.errors import ClinicBoxError, ControlError
from appliance.events import EventBus


def test_a_registered_command_gets_its_arguments_and_answers() -> None:
    table = CommandTable()
    seen: list[dict[str, Any]] = []
    table.register("night_mode.set", lambda args: seen.append(args) or {"night_mode": bool(args["on"])})
    assert table.handle(Request(1, "night_mode.set", {"on": True})) == {"night_mode": True}
    assert seen == [{"on": True}]
    assert table.names() == ["night_mode.set"]


def test_a_command_registered_twice_is_refused_and_the_first_stays() -> None:
    table = CommandTable()
    table.register("config.reload", lambda args: {"reloaded": True})
    with pytest.raises(ControlError, match=r"'config\.reload' is registered twice"):
        table.register("config.reload", lambda args: {"reloaded": False})
    assert table.handle(Request(1, "config.reload", {})) == {"reloaded": True}


def test_only_protocol_commands_the_server_does_not_answer_itself_can_be_registered() -> None:
    table = CommandTable()
    with pytest.raises(ControlError, match="not a control command"):
        table.register("rm -rf", lambda args: None)
    for own in ("ping", "status", "subscribe"):
        assert own in COMMANDS
        with pytest.raises(ControlError, match="answered by the control server itself"):
            table.register(own, lambda args: None)
    assert table.names() == []


def test_one_snapshot_source() -> None:
    table = CommandTable()
    assert table.snapshot() == {}
    table.register_snapshot(lambda: {"calls": []})
    with pytest.raises(ControlError, match="snapshot has a source already"):
        table.register_snapshot(lambda: {"calls": [1]})
    assert table.snapshot() == {"calls": []}


@pytest.fixture
def client(tmp_path: Path) -> Any:
    table = CommandTable()
    table.register("night_mode.set", lambda args: {"night_mode": bool(args["on"])})

    def refuse(args: dict[str, Any]) -> Any:
        raise ClinicBoxError("the store is locked; a manager must unlock it first")

    table.register("call.note", refuse)
    table.register_snapshot(lambda: {"box": {"night_mode": False}})
    server = ControlServer(tmp_path / "c.sock", table, EventBus(), min_interval=0.01)
    server.start()
    yield ControlClient(tmp_path / "c.sock")
    server.stop()


def test_the_table_behind_the_socket_answers_as_the_switchboard_did(client: ControlClient) -> None:
    assert client.night_mode(True) == {"night_mode": True}
    assert client.status() == {"box": {"night_mode": False}}
    assert client.call("ping") == {"pong": True}
    with pytest.raises(CommandRefused) as refused:
        client.call("call.note", call_id="c1", note="x")
    assert refused.value.code == "refused" and "the store is locked" in str(refused.value)


def test_unknown_and_unregistered_commands_get_the_same_error_replies_as_before(client: ControlClient) -> None:
    with pytest.raises(CommandRefused) as unknown:
        client.call("no.such")
    assert unknown.value.code == "unknown-command" and "unknown command 'no.such'; known: " in str(unknown.value)
    with pytest.raises(CommandRefused) as unsupported:
        client.call("call.answer", station="desk1")
    assert unsupported.value.code == "refused"
    assert str(unsupported.value) == "call.answer is not supported by this box"
