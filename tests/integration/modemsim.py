"""Talking to a running core's simulated modem (``appliance/modem/sim/control.py``):
the texts it sent, SMS "from the network", and waiting for what the core does."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any


def sim(box: Any, **command: Any) -> dict[str, Any]:
    """A command to the core's simulated modem (``cmd="sent"``, ``cmd="sms"``...)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(Path(box.dir) / "run" / "modem-sim.sock"))
        s.sendall(json.dumps(command).encode() + b"\n")
        return json.loads(s.makefile().readline())  # type: ignore[no-any-return]


def sent_to(box: Any, number: str) -> list[str]:
    """The texts of every SMS the core sent to ``number``, oldest first."""
    return [m["text"] for m in sim(box, cmd="sent")["sent"] if m["number"] == number]


def wait_for(what: str, check: Any, timeout: float, box: Any) -> Any:
    """``check()``'s first truthy answer within ``timeout`` s, else fail with the core's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s; log:\n{box.tail(60)}")
