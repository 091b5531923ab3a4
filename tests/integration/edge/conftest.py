"""Edge tests: a real core (``box``) behind the real SIP edge (Kamailio rendered by
``clinicbox edge``), with real peers (baresip, SIPp) as desk phones and callers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.edge.rpc import EdgeRpc
from appliance.errors import EdgeError
from tests.conftest import free_port
from tests.integration.sip.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    baresip,
    kamailio,
    need,
    peer_dir,
    scanner_home,
    sipp,
    sipua,
    tone_wav,
)
from tests.integration.sip.peers.common import child_env, stop, tail
from tests.integration.switchboard.box import REPO, Box, deep_update

DESK = {"desk1": {"name": "Desk 1", "queues": ["front-desk", "appointments"], "answer_mode": "manual"}}


def station_password(box: Box, station: str = "desk1") -> str:
    """The station's password as the box's secrets file holds it (the phone is set up with it)."""
    return str(tomllib.loads((box.dir / "secrets.toml").read_text())["stations"][station]["password"])


class Edge:
    """``clinicbox edge`` for a box's config: Kamailio on the box's SIP port."""

    def __init__(self, box: Box, *, supervise: bool = False) -> None:
        """``supervise``: start it again whenever it exits, as systemd's ``Restart=always``
        does on the box (the core asks the edge to exit to take a changed setting)."""
        self.box = box
        self.dir = box.dir / "run" / "edge"
        self.log = box.dir / "edge.log"
        self._logfh = self.log.open("wb")
        started = time.monotonic()
        self.proc = self._spawn()
        self.rpc = EdgeRpc(self.dir, timeout=1.0)
        self.restarts = 0
        self._closing = threading.Event()
        if supervise:
            threading.Thread(target=self._supervise, name="edge-supervisor", daemon=True).start()
        deadline = time.monotonic() + 15
        while True:
            try:
                self.rpc.call("core.uptime")
                break
            except EdgeError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the edge did not start:\n{tail(self.log)}") from None
                time.sleep(0.05)
        self.start_s = time.monotonic() - started

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(self.box.config), "edge"],
            stdout=self._logfh,
            stderr=subprocess.STDOUT,
            env=child_env(),
            cwd=REPO,
        )

    def _supervise(self) -> None:
        while not self._closing.wait(0.2):
            if self.proc.poll() is not None and not self._closing.is_set():
                time.sleep(0.5)  # systemd's RestartSec, shortened
                if not self._closing.is_set():
                    self.proc = self._spawn()
                    self.restarts += 1

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        self._closing.set()
        stop(self.proc, timeout=5)
        # Kamailio leads its own process group: a main process killed after the
        # timeout leaves its workers behind, spinning on its closed socket and
        # writing an error line per turn into edge.log. None may outlive the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._logfh.close()


def wait_registered(edge: Edge, station: str, timeout: float = 10.0) -> list[str]:
    """The contacts of ``station`` once the edge's registrar has it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        regs = edge.rpc.registrations()
        if station in regs:
            return regs[station]
        time.sleep(0.1)
    raise AssertionError(f"{station} did not register at the edge:\n{tail(edge.log)}")


def wait_rtp(phone: Any, timeout: float = 5.0) -> None:
    """baresip logs the first RTP packet it receives on the call's audio stream."""
    deadline = time.monotonic() + timeout
    while "incoming rtp for 'audio' established" not in phone.log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise AssertionError(f"no RTP reached the desk phone:\n{tail(phone.log)}")
        time.sleep(0.1)


@pytest.fixture
def edge_box(tmp_path: Path) -> Iterator[Callable[..., tuple[Box, Edge]]]:
    """``edge_box(overlay=..., stations=DESK, supervise=False)`` → (a running core behind the edge, the edge).

    ``supervise``: the edge is started again whenever it exits (systemd's ``Restart=always``)."""
    need("kamailio")
    started: list[tuple[Box, Edge | None]] = []

    def start(
        overlay: dict[str, Any] | None = None, stations: dict[str, Any] | None = None, supervise: bool = False
    ) -> tuple[Box, Edge]:
        edge = {"edge": {"enabled": True, "core_port": free_port(), "poll_interval_s": 0.5}}
        over = deep_update(edge, overlay or {})
        b = Box(tmp_path / f"c{len(started)}", over, stations=DESK if stations is None else stations)
        started.append((b, None))
        e = Edge(b, supervise=supervise)
        started[-1] = (b, e)
        return b, e

    yield start
    for b, e in reversed(started):
        if e is not None:
            e.close()
        code = b.stop()
        assert code == 0, f"the core did not stop cleanly ({code}); log:\n{b.tail()}"
