"""The doctor says where the last backup went (SD card, USB stick), when, and
whether it was verified; a failed backup to a stick is named with its cause."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.config import Config
from appliance.doctor.storage import Newest, backup_verdict, with_stick
from appliance.store.backup_job import Attempt, JobStatus
from tests.conftest import clinic_config

NOW = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
NIGHT = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 02:00 in Warsaw
TZ = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return clinic_config(tmp_path)


def test_the_last_backups_say_where_when_and_verified(cfg: Config) -> None:
    stick = Attempt(
        NIGHT, True, "", "", "/run/clinicbox/usb/sdb1/clinicbox-backup/clinicbox-x.tar", "core", "stick", True
    )
    result = with_stick(
        backup_verdict(
            cfg, Newest("clinicbox-a.tar", NIGHT, 1000, True), 3, JobStatus(stick=stick, stick_ok=stick), NOW
        ),
        JobStatus(stick=stick, stick_ok=stick),
        NOW,
        TZ,
    )
    assert result.status == "OK"
    assert result.detail == (
        "last backup 6.5 h ago (clinicbox-a.tar) on the SD card, verified, 3 kept; "
        "last backup to a USB stick at 02:00 (clinicbox-x.tar), verified"
    )


@pytest.mark.parametrize(
    ("cause", "said", "fix"),
    [
        ("stick-full", "the USB stick is full", "use a larger stick"),
        ("read-only", "the USB stick is read-only", "write-protect switch"),
        ("no-passphrase", "no backup passphrase is set", "Settings › Backups"),
    ],
)
def test_a_failed_stick_backup_turns_ok_into_a_warning_with_its_cause(
    cfg: Config, cause: str, said: str, fix: str
) -> None:
    failed = Attempt(NIGHT, False, cause, "", "", "core", "stick")
    result = with_stick(
        backup_verdict(cfg, Newest("clinicbox-a.tar", NIGHT, 1000, True), 3, JobStatus(stick=failed), NOW),
        JobStatus(stick=failed),
        NOW,
        TZ,
    )
    assert result.status == "WARN"
    assert f"but the last backup to the USB stick failed at 02:00: {said}" in result.detail
    assert fix in result.fix
