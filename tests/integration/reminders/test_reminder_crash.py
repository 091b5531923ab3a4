"""SIGKILL at random points of a reminder campaign, restart, repeat: no patient's
phone rings twice for one attempt, a reminder whose call may have rung is never
redialed at once (only after the retry back-off, counted against max_attempts),
no call is placed before its attempt is on disk, and every due reminder is
attempted: one whose only attempt was interrupted gets a later one.

The dispatcher runs in a real subprocess over a real SQLCipher store, with the
shipped simulator as dialer; its dial log is written and synced to disk before
``place_call`` returns, like a phone that rang, so it survives the kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.timefmt import from_db
from tests.conftest import repos_with_planner

REPO = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("campaign_child.py")
PATIENTS = 30
SCALE = 40.0  # simulated seconds per real second
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Warsaw
MAX_ATTEMPTS = 2

CONFIG = """\
config_version = 1
simulate = true
[clinic]
name = "Crash Test Clinic"
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
[sip]
max_calls = 8
[reminders]
dialer = "simulator"
offsets_h = [24]
max_calls = 4
reserve_lines = 1
max_attempts = {max_attempts}
retry_min = 1
interval_s = 1
stale_after_min = 5
[reminders.windows]
monday = ["00:00-24:00"]
tuesday = ["00:00-24:00"]
[reminders.simulator]
answer = 0.6
busy = 0.15
keys = {{ "1" = 0.5, "2" = 0.1, "3" = 0.05, "none" = 0.35 }}
answer_after_s = [2.0, 12.0]
listen_s = [3.0, 8.0]
time_scale = {scale}
dial_log = "{dial_log}"
seed = 11
"""


def seed_clinic(folder: Path) -> Path:
    config = folder / "clinicbox.toml"
    config.write_text(CONFIG.format(max_attempts=MAX_ATTEMPTS, scale=SCALE, dial_log=folder / "dials.jsonl"))
    cfg = load_config(config)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=FakeClock(T0))
    repos = repos_with_planner(cfg, store)
    for i in range(PATIENTS):
        pid = repos.patients.create(
            PatientInput(name=f"Patient {i}", phones=[f"60155{i:04d}"], reminder_channel="voice", language="pl"), "t"
        )
        start = T0 + timedelta(hours=23, minutes=2 * i)  # every 24 h reminder is due at once
        repos.appointments.create(AppointmentInput(patient_id=pid, starts_at=start), "t")
    store.close()
    return config


class Child:
    def __init__(self, config: Path, w0: float, log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(config), T0.isoformat(), str(w0), str(SCALE)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"started", log.read_text()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.log.close()


def settled(cfg: Any, store: Store) -> bool:
    open_rows = store.query_one(
        "SELECT (SELECT count(*) FROM reminders WHERE status IN ('pending', 'active')),"
        " (SELECT count(*) FROM reminder_attempts WHERE state != 'finished')"
    )
    return open_rows is not None and tuple(open_rows) == (0, 0)


@pytest.mark.slow
def test_sigkill_mid_campaign_never_double_dials_and_loses_no_reminder(tmp_path: Path) -> None:
    config = seed_clinic(tmp_path)
    cfg = load_config(config)
    rng = random.Random(int(os.environ.get("CRASH_SEED", "5")))
    w0 = time.time()
    kills = 0
    for _ in range(6):
        child = Child(config, w0, tmp_path / "child.log")
        time.sleep(rng.uniform(0.3, 2.0))
        child.kill()
        kills += 1
    child = Child(config, w0, tmp_path / "child.log")
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    try:
        deadline = time.monotonic() + 60
        while not settled(cfg, store) and time.monotonic() < deadline:
            time.sleep(0.25)
        child.stop()
        assert settled(cfg, store), (tmp_path / "child.log").read_text()[-3000:]
        dials = [json.loads(line) for line in (tmp_path / "dials.jsonl").read_text().splitlines()]
        attempts = {
            int(r[0]): (int(r[1]), str(r[2]), str(r[3]))
            for r in store.query("SELECT id, reminder_id, outcome, detail FROM reminder_attempts")
        }
        times = {
            int(r[0]): (from_db(r[1]), from_db(r[2]))
            for r in store.query("SELECT id, started_at, ended_at FROM reminder_attempts")
        }
        reminders = {
            int(r[0]): (str(r[1]), int(r[2])) for r in store.query("SELECT id, status, attempts FROM reminders")
        }
    finally:
        store.close()

    # Every call rang for an attempt that was already on disk, and each attempt rang once.
    dialed = [int(d["attempt"]) for d in dials]
    assert set(dialed) <= set(attempts), "a call was placed before its attempt was committed"
    assert len(dialed) == len(set(dialed)), "an attempt was dialed twice"
    # Attempts recorded as never placed really never rang.
    assert not [a for a in dialed if attempts[a][2].startswith("not placed")]
    # Per reminder: at most max_attempts rings, and a ring again only after a recorded
    # retryable outcome; after an interrupted call (it may have rung), only after the back-off.
    by_reminder: dict[int, list[int]] = {}
    for attempt_id in dialed:
        by_reminder.setdefault(attempts[attempt_id][0], []).append(attempt_id)
    for reminder_id, rung in by_reminder.items():
        assert len(rung) <= MAX_ATTEMPTS, (reminder_id, rung)
        for earlier in rung[:-1]:
            assert attempts[earlier][1] in ("no-answer", "busy", "failed", "interrupted"), (
                reminder_id,
                rung,
                attempts[earlier],
            )
    # No reminder is lost to a crash: an interrupted attempt with attempts left is followed
    # by another one, never sooner than the back-off (retry_min = 1 min) after the restart.
    counted: dict[int, list[int]] = {}
    for attempt_id in sorted(attempts):
        reminder_id, outcome, detail = attempts[attempt_id]
        if not (outcome == "failed" and detail.startswith("not placed")):
            counted.setdefault(reminder_id, []).append(attempt_id)
    retried_after_crash = 0
    for reminder_id, made in counted.items():
        for i, attempt_id in enumerate(made):
            if attempts[attempt_id][1] != "interrupted" or i + 1 >= MAX_ATTEMPTS:
                continue
            assert i + 1 < len(made), f"reminder {reminder_id} was dropped after an interrupted attempt"
            settled_at, retried_at = times[attempt_id][1], times[made[i + 1]][0]
            assert settled_at is not None and retried_at is not None
            assert retried_at >= settled_at + timedelta(minutes=1), (reminder_id, settled_at, retried_at)
            retried_after_crash += 1
    # Every due reminder was attempted, and finished.
    assert len(reminders) == PATIENTS
    assert all(status in ("done", "failed") for status, _ in reminders.values()), reminders
    attempted = {reminder for reminder, _, _ in attempts.values()}
    assert attempted == set(reminders)
    # The kills did land mid-call: some attempts were interrupted, and some of those reminders
    # were attempted again afterwards (above).
    assert kills == 6 and any(outcome == "interrupted" for _, outcome, _ in attempts.values())
    assert retried_after_crash > 0
