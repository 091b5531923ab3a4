"""An edge whose parent dies (``clinicbox demo`` or a test killed outright) stops
with it instead of running on unsupervised; under systemd its parent is PID 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from appliance.edge.process import _kamailio_in_group
from appliance.edge.rpc import EdgeRpc
from appliance.errors import EdgeError
from tests.conftest import free_port
from tests.integration.edge.conftest import DESK
from tests.integration.sip.conftest import need
from tests.integration.sip.peers.common import child_env, tail
from tests.integration.switchboard.box import REPO, Box

# The parent: starts the edge, says its pid, then waits to be killed.
PARENT = """
import subprocess, sys
edge = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1], "wb"), stderr=subprocess.STDOUT)
print(edge.pid, flush=True)
edge.wait()
"""


def test_the_edge_stops_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    need("kamailio")
    box = Box(tmp_path / "c0", {"edge": {"enabled": True, "core_port": free_port()}}, stations=DESK)
    log = tmp_path / "edge.log"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PARENT,
            str(log),
            sys.executable,
            "-m",
            "appliance",
            "--config",
            str(box.config),
            "edge",
        ],
        stdout=subprocess.PIPE,
        env=child_env(),
        cwd=REPO,
    )
    kamailio = 0
    try:
        assert parent.stdout is not None
        kamailio = int(parent.stdout.readline())
        rpc = EdgeRpc(box.dir / "run" / "edge", timeout=1.0)
        deadline = time.monotonic() + 20
        while True:
            try:
                rpc.call("core.uptime")
                break
            except EdgeError:
                assert time.monotonic() < deadline, "the edge did not start:\n" + tail(log)
                time.sleep(0.1)
        assert _kamailio_in_group(kamailio)
        parent.send_signal(signal.SIGKILL)  # no clean-up: the demo or a test killed outright
        parent.wait()
        deadline = time.monotonic() + 15
        while _kamailio_in_group(kamailio):
            assert time.monotonic() < deadline, "Kamailio runs on after its parent was killed"
            time.sleep(0.2)
    finally:
        if parent.poll() is None:
            parent.kill()
        if kamailio:
            try:
                os.killpg(kamailio, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert box.stop() == 0
