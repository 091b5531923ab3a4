"""The control socket refuses a peer that is not allowed (SO_PEERCRED).

The refused peer is a real process running as ``nobody`` (uid 65534): the
test forks and drops to that uid, which needs root (CI runs as root). The socket's mode is loosened to 0666 in these tests so that
the file mode lets ``nobody`` connect and only the peer check stands in
its way.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.control import CommandTable, ControlClient, ControlServer, PeerCred, PeerPolicy
from appliance.control.peers import peer_credentials
from appliance.events import EventBus

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="starting a peer as another user (nobody) needs root; CI runs the unit tests as root"
)


def test_the_policy_allows_root_its_own_user_and_the_groups_members() -> None:
    policy = PeerPolicy.for_config()
    me = os.getuid()
    assert policy.allows(PeerCred(pid=1, uid=0, gid=0))
    assert policy.allows(PeerCred(pid=1, uid=me, gid=12345))
    assert not policy.allows(PeerCred(pid=1, uid=65534, gid=65534))
    grouped = PeerPolicy(uids=frozenset({0}), gids=frozenset({4242}))
    assert grouped.allows(PeerCred(pid=1, uid=65534, gid=4242))
    assert grouped.allows(PeerCred(pid=1, uid=65534, gid=65534, groups=(20, 4242)))
    assert not grouped.allows(PeerCred(pid=1, uid=65534, gid=65534, groups=(20,)))


def test_named_users_and_a_missing_group_or_user() -> None:
    policy = PeerPolicy.for_config("no-such-group-here", ["nobody", "no-such-user-here"])
    assert pwd.getpwnam("nobody").pw_uid in policy.uids
    assert policy.gids == frozenset()


def test_the_kernel_names_the_peer() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        peer = peer_credentials(a)
    assert (peer.pid, peer.uid, peer.gid) == (os.getpid(), os.getuid(), os.getgid())


@pytest.fixture
def served() -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """A real control server whose one command records its calls, on a socket anyone may open."""
    folder = Path(tempfile.mkdtemp(prefix="cbx-peer-"))
    folder.chmod(0o755)
    seen: list[dict[str, Any]] = []
    table = CommandTable()
    table.register("night_mode.set", lambda args: seen.append(args) or {"night_mode": True})
    server = ControlServer(folder / "control.sock", table, EventBus())
    server.start()
    (folder / "control.sock").chmod(0o666)  # a loosened mode: only SO_PEERCRED is left to refuse
    yield folder / "control.sock", seen
    server.stop()
    folder.rmdir()


def run_peer(path: Path, uid: int, gid: int) -> str:
    """Fork a child that drops to ``uid``/``gid`` (no other groups), connects,
    sends one command and hands back the first reply line (or why it failed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: raw syscalls only, then _exit
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(str(path))
                s.sendall(b'{"v": 1, "id": 1, "cmd": "night_mode.set", "args": {"on": true}}\n')
                line = s.makefile("rb").readline() or b"closed"
        except OSError as exc:
            line = f"oserror {exc.errno}".encode()
        os.write(write_end, line)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        out = fh.read()
    os.waitpid(pid, 0)
    return out.decode().strip()


NOBODY = 65534


@needs_root
def test_a_peer_that_is_not_allowed_is_refused_and_its_command_never_runs(
    served: tuple[Path, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    path, seen = served
    out = run_peer(path, NOBODY, NOBODY)
    reply = json.loads(out)
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden"
    assert "uid 65534 may not command the ClinicBox core" in reply["error"]["message"]
    assert seen == []
    assert "refused pid" in caplog.text and "uid 65534" in caplog.text


@needs_root
def test_the_same_peer_in_the_sockets_group_is_allowed() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cbx-peer-"))
    folder.chmod(0o755)
    table = CommandTable()
    table.register("night_mode.set", lambda args: {"night_mode": True})
    server = ControlServer(folder / "s", table, EventBus(), peers=PeerPolicy(frozenset({0}), frozenset({4242})))
    server.start()
    try:
        (folder / "s").chmod(0o666)
        assert json.loads(run_peer(folder / "s", NOBODY, 4242))["ok"] is True
        refused = json.loads(run_peer(folder / "s", NOBODY, NOBODY))
        assert refused["error"]["code"] == "forbidden"
    finally:
        server.stop()
        folder.rmdir()


def test_the_cores_own_user_is_served(served: tuple[Path, list[dict[str, Any]]]) -> None:
    path, seen = served
    assert ControlClient(path).call("night_mode.set", on=True) == {"night_mode": True}
    assert seen == [{"on": True}]
