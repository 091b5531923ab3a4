"""The provisioning reader recognises a backup stick (a ``clinicbox-backup``
folder, no bundle) and hands it over: unmounted from its private namespace,
mounted for backups at ``<run_dir>/usb/<sdb1>``. A stick with neither is left
alone. The mounter is the only thing stood in for (it needs a block device
and systemd); tests/integration/appliance/test_backup_stick.py uses real mounts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.store import sticks
from provisioning.run import BackupStickMounted, NoBundleError, provision_device
from tests.unit.provisioning.kit import Box

SYSTEMD = Path(__file__).resolve().parents[3] / "systemd"


class RecordingMounter:
    """Copies a folder standing in for the stick's filesystem; records the calls."""

    def __init__(self, image: Path) -> None:
        self.image = image
        self.calls: list[str] = []

    def mount(self, device: Path, target: Path) -> None:
        self.calls.append(f"mount {device}")
        shutil.copytree(self.image, target, symlinks=True, dirs_exist_ok=True)

    def remount_rw(self, target: Path) -> None:
        self.calls.append("remount-rw")

    def unmount(self, target: Path) -> None:
        self.calls.append("unmount")
        shutil.rmtree(target)

    def mount_backup(self, device: Path, target: Path, owner: tuple[int, int]) -> None:
        self.calls.append(f"mount-backup {device} {target}")


def test_a_backup_stick_is_handed_over_for_backups(box: Box, tmp_path: Path) -> None:
    image = tmp_path / "stick"
    (image / sticks.MARKER).mkdir(parents=True)
    mounter = RecordingMounter(image)
    with pytest.raises(BackupStickMounted, match="is a USB backup stick: mounted for backups at") as caught:
        provision_device(Path("/dev/sdz1"), box.config, mounter)
    target = sticks.usb_dir(load_config(box.config)) / "sdz1"
    assert str(target) in str(caught.value)
    # unmounted from the reader's namespace before it is mounted again for the core
    assert mounter.calls[0] == "mount /dev/sdz1" and mounter.calls[-2:] == [
        "unmount",
        f"mount-backup /dev/sdz1 {target}",
    ]


def test_a_stick_with_neither_folder_is_left_alone(box: Box, tmp_path: Path) -> None:
    image = tmp_path / "stick"
    (image / "photos").mkdir(parents=True)
    mounter = RecordingMounter(image)
    with pytest.raises(NoBundleError) as caught:
        provision_device(Path("/dev/sdz1"), box.config, mounter)
    assert not isinstance(caught.value, BackupStickMounted)
    assert mounter.calls == ["mount /dev/sdz1", "unmount"]


def test_a_symlinked_backup_folder_is_not_a_backup_stick(box: Box, tmp_path: Path) -> None:
    image = tmp_path / "stick"
    image.mkdir()
    (image / sticks.MARKER).symlink_to("/etc")
    mounter = RecordingMounter(image)
    with pytest.raises(NoBundleError) as caught:
        provision_device(Path("/dev/sdz1"), box.config, mounter)
    assert not isinstance(caught.value, BackupStickMounted)


def test_the_nightly_unit_also_backs_up_to_a_stick_when_one_is_plugged_in() -> None:
    lines = (SYSTEMD / "clinicbox-backup.service").read_text().splitlines()
    execs = [line for line in lines if line.startswith("ExecStart=")]
    assert execs == [
        "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml db backup --to /var/lib/clinicbox/backups",
        "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml db backup --to usb --if-present",
        "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml db retention",
    ]
    assert "ReadWritePaths=-/run/clinicbox/usb" in lines
