"""Where a backup may be written: the box's backup folder or a USB backup stick.

A *backup stick* is a USB filesystem (vfat, exfat or ext4, the kinds the
provisioning reader mounts) with a top-level folder ``clinicbox-backup/``,
the same convention as a provisioning stick's ``clinicbox-provision/``.
udev starts the provisioning reader for every USB filesystem; when it
finds that folder (and no bundle) it hands the stick over: mounted
read-write, nosuid, nodev, noexec at ``<run_dir>/usb/<sdb1>`` (see
:mod:`provisioning.backup_stick`). A stick counts only while it is
mounted there: a folder that merely looks like one is not a stick.

:func:`resolve` is the one gate for the ``to`` of ``store.backup`` and
``clinicbox db backup``: anything that is not the backup folder or a
mounted stick's ``clinicbox-backup/`` (``/etc``, ``../``, a symlink out)
is refused with a message that says where backups may go.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config
from appliance.errors import ValidationError

MARKER = "clinicbox-backup"
#: ``to`` meaning "the backup stick that is plugged in".
USB = "usb"
SD = "sd"
STICK = "stick"
_TAR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.tar$")


@dataclass(frozen=True)
class Stick:
    """A mounted backup stick: ``mount`` is ``<run_dir>/usb/<name>``."""

    name: str
    mount: Path

    @property
    def folder(self) -> Path:
        return self.mount / MARKER


@dataclass(frozen=True)
class Target:
    """A checked destination: the folder (and file name, if one was given)."""

    folder: Path
    where: str  # SD or STICK
    stick: Stick | None = None
    file_name: str = ""

    @property
    def dest(self) -> Path:
        return self.folder / self.file_name if self.file_name else self.folder


def usb_dir(cfg: Config) -> Path:
    """Where the provisioning reader mounts backup sticks."""
    return cfg.paths.run_dir / "usb"


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points(mountinfo: Path = Path("/proc/self/mountinfo")) -> set[str]:
    """Every mount point this process sees (bind mounts included, unlike ``os.path.ismount``)."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return set()
    return {_unescape(line.split()[4]) for line in lines if len(line.split()) > 4}


def sticks(cfg: Config) -> list[Stick]:
    """The backup sticks mounted now, by name."""
    root = usb_dir(cfg)
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    mounted = mount_points()
    found = []
    for entry in entries:
        if entry.is_symlink() or not entry.is_dir() or os.path.realpath(entry) not in mounted:
            continue
        marker = entry / MARKER
        if marker.is_dir() and not marker.is_symlink():
            found.append(Stick(entry.name, entry))
    return found


def _allowed(cfg: Config) -> str:
    return (
        f"a backup goes to the box's backup folder {cfg.backup_dir} or to a USB backup stick "
        f"(a stick with a {MARKER} folder, plugged in: `--to {USB}`)"
    )


def the_stick(cfg: Config) -> Stick:
    """The one backup stick that is plugged in.

    Raises:
        ValidationError: none, or more than one.
    """
    found = sticks(cfg)
    if not found:
        raise ValidationError(
            f"no USB backup stick is plugged in: plug in a stick (vfat, exfat or ext4) with a folder named {MARKER}"
        )
    if len(found) > 1:
        raise ValidationError(
            f"{len(found)} backup sticks are plugged in ({', '.join(s.name for s in found)}); leave only one"
        )
    return found[0]


def resolve(cfg: Config, to: str | Path | None) -> Target:
    """Check a backup destination.

    ``None`` is the backup folder; ``"usb"`` the plugged-in stick; a path
    must be the backup folder, a stick (its mount point or its
    ``clinicbox-backup`` folder), or a ``.tar`` name directly in one of those.

    Raises:
        ValidationError: anything else, with where backups may go.
    """
    if to is None or str(to) == "":
        return Target(cfg.backup_dir, SD)
    if str(to) == USB:
        stick = the_stick(cfg)
        return Target(stick.folder, STICK, stick)
    raw = str(to)
    if not os.path.isabs(raw):
        raise ValidationError(f"{raw} is not an absolute path; {_allowed(cfg)}")
    path = Path(os.path.realpath(raw))
    name = ""
    if path.suffix == ".tar":
        name, path = path.name, path.parent
        if not _TAR_NAME.match(name):
            raise ValidationError(f"{name!r} is not a usable backup file name (letters, digits, . _ - and .tar)")
    if path == Path(os.path.realpath(cfg.backup_dir)):
        return Target(cfg.backup_dir, SD, None, name)
    for stick in sticks(cfg):
        if path in (Path(os.path.realpath(stick.folder)), Path(os.path.realpath(stick.mount))):
            return Target(stick.folder, STICK, stick, name)
    raise ValidationError(f"refusing to write a backup to {raw}: {_allowed(cfg)}")
