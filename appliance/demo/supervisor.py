"""Runs the demo box's processes together, like systemd does on the appliance.

Each child is a real ClinicBox process (core, web UI, modem simulator,
traffic generator) started with the demo config; a child that dies is
restarted after a short pause, and Ctrl-C stops them all in reverse order.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool = True
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    env: dict[str, str] = field(default_factory=dict)


class Supervisor:
    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self._stop = threading.Event()

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, **child.env, "PYTHONUNBUFFERED": "1"}
        child.proc = subprocess.Popen(child.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        child.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(child, child.proc), daemon=True).start()

    @staticmethod
    def _pump(child: Child, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            sys.stdout.write(f"[{child.name}] {raw.decode('utf-8', 'replace')}")
            sys.stdout.flush()

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)
            time.sleep(0.3)  # the core first: its control socket and SIP port

    def stop(self) -> None:
        self._stop.set()
        for child in reversed(self.children):
            if child.proc and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(child.proc)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        self.start()
        try:
            while not self._stop.wait(0.5):
                for child in self.children:
                    if child.proc is not None and child.proc.poll() is not None and child.restart:
                        code = child.proc.returncode
                        quick = time.monotonic() - child.started_at < 5
                        child.restarts += 1
                        if quick and child.restarts > 5:
                            print(
                                f"[demo] {child.name} keeps failing (exit {code}); stopping the demo",
                                flush=True,
                            )
                            self._stop.set()
                            break
                        print(f"[demo] {child.name} exited ({code}); restarting", flush=True)
                        time.sleep(1.0)
                        self._spawn(child)
        finally:
            self.stop()
        return 0


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a child that ignored SIGTERM, and its whole process group if it leads one
    (the edge: Kamailio's workers would outlive their main process and spin)."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()
