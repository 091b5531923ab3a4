"""The doctor's backups check names the real cause of a missed backup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.doctor.storage import Newest, backup_verdict
from appliance.store.backup_job import Attempt, JobStatus
from tests.conftest import clinic_config

NOW = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)  # 08:30 in Warsaw
NIGHT = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 02:00 in Warsaw


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return clinic_config(tmp_path)


def _newest(at: datetime, size: int = 1000) -> Newest:
    return Newest("clinicbox-20261205-020000-000.tar", at, size)


def test_a_locked_store_is_named_with_the_time_and_the_unlock_page(cfg: Config) -> None:
    failed = Attempt(NIGHT, False, "locked", "store locked", "", "core")
    result = backup_verdict(cfg, _newest(NIGHT - timedelta(days=1)), 3, JobStatus(backup=failed), NOW)
    assert result.status == "WARN"
    assert result.detail.startswith(
        "the last backup failed at 02:00: the store was locked (passphrase not entered since the restart)"
    )
    assert "the last good one is 30 h old" in result.detail
    assert "Unlock page" in result.fix and str(cfg.backup_dir) in result.fix


def test_no_core_in_passphrase_mode_is_named(cfg: Config) -> None:
    failed = Attempt(NIGHT - timedelta(days=2), False, "no-core", "", "", "cli")
    result = backup_verdict(cfg, None, 0, JobStatus(backup=failed), NOW)
    assert result.detail == (
        "the last backup failed on 2026-12-04 at 02:00: the store is passphrase-protected and the core"
        " was not running to do it; there is no backup yet"
    )
    assert "systemctl start clinicbox-core" in result.fix


def test_a_full_disk_is_named(cfg: Config) -> None:
    failed = Attempt(NIGHT, False, "disk-full", "[Errno 28] No space left on device", "", "core")
    result = backup_verdict(cfg, _newest(NIGHT - timedelta(days=1)), 3, JobStatus(backup=failed), NOW)
    assert "failed at 02:00: the backup disk is full" in result.detail
    assert "free space" in result.fix


def test_an_unknown_failure_shows_its_message(cfg: Config) -> None:
    failed = Attempt(NIGHT, False, "error", "the key file is missing", "", "cli")
    result = backup_verdict(cfg, None, 0, JobStatus(backup=failed), NOW)
    assert result.detail.startswith("the last backup failed at 02:00: the key file is missing")


def test_a_timer_that_never_ran_is_named(cfg: Config) -> None:
    old = NIGHT - timedelta(days=3)
    ran = Attempt(old, True, "", "", "/x.tar", "cli")
    result = backup_verdict(cfg, _newest(old), 4, JobStatus(backup=ran, backup_ok=ran), NOW)
    assert result.detail == "no backup for 3 days: the timer has not run (its last run was on 2026-12-03 at 02:00)"
    assert result.fix.startswith("check clinicbox-backup.timer")
    # No status file at all (a box from before the status file): the same sentence, without the last run.
    result = backup_verdict(cfg, _newest(old), 4, JobStatus(), NOW)
    assert result.detail == "no backup for 3 days: the timer has not run"


def test_a_failure_older_than_the_newest_backup_is_history(cfg: Config) -> None:
    failed = Attempt(NIGHT - timedelta(days=1), False, "locked", "", "", "core")
    good = Attempt(NIGHT, True, "", "", "/b.tar", "core")
    result = backup_verdict(cfg, _newest(NIGHT), 3, JobStatus(backup=failed, backup_ok=good), NOW)
    assert result.status == "OK" and result.detail.startswith("last backup 6.5 h ago")


def test_a_disk_without_room_for_the_next_backup_is_named(cfg: Config) -> None:
    result = backup_verdict(cfg, _newest(NIGHT, size=50 * 2**20), 3, JobStatus(), NOW, free=10 * 2**20)
    assert result.status == "WARN"
    assert result.detail == "the backup disk is full: 10 MB free, the last backup took 50 MB"


def test_a_failed_retention_run_is_named(cfg: Config) -> None:
    failed = Attempt(NIGHT, False, "locked", "", "", "core")
    result = backup_verdict(cfg, _newest(NIGHT), 3, JobStatus(retention=failed), NOW)
    assert result.detail.startswith("the last retention run failed at 02:00: the store was locked")
    assert result.fix.endswith("then run: clinicbox db retention")


def test_the_first_day_without_any_backup_keeps_its_advice(cfg: Config) -> None:
    result = backup_verdict(cfg, None, 0, JobStatus(), NOW)
    assert result.detail == f"no backup in {cfg.backup_dir} yet"
    assert result.fix == f"run: clinicbox db backup --to {cfg.backup_dir}"
