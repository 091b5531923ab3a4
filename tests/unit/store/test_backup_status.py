"""The backup job status file: every run's outcome, kept atomically, read back tolerantly."""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.config import Config
from appliance.errors import StoreError, StoreLockedError
from appliance.store import backup_job
from appliance.store.backup_job import Attempt, classify, read_status, record, record_failure, run_backup
from tests.conftest import clinic_config

AT = datetime(2026, 12, 6, 1, 0, 3, tzinfo=UTC)


def test_an_absent_or_damaged_file_is_an_empty_status(tmp_path: Path) -> None:
    assert read_status(tmp_path) == backup_job.JobStatus()
    (tmp_path / "backup-status.json").write_text("{not json")
    assert read_status(tmp_path) == backup_job.JobStatus()


def test_the_last_attempt_and_the_last_success_are_kept_per_job(tmp_path: Path) -> None:
    good = Attempt(AT, True, "", "2 files", "/b/clinicbox-1.tar", "core")
    record(tmp_path, "backup", good)
    bad = Attempt(AT.replace(day=7), False, "locked", "store locked", "", "core")
    record(tmp_path, "backup", bad)
    record(tmp_path, "retention", Attempt(AT, True, "", "deleted 0 recordings", "", "cli"))
    status = read_status(tmp_path)
    assert status.backup == bad and status.backup_ok == good
    assert status.retention is not None and status.retention.ok and status.retention.by == "cli"
    raw = json.loads((tmp_path / "backup-status.json").read_text())
    assert raw["backup"]["at"] == "2026-12-07T01:00:03+00:00" and raw["backup"]["cause"] == "locked"
    assert (tmp_path / "backup-status.json").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["backup-status.json"]  # no temporary file left


def test_an_unwritable_status_file_never_fails_the_job(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    record(blocker, "backup", Attempt(AT, True))
    assert "cannot record the backup outcome" in caplog.text


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (StoreLockedError("locked"), "locked"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk-full"),
        (OSError(errno.EACCES, "Permission denied"), "permission"),
        (StoreError("database or disk is full"), "disk-full"),
        (StoreError("something else"), "error"),
    ],
)
def test_failures_are_classified(exc: BaseException, cause: str) -> None:
    assert classify(exc) == cause


def test_an_oserror_behind_a_store_error_is_found() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise StoreError("the copy failed") from inner
    except StoreError as outer:
        assert classify(outer) == "disk-full"


class _LockedStore:
    locked = True


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return clinic_config(tmp_path)


def test_a_locked_store_is_refused_and_recorded(cfg: Config) -> None:
    with pytest.raises(StoreLockedError, match="passphrase has not been entered"):
        run_backup(cfg, _LockedStore(), by="core")  # type: ignore[arg-type]
    status = read_status(cfg.paths.state_dir)
    assert status.backup is not None and not status.backup.ok
    assert status.backup.cause == "locked" and status.backup.by == "core"
    assert status.backup_ok is None


def test_a_full_disk_is_recorded_and_said(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    class _Open:
        locked = False

    def full(*_: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_job.backupmod, "backup", full)
    with pytest.raises(StoreError, match="the backup disk is full"):
        run_backup(cfg, _Open(), by="cli")  # type: ignore[arg-type]
    status = read_status(cfg.paths.state_dir)
    assert status.backup is not None and status.backup.cause == "disk-full"


def test_record_failure_takes_an_explicit_cause(tmp_path: Path) -> None:
    assert record_failure(tmp_path, "retention", StoreLockedError("x"), "cli", "no-core") == "no-core"
    status = read_status(tmp_path)
    assert status.retention is not None and status.retention.cause == "no-core"
