"""Passphrase mode plus the nightly backup: the core, which holds the unlocked
key, makes the backup and runs retention for ``clinicbox db backup`` /
``db retention``; a locked store's attempt fails with a clear message, and
the doctor names that cause."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import Config, load_config
from appliance.control import ControlClient
from appliance.errors import ControlError
from appliance.store import Store, backup
from appliance.store.backup_job import read_status
from appliance.store.keys import write_key_file
from tests.conftest import clinic_config, free_port, run_cli

ROOT = Path(__file__).resolve().parents[3]
PASSPHRASE = "a long clinic passphrase"


def _seed(tmp_path: Path) -> Path:
    demo = tmp_path / "clinic"
    web, sip = free_port(socket.SOCK_STREAM), free_port()
    result = run_cli("demo", "--seed-only", str(demo), "--web-port", str(web), "--sip-port", str(sip), timeout=60)
    assert result.returncode == 0, result.stderr
    return demo / "clinicbox.toml"


def _patients(db: Path, key: Path, passphrase: str | None = None) -> list[str]:
    store = Store.open(db, key, passphrase=passphrase)
    try:
        return sorted(r[0] for r in store.query("SELECT display_name FROM patients"))
    finally:
        store.close()


def _doctor_backups(config: Path) -> dict[str, str]:
    result = run_cli("--config", str(config), "doctor", "--json", timeout=120)
    checks = json.loads(result.stdout)
    rows = checks["checks"] if isinstance(checks, dict) else checks
    (row,) = [r for r in rows if r["name"] == "backups"]
    return row  # type: ignore[no-any-return]


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, Config, list[str]]:
    config = _seed(tmp_path)
    cfg = load_config(config)
    names = _patients(cfg.db_path, cfg.paths.key_file)
    assert names
    result = run_cli("--config", str(config), "db", "passphrase", "set", env={"CLINICBOX_NEW_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    return config, cfg, names


@pytest.fixture
def core(clinic: tuple[Path, Config, list[str]]) -> Iterator[ControlClient]:
    config, cfg, _ = clinic
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CLINICBOX_PASSPHRASE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--config", str(config), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = ControlClient(cfg.control_socket, timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:] if proc.stdout else ""
            try:
                if client.status()["box"]["store_locked"]:
                    break
            except ControlError:
                pass
            assert time.monotonic() < deadline, "the core did not come up"
            time.sleep(0.2)
        yield client
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_core_backs_up_a_passphrase_store_that_restores_to_the_same_patients(
    clinic: tuple[Path, Config, list[str]], core: ControlClient, tmp_path: Path
) -> None:
    config, cfg, names = clinic
    # Locked (no passphrase entered since the core started): a clear refusal, recorded.
    locked = run_cli("--config", str(config), "db", "backup", "--to", str(cfg.backup_dir))
    assert locked.returncode == 1
    assert "the store is locked: the passphrase has not been entered since the core started" in locked.stderr
    assert not list(cfg.backup_dir.glob("clinicbox-*.tar"))
    status = read_status(cfg.paths.state_dir)
    assert status.backup is not None and status.backup.cause == "locked" and status.backup.by == "core"
    row = _doctor_backups(config)
    assert row["status"] == "WARN"
    assert "the store was locked (passphrase not entered since the restart)" in row["detail"]
    assert "Unlock page" in row["fix"]
    retention = run_cli("--config", str(config), "db", "retention")
    assert retention.returncode == 1 and "the store is locked" in retention.stderr

    # A manager unlocks it over the control socket; the nightly unit's commands now work.
    assert core.call("store.unlock", passphrase=PASSPHRASE) == {"unlocked": True}
    made = run_cli("--config", str(config), "db", "backup", "--to", str(cfg.backup_dir))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backup written: ")
    (tar,) = cfg.backup_dir.glob("clinicbox-*.tar")
    assert made.stdout.split()[2] == str(tar)
    assert tar.stat().st_mode & 0o777 == 0o600
    assert b"Zofia Nowak" not in tar.read_bytes()  # still encrypted with the store key
    retention = run_cli("--config", str(config), "db", "retention")
    assert retention.returncode == 0, retention.stderr
    assert "past their retention" in retention.stdout
    status = read_status(cfg.paths.state_dir)
    assert status.backup is not None and status.backup.ok and status.backup.file == str(tar)
    assert status.retention is not None and status.retention.ok and status.retention.by == "core"
    row = _doctor_backups(config)
    assert row["status"] == "OK" and tar.name in row["detail"]

    # The backup restores, on a fresh box with the same key, to the same patients.
    unlocked = Store.open(cfg.db_path, cfg.paths.key_file, passphrase=PASSPHRASE)
    key = unlocked.key
    unlocked.close()
    fresh = clinic_config(tmp_path / "fresh")
    fresh.paths.state_dir.mkdir(parents=True)
    write_key_file(fresh.paths.key_file, key)
    backup.restore(tar, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir)
    assert _patients(fresh.db_path, fresh.paths.key_file) == names


def test_without_a_core_a_passphrase_store_is_not_backed_up_and_doctor_says_why(
    clinic: tuple[Path, Config, list[str]],
) -> None:
    config, cfg, _ = clinic
    assert "CLINICBOX_PASSPHRASE" not in os.environ
    result = run_cli("--config", str(config), "db", "backup", "--to", str(cfg.backup_dir), input="")
    assert result.returncode == 1
    assert "passphrase-protected and the core is not running" in result.stderr
    status = read_status(cfg.paths.state_dir)
    assert status.backup is not None and status.backup.cause == "no-core" and status.backup.by == "cli"
    row = _doctor_backups(config)
    assert "the store is passphrase-protected and the core was not running" in row["detail"]
    assert "systemctl start clinicbox-core" in row["fix"]
