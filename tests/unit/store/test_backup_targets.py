"""Where a backup may go: the box's backup folder or a mounted USB backup
stick; every other ``to`` (``/etc``, ``../``, a symlink out, a folder that
only looks like a stick) is refused with a message saying where backups go.

The kernel's mount table is the one thing stood in for here
(``sticks.mount_points``); tests/integration/appliance/test_backup_stick.py
mounts real filesystems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance import app
from appliance.config import Config
from appliance.control import Request
from appliance.errors import ValidationError
from appliance.store import sticks
from tests.conftest import clinic_config


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return clinic_config(tmp_path)


def _stick(cfg: Config, name: str = "sdb1", marker: bool = True) -> Path:
    mount = sticks.usb_dir(cfg) / name
    mount.mkdir(parents=True)
    if marker:
        (mount / sticks.MARKER).mkdir()
    return mount


def _mounted(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(sticks, "mount_points", lambda: {str(p.resolve()) for p in paths})


@pytest.mark.parametrize("to", ["/etc", "/etc/clinicbox/secrets.tar", "/", "/var/lib/clinicbox/clinicbox.db"])
def test_a_place_that_is_not_for_backups_is_refused(cfg: Config, to: str) -> None:
    with pytest.raises(ValidationError, match=f"refusing to write a backup to {to}: a backup goes to"):
        sticks.resolve(cfg, to)


def test_dot_dot_out_of_the_backup_folder_is_refused(cfg: Config) -> None:
    with pytest.raises(ValidationError, match="refusing to write a backup to"):
        sticks.resolve(cfg, f"{cfg.backup_dir}/../../etc")
    with pytest.raises(ValidationError, match="not an absolute path"):
        sticks.resolve(cfg, "../backups")


def test_a_symlink_out_of_the_backup_folder_is_refused(cfg: Config, tmp_path: Path) -> None:
    cfg.backup_dir.mkdir(parents=True)
    (cfg.backup_dir / "out").symlink_to("/etc")
    (cfg.backup_dir / "clinicbox-x.tar").symlink_to(tmp_path / "elsewhere.tar")
    for to in (cfg.backup_dir / "out", cfg.backup_dir / "clinicbox-x.tar"):
        with pytest.raises(ValidationError, match="refusing to write a backup to"):
            sticks.resolve(cfg, str(to))


def test_the_backup_folder_and_a_file_in_it_are_fine(cfg: Config) -> None:
    assert sticks.resolve(cfg, None) == sticks.Target(cfg.backup_dir, sticks.SD)
    assert sticks.resolve(cfg, str(cfg.backup_dir)).where == sticks.SD
    named = sticks.resolve(cfg, f"{cfg.backup_dir}/clinicbox-manual.tar")
    assert named.dest == cfg.backup_dir / "clinicbox-manual.tar"
    with pytest.raises(ValidationError, match="not a usable backup file name"):
        sticks.resolve(cfg, f"{cfg.backup_dir}/.hidden.tar")


def test_a_folder_that_only_looks_like_a_stick_is_not_one(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = _stick(cfg)
    _mounted(monkeypatch)  # not mounted: a folder someone made under run_dir/usb
    with pytest.raises(ValidationError, match="no USB backup stick is plugged in"):
        sticks.resolve(cfg, sticks.USB)
    with pytest.raises(ValidationError, match="refusing to write a backup to"):
        sticks.resolve(cfg, str(mount / sticks.MARKER))


def test_a_mounted_stick_without_the_folder_is_not_a_backup_stick(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = _stick(cfg, marker=False)
    _mounted(monkeypatch, mount)
    with pytest.raises(ValidationError, match="with a folder named clinicbox-backup"):
        sticks.resolve(cfg, sticks.USB)


def test_a_mounted_backup_stick_is_found_by_usb_and_by_path(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = _stick(cfg)
    _mounted(monkeypatch, mount)
    target = sticks.resolve(cfg, sticks.USB)
    assert (target.where, target.folder) == (sticks.STICK, mount / sticks.MARKER)
    assert sticks.resolve(cfg, str(mount)).folder == mount / sticks.MARKER
    assert sticks.resolve(cfg, str(mount / sticks.MARKER / "clinicbox-a.tar")).file_name == "clinicbox-a.tar"
    with pytest.raises(ValidationError):
        sticks.resolve(cfg, str(mount / sticks.MARKER / ".." / ".." / "x.tar"))


def test_two_sticks_are_one_too_many(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    _mounted(monkeypatch, _stick(cfg, "sdb1"), _stick(cfg, "sdc1"))
    with pytest.raises(ValidationError, match="2 backup sticks are plugged in \\(sdb1, sdc1\\); leave only one"):
        sticks.resolve(cfg, sticks.USB)


def test_the_mount_table_is_read_with_its_escapes(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("36 35 98:0 / /run/clinicbox/usb/my\\040stick rw,noatime master:1 - vfat /dev/sdb1 rw\n")
    assert sticks.mount_points(info) == {"/run/clinicbox/usb/my stick"}


class _LockedStore:
    locked = True


def test_the_core_refuses_a_hostile_destination_before_anything_else(tmp_path: Path) -> None:
    core: Any = app.Core(clinic_config(tmp_path))
    core.store = _LockedStore()
    try:
        for to in ("/etc", f"{core.cfg.backup_dir}/../../../etc"):
            with pytest.raises(ValidationError, match="refusing to write a backup to"):
                core.commands.handle(Request(1, "store.backup", {"to": to}))
        with pytest.raises(ValidationError, match="no USB backup stick is plugged in"):
            core.commands.handle(Request(2, "store.backup", {"to": "usb"}))
        assert core.commands.handle(Request(3, "store.backup", {"to": "usb", "if_present": True})) == {
            "skipped": "no USB backup stick is plugged in"
        }
    finally:
        core._jobs.shutdown(wait=True)
    assert not list(Path("/etc").glob("clinicbox-*.tar"))


@pytest.mark.parametrize(
    ("errno_", "where", "cause"),
    [
        (28, "stick", "stick-full"),
        (28, "sd", "disk-full"),
        (30, "stick", "read-only"),
        (30, "sd", "permission"),
        (27, "stick", "file-too-big"),
    ],
)
def test_a_failed_write_is_named_for_where_it_went(errno_: int, where: str, cause: str) -> None:
    from appliance.store.backup_job import cause_text, classify

    assert classify(OSError(errno_, "x"), where) == cause
    assert cause_text(cause) != cause_text("error")
