"""The real core under systemd's notify protocol: READY=1, then WATCHDOG=1 pings, then STOPPING=1.

systemd is not PID 1 here, so the test plays systemd's part: it owns the
datagram socket named by ``$NOTIFY_SOCKET`` and sets ``$WATCHDOG_USEC``,
exactly what ``Type=notify`` + ``WatchdogSec=`` give the core on the box.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]


def _seed(tmp_path: Path) -> Path:
    demo = tmp_path / "clinic"
    web, sip = free_port(socket.SOCK_STREAM), free_port()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance",
            "demo",
            "--seed-only",
            str(demo),
            "--web-port",
            str(web),
            "--sip-port",
            str(sip),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    return demo / "clinicbox.toml"


def _messages(sock: socket.socket, until: float) -> list[str]:
    out = []
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            out.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if out[-1].startswith("READY=1") and sum("WATCHDOG=1" in m for m in out) >= 3:
            break
    return out


def test_core_sends_ready_and_watchdog_pings_then_stops_cleanly(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    notify_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify_path))
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(notify_path),
            "WATCHDOG_USEC": "600000",  # pings every 0.3 s
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WATCHDOG_PID", None)
        core = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(config), "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            seen: list[str] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(m.startswith("READY=1") for m in seen):
                seen += _messages(sock, min(deadline, time.monotonic() + 1))
                assert core.poll() is None, core.stdout.read().decode()[-2000:] if core.stdout else ""
            assert any(m.startswith("READY=1") for m in seen), f"no READY=1 in {seen}"
            ready_at = time.monotonic()
            after: list[str] = []
            while time.monotonic() < ready_at + 5 and sum(m == "WATCHDOG=1" for m in after) < 3:
                after += _messages(sock, time.monotonic() + 1)
            assert sum(m == "WATCHDOG=1" for m in after) >= 3, f"watchdog pings after READY: {after}"
            core.send_signal(signal.SIGTERM)
            assert core.wait(timeout=20) == 0
            rest = _messages(sock, time.monotonic() + 0.2)
            assert "STOPPING=1" in rest
        finally:
            if core.poll() is None:
                core.kill()
                core.wait()
