"""The report written back to the stick: which box, what changed, what the self-test says.

A technician plugs the stick into a laptop afterwards and reads
``clinicbox-report-<serial>-<time>.json``. It never holds patient data:
only counts, key names, file names, versions and the doctor's results.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.config import Config
from appliance.doctor import Context, run_checks
from appliance.panel.gpio import board_model

CPUINFO = Path("/proc/cpuinfo")
MACHINE_ID = Path("/etc/machine-id")
OS_RELEASE = Path("/etc/os-release")


def box_serial(cpuinfo: Path = CPUINFO, machine_id: Path = MACHINE_ID) -> str:
    """The Pi's serial from ``/proc/cpuinfo``, else the machine id, else ``unknown``."""
    try:
        for line in cpuinfo.read_text(encoding="ascii", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "serial" and value.strip().strip("0"):
                return value.strip()
    except OSError:
        pass
    try:
        mid = machine_id.read_text(encoding="ascii").strip()
        if mid:
            return mid
    except OSError:
        pass
    return "unknown"


def _os_name(path: Path = OS_RELEASE) -> str:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def versions() -> dict[str, str]:
    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "clinicbox": __version__,
        "python": sys.version.split()[0],
        "pjsua2": dist("pjsua2-python"),
        "os": _os_name(),
        "kernel": platform.release(),
        "board": board_model() or platform.machine(),
    }


def doctor_results(cfg: Config | None) -> list[dict[str, str]]:
    """``clinicbox doctor --json``'s checks, run in this process."""
    if cfg is None:
        return [{"name": "configuration", "status": "FAIL", "detail": "the box's configuration is invalid", "fix": ""}]
    return [r.as_dict() for r in run_checks(Context(cfg))]


def build_report(
    *,
    ok: bool,
    reason: str,
    serial: str,
    started_at: datetime,
    finished_at: datetime,
    bundle: str = "",
    signed_by: str = "",
    changes: list[str] | None = None,
    warnings: list[str] | None = None,
    actions: list[str] | None = None,
    doctor: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "format": "clinicbox-provision-report",
        "version": 1,
        "result": "applied" if ok else "refused",
        "reason": reason,
        "box": {"serial": serial, "versions": versions()},
        "bundle": {"description": bundle, "signed_by": signed_by},
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "changes": list(changes or []),
        "warnings": list(warnings or []),
        "services": list(actions or []),
        # The same shape as `clinicbox doctor --json`.
        "doctor": {"ok": all(c.get("status") != "FAIL" for c in doctor or []), "checks": list(doctor or [])},
    }


def write_report(directory: Path, report: dict[str, Any], when: datetime) -> Path:
    """Write the report into ``directory`` (the stick's root) atomically; returns its path."""
    serial = "".join(c for c in str(report["box"]["serial"]) if c.isalnum())[:32] or "unknown"
    path = Path(directory) / f"clinicbox-report-{serial}-{when:%Y%m%d-%H%M%S}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
