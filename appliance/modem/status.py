"""The modem's state as the rest of the box sees it, and its status file.

The running core writes ``<run_dir>/modem-status.json`` whenever the
state changes, so ``clinicbox doctor`` and ``clinicbox modem status``
(other processes) can report on a modem the core owns without touching
its port.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from appliance.events.kinds import ModemStatusData

STATUS_FILE = "modem-status.json"

#: Values of ``state``: where the modem is on its way to ``ready``.
STATES = (
    "stopped",
    "starting",
    "absent",  # no modem found
    "busy",  # another process holds the port
    "no-sim",
    "sim-locked",  # PIN needed and none configured, or PUK needed
    "pin-rejected",
    "searching",  # answering, SIM fine, not registered
    "ready",
    "unresponsive",
    "recovering",
    "failed",  # every recovery step failed; retried after a cooldown
)


@dataclass(frozen=True)
class ModemStatus:
    state: str = "stopped"
    registered: bool = False
    voice: bool = False
    signal: int = 0  # 0-5 bars
    dbm: int | None = None
    operator: str = ""
    sim: str = "unknown"
    imei: str = ""
    model: str = ""
    port: str = ""
    call: str = "idle"
    detail: str = ""
    last_recovery: dict[str, Any] | None = None
    power_line: str = ""  # "" not fitted, "GPIO n", or why it could not be opened
    voice_path: dict[str, Any] | None = None  # VoicePath.as_dict(): route, ready, port, detail, text
    updated_at: float = field(default_factory=time.time)

    def event_data(self) -> ModemStatusData:
        """The ``modem.status`` event's data."""
        return {
            "state": self.state,
            "registered": self.registered,
            "voice": self.voice,
            "signal": self.signal,
            "dbm": self.dbm,
            "operator": self.operator,
            "sim": self.sim,
        }

    def key(self) -> tuple[Any, ...]:
        """What must change for a new ``modem.status`` event."""
        return (self.state, self.registered, self.voice, self.signal, self.operator, self.sim)

    def with_(self, **changes: Any) -> ModemStatus:
        return replace(self, updated_at=time.time(), **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_status(run_dir: Path, status: ModemStatus) -> None:
    """Atomically replace the status file (errors are ignored: it is informative)."""
    with contextlib.suppress(OSError):
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / STATUS_FILE
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        data = {**status.as_dict(), "pid": os.getpid()}
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
        os.replace(tmp, path)


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """The last status the core wrote, or None when there is none or its
    writer is no longer running."""
    path = run_dir / STATUS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = data.get("pid")
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
    return data if isinstance(data, dict) else None
