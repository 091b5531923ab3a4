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
    """The texts the core sent to ``number``, oldest first, as the phone shows them: the
    parts of a long text (concatenated SMS, 160 GSM-7 characters each) joined into one,
    and a text whose parts have not all left yet not shown."""
    texts: list[list[str] | str] = []
    open_parts: dict[int, list[str]] = {}  # concat reference -> parts by sequence number (1-based)
    for m in sim(box, cmd="sent")["sent"]:
        if m["number"] != number:
            continue
        if not m.get("concat"):
            texts.append(m["text"])
            continue
        ref, total, seq = m["concat"]
        parts = open_parts.get(ref)
        if parts is None:
            parts = open_parts[ref] = [""] * total
            texts.append(parts)
        parts[seq - 1] = m["text"]
        if all(parts):
            del open_parts[ref]  # complete: the reference may be used again later
    return ["".join(t) if isinstance(t, list) else t for t in texts if isinstance(t, str) or all(t)]


def wait_for(what: str, check: Any, timeout: float, box: Any) -> Any:
    """``check()``'s first truthy answer within ``timeout`` s, else fail with the core's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s; log:\n{box.tail(60)}")
