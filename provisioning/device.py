"""Mounting a provisioning stick: read-only, nosuid, nodev, noexec; then read-write for the report.

The one adapter (:class:`SystemMounter`, ``mount(8)``) has a fake in the
tests. Mount options are fixed here, not taken from the stick: nothing
on it can be executed (``noexec``), act as a device (``nodev``) or gain
privileges (``nosuid``), and the bundle is read while the stick is
read-only; only the report is written after a remount.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Protocol

from appliance.errors import ProvisioningError

log = logging.getLogger(__name__)

SAFE = "nosuid,nodev,noexec"
FILESYSTEMS = "vfat,exfat,ext4"


class Mounter(Protocol):
    def mount(self, device: Path, target: Path) -> None: ...

    def remount_rw(self, target: Path) -> None: ...

    def unmount(self, target: Path) -> None: ...

    def mount_backup(self, device: Path, target: Path, owner: tuple[int, int]) -> None: ...


class SystemMounter:
    def __init__(self, timeout_s: float = 60) -> None:
        self.timeout_s = timeout_s

    def _run(self, cmd: list[str]) -> None:
        log.info("running %s", " ".join(cmd))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProvisioningError(f"`{' '.join(cmd)}` did not complete: {exc}") from exc
        if done.returncode != 0:
            raise ProvisioningError(f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()}")

    def mount(self, device: Path, target: Path) -> None:
        self._run(["mount", "-t", FILESYSTEMS, "-o", f"ro,{SAFE}", str(device), str(target)])

    def remount_rw(self, target: Path) -> None:
        self._run(["mount", "-o", f"remount,rw,{SAFE}", str(target)])

    def unmount(self, target: Path) -> None:
        self._run(["umount", str(target)])

    def mount_backup(self, device: Path, target: Path, owner: tuple[int, int]) -> None:
        """Mount a backup stick read-write for the service user, in the box's own
        mount namespace (``systemd-mount``: this unit's namespace dies with it)."""
        try:
            done = subprocess.run(
                ["blkid", "-o", "value", "-s", "TYPE", str(device)],
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProvisioningError(f"cannot tell the filesystem of {device}: {exc}") from exc
        fstype = done.stdout.strip()
        if fstype not in FILESYSTEMS.split(","):
            raise ProvisioningError(f"{device} has a {fstype or 'unknown'} filesystem; use vfat, exfat or ext4")
        options = f"rw,{SAFE}"
        if fstype in ("vfat", "exfat"):
            options += f",uid={owner[0]},gid={owner[1]},fmask=0177,dmask=0077"
        self._run(
            [
                "systemd-mount",
                "--no-block",
                "--collect",
                f"--type={fstype}",
                f"--options={options}",
                str(device),
                str(target),
            ]
        )


def mount_point(mount_dir: Path, device: Path) -> Path:
    """``<mount_dir>/<sdb1>``: one folder per device, never a path taken from the stick."""
    name = "".join(c for c in device.name if c.isalnum()) or "stick"
    return Path(mount_dir) / name


def prepare(mount_dir: Path, device: Path) -> Path:
    target = mount_point(mount_dir, device)
    os.makedirs(mount_dir, mode=0o700, exist_ok=True)
    target.mkdir(mode=0o700, exist_ok=True)
    return target
