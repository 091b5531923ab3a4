"""The report written back to the stick: which box, what changed, what the self-test says.

A technician plugs the stick into a laptop afterwards and reads
``clinicbox-report-<serial>-<time>.json``. It never holds patient data:
only counts, key names, file names, versions and the doctor's results,
and, on a box with no manager yet, the one-time code that opens the web
UI's first-run setup (the stick was in the box, so its holder was there).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import platform
import secrets
import stat
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.board import board_model
from appliance.config import Config
from appliance.doctor import Context, run_checks
from appliance.errors import ProvisioningError

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
        "pjsua2": dist("clinicbox-pjsua2"),
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
    setup: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The report's JSON. ``setup`` (a box with no manager yet) carries its one-time setup code."""
    report = {
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
    if setup:
        report["setup"] = setup
    return report


def write_report(directory: Path, report: dict[str, Any], when: datetime) -> Path:
    """Write the report into ``directory`` (the stick's root) atomically; returns its path.

    The box runs this as root on a filesystem anyone can prepare (ext4
    sticks hold symlinks), so no name on the stick is trusted: the folder
    is opened once without following a link, the temporary file gets an
    unpredictable name and is created exclusively (never through an
    existing entry), and the rename stays inside that opened folder.

    Raises:
        ProvisioningError: the folder is a symlink or not a folder, or the
            report's name on the stick is a symlink or not a regular file
            (nothing is written).
    """
    serial = "".join(c for c in str(report["box"]["serial"]) if c.isalnum())[:32] or "unknown"
    name = f"clinicbox-report-{serial}-{when:%Y%m%d-%H%M%S}.json"
    path = Path(directory) / name
    dir_fd = _open_report_dir(Path(directory))
    try:
        _refuse_odd_target(dir_fd, name, path)
        tmp = f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(report, fh, indent=1, ensure_ascii=False)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            # rename(2) replaces the directory entry and never follows a link there.
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return path


def _open_report_dir(directory: Path) -> int:
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = "a symlink" if directory.is_symlink() else "not a folder"
            raise ProvisioningError(
                f"the report folder {directory} is {kind}; the report was not written "
                "(reports go only into the stick's mount point, a plain folder the box creates)"
            ) from exc
        raise


def _refuse_odd_target(dir_fd: int, name: str, path: Path) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        kind = "a symlink"
    elif not stat.S_ISREG(st.st_mode):
        kind = "not a regular file"
    else:
        return
    raise ProvisioningError(
        f"{path} on the stick is {kind}; the report was not written (delete it from the stick and provision again)"
    )
