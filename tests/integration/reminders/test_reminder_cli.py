"""`clinicbox reminders`, `clinicbox import appointments FILE.ics` and the doctor's reminder checks,
as a technician runs them: real processes, a real store."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from tests.conftest import repos_with_planner, run_cli

CONFIG = """\
config_version = 1
[clinic]
name = "CLI Clinic"
country = "PL"
timezone = "Europe/Warsaw"
languages = ["pl", "en"]
default_language = "pl"
[paths]
state_dir = "state"
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"
[clock]
assume_synced = true
[reminders.windows]
monday = ["00:00-24:00"]
tuesday = ["00:00-24:00"]
wednesday = ["00:00-24:00"]
thursday = ["00:00-24:00"]
friday = ["00:00-24:00"]
saturday = ["00:00-24:00"]
sunday = ["00:00-24:00"]
"""


def clinicbox(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str(config), *args)


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    config = tmp_path / "clinicbox.toml"
    config.write_text(CONFIG)
    cfg = load_config(config)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
    repos = repos_with_planner(cfg, store)
    pid = repos.patients.create(
        PatientInput(name="Zofia Nowak", phones=["601700800"], reminder_channel="sms", external_id="P-9"), "t"
    )
    repos.appointments.create(
        AppointmentInput(patient_id=pid, starts_at=datetime.now(UTC) + timedelta(days=3), reason="secret"), "t"
    )
    store.close()
    return config


def test_reminders_json_lists_upcoming_without_names_or_numbers_and_is_audited(clinic: Path) -> None:
    result = clinicbox(clinic, "reminders", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["enabled"] is True and data["paused"] is False and data["core"] is None
    assert [(u["channel"], u["status"]) for u in data["upcoming"]] == [("sms", "pending"), ("sms", "pending")]
    assert data["counts"] == {"pending": 2} and data["recent"] == []
    assert "Nowak" not in result.stdout and "601700800" not in result.stdout and "secret" not in result.stdout
    text = clinicbox(clinic, "reminders")
    assert "core: not running" in text.stdout and "upcoming (2)" in text.stdout
    audit = clinicbox(clinic, "audit", "list")
    assert "reminders" in audit.stdout


def test_pause_without_a_running_core_says_so_and_changes_nothing(clinic: Path) -> None:
    result = clinicbox(clinic, "reminders", "pause")
    assert result.returncode == 1
    assert "not running" in result.stderr and "nothing was changed" in result.stderr
    assert json.loads(clinicbox(clinic, "reminders", "--json").stdout)["paused"] is False


def test_plan_replans_and_ics_import_adds_visits_with_reminders(clinic: Path, tmp_path: Path) -> None:
    plan = clinicbox(clinic, "reminders", "plan")
    assert plan.returncode == 0 and "1 appointments" in plan.stdout
    start = (datetime.now(UTC) + timedelta(days=4)).strftime("%Y%m%dT%H%M00Z")
    ics = tmp_path / "visits.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VEVENT\r\nUID:v-1\r\n"
        f"DTSTART:{start}\r\nX-PATIENT-ID:P-9\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = clinicbox(clinic, "import", "appointments", str(ics))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    data = json.loads(clinicbox(clinic, "reminders", "--json").stdout)
    assert data["counts"] == {"pending": 4}


def test_doctor_says_why_reminders_cannot_go_out(clinic: Path) -> None:
    result = clinicbox(clinic, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["reminder clock"]["status"] == "OK"
    assert (
        checks["reminder lines"]["status"] == "FAIL" and "neither the SIP trunk" in checks["reminder lines"]["detail"]
    )
    assert checks["reminder SMS"]["status"] == "FAIL" and "no modem" in checks["reminder SMS"]["detail"]
    assert checks["reminder dispatch"]["status"] == "WARN" and "not running" in checks["reminder dispatch"]["detail"]
