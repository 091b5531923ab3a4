"""A USB backup stick: recognised by the provisioning reader, handed over to the core.

udev starts the provisioning reader (``clinicbox provision apply
/dev/sdb1``, root) for every USB filesystem; it mounts the stick read-only
in its own mount namespace and looks for ``clinicbox-provision/``. A stick
without a bundle but with a top-level ``clinicbox-backup/`` folder is a
*backup stick* (:mod:`appliance.store.sticks`). The reader's mount dies
with its unit, so it hands the stick over: it unmounts it and asks systemd
(``systemd-mount``, a transient mount unit bound to the device, gone when
the stick is pulled) to mount it in the box's namespace at
``<run_dir>/usb/<sdb1>``: read-write, nosuid, nodev, noexec, and for vfat
and exfat owned by the service user (``uid=,gid=,fmask=0177,dmask=0077``); on ext4
the reader gives the ``clinicbox-backup`` folder to the service user
first. The core then writes backups there (the nightly timer, the web
UI's "Back up now to USB stick", ``clinicbox db backup --to usb``).
Nothing on the stick is executed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from appliance.config import Config
from appliance.store import sticks
from provisioning.device import Mounter, mount_point

log = logging.getLogger(__name__)


def is_backup_stick(mounted: Path) -> bool:
    """Does the stick mounted at ``mounted`` carry the backup folder?"""
    marker = Path(mounted) / sticks.MARKER
    return marker.is_dir() and not marker.is_symlink()


def _owner(cfg: Config) -> tuple[int, int]:
    try:
        st = cfg.paths.state_dir.stat()
    except OSError:
        return os.getuid(), os.getgid()
    return st.st_uid, st.st_gid


def prepare(mounted: Path, cfg: Config, mounter: Mounter) -> None:
    """While the reader still has it mounted: give the backup folder to the
    service user (ext4 keeps owners; vfat and exfat get them as mount options)."""
    folder = Path(mounted) / sticks.MARKER
    uid, gid = _owner(cfg)
    st = folder.stat()
    if (st.st_uid, st.st_gid) == (uid, gid) or os.geteuid() != 0:
        return
    mounter.remount_rw(mounted)
    with contextlib.suppress(OSError):  # vfat/exfat: owners come from the mount options
        os.chown(folder, uid, gid)
        os.chmod(folder, 0o700)


def hand_over(device: Path, cfg: Config, mounter: Mounter) -> Path:
    """Mount the (unmounted) stick for backups at ``<run_dir>/usb/<sdb1>``; returns that path.

    Raises:
        ProvisioningError: the stick cannot be mounted.
    """
    target = mount_point(sticks.usb_dir(cfg), Path(device))
    sticks.usb_dir(cfg).mkdir(parents=True, exist_ok=True)
    mounter.mount_backup(Path(device), target, _owner(cfg))
    log.info("USB backup stick %s mounted for backups at %s", device, target)
    return target
