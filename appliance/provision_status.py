"""The last provisioning run's outcome, in a small JSON file other processes read.

The run happens in its own process (``clinicbox-provision@.service``), so
the core's LED panel and ``clinicbox doctor`` learn about it from
``<state_dir>/provisioning/status.json``, written atomically at the start
and at the end of every run. It holds no patient data and no secrets: the
state, times, the bundle's description, the reason of a refusal and the
list of what changed.

The provisioning run (:mod:`provisioning.run`) writes it; the panel and
the doctor read it. It lives here, at the base of the core, and imports
nothing from the rest of ClinicBox, so the core reads the file without
pulling in the provisioning code (which sits above the services it reports
on).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = "clinicbox-provision-status"
STATES = ("running", "succeeded", "failed")


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    state: str  # running, succeeded, failed
    started_at: str  # ISO 8601, UTC
    finished_at: str = ""
    bundle: str = ""
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    source: str = ""


def status_path(state_dir: Path) -> Path:
    return Path(state_dir) / "provisioning" / "status.json"


def write_status(state_dir: Path, status: RunStatus) -> Path:
    """Write the status atomically (temp file, fsync, rename); readable by the core."""
    path = status_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": 1, **asdict(status)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_status(state_dir: Path) -> RunStatus | None:
    """The last run's status; ``None`` when the box was never provisioned.

    A damaged file reads as a failed run, so nobody mistakes it for success.
    """
    path = status_path(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return RunStatus("unknown", "failed", "", reason=f"the status file {path} is unreadable ({exc})")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("state") not in STATES:
        return RunStatus("unknown", "failed", "", reason=f"the status file {path} is not a provisioning status")
    changes = data.get("changes", [])
    return RunStatus(
        run_id=str(data.get("run_id", "")),
        state=str(data["state"]),
        started_at=str(data.get("started_at", "")),
        finished_at=str(data.get("finished_at", "")),
        bundle=str(data.get("bundle", "")),
        reason=str(data.get("reason", "")),
        changes=[str(c) for c in changes] if isinstance(changes, list) else [],
        source=str(data.get("source", "")),
    )
