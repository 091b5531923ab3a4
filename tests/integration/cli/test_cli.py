"""The `clinicbox` command as a technician uses it: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.store.audit import AuditLog
from appliance.store.connection import Store
from tests.conftest import run_cli

clinicbox = run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "clinic"
    result = clinicbox("demo", "--seed-only", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_help_on_every_level() -> None:
    for args in ([], ["db"], ["import"], ["user"], ["audit"], ["demo"], ["doctor"]):
        result = clinicbox(*args, "--help")
        assert result.returncode == 0, (args, result.stderr)
        assert "usage: clinicbox" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert clinicbox("frobnicate").returncode == 2
    assert clinicbox("db").returncode == 2


def test_seed_only_writes_a_complete_clinic(demo: Path) -> None:
    for name in ("clinicbox.toml", "store.key", "clinicbox.db", "first-login.txt", "secrets.toml"):
        assert (demo / name).exists(), name
    login = demo / "first-login.txt"
    assert oct(login.stat().st_mode & 0o777) == "0o600"
    lines = login.read_text().splitlines()
    assert lines[0] == "username: manager" and lines[1].startswith("password: ") and len(lines) == 2
    store = Store.open(demo / "clinicbox.db", demo / "store.key")
    names = {r[0] for r in store.query("SELECT display_name FROM patients")}
    scripts = {"Zofia Nowak", "Ayşe Yılmaz", "김민준", "王小明", "José García", "James Smith"}
    assert scripts <= names
    store.close()
    # ... and works with --config afterwards.
    result = clinicbox("--config", str(demo / "clinicbox.toml"), "db", "verify")
    assert result.returncode == 0 and "OK   cipher_integrity_check" in result.stdout
    assert clinicbox("demo", "--seed-only", str(demo)).returncode == 1  # never over an existing clinic


def test_user_add_and_list(demo: Path) -> None:
    cfg = str(demo / "clinicbox.toml")
    result = clinicbox("--config", cfg, "user", "add", "nurse1", "--role", "front-desk")
    assert result.returncode == 0 and "password: " in result.stdout
    listing = clinicbox("--config", cfg, "user", "list").stdout
    assert "nurse1" in listing and "front-desk" in listing
    dup = clinicbox("--config", cfg, "user", "add", "nurse1", "--role", "front-desk")
    assert dup.returncode == 1 and "already exists" in dup.stderr


def test_import_with_bad_rows_exits_1_and_changes_nothing(demo: Path, tmp_path: Path) -> None:
    cfg = str(demo / "clinicbox.toml")
    csv = tmp_path / "p.csv"
    csv.write_text("name,date_of_birth,phone\nAnna Kowalska,1980-01-01,+12125550111\nBad Row,not-a-date,+12125550112\n")
    result = clinicbox("--config", cfg, "import", "patients", str(csv))
    assert result.returncode == 1
    assert "line 3: date_of_birth" in result.stderr and "nothing was imported" in result.stderr
    store = Store.open(demo / "clinicbox.db", demo / "store.key")
    assert store.query_one("SELECT count(*) FROM patients WHERE display_name = 'Anna Kowalska'")[0] == 0
    store.close()
    ok = clinicbox("--config", cfg, "import", "patients", str(csv), "--skip-bad")
    assert ok.returncode == 0 and "1 added" in ok.stdout and "line 3" in ok.stderr


def test_backup_verify_and_audit(demo: Path, tmp_path: Path) -> None:
    cfg = str(demo / "clinicbox.toml")
    elsewhere = clinicbox("--config", cfg, "db", "backup", "--to", str(tmp_path))  # not a place for backups
    assert elsewhere.returncode == 1 and f"refusing to write a backup to {tmp_path}" in elsewhere.stderr
    assert not list(tmp_path.glob("clinicbox-*"))
    backups = load_config(demo / "clinicbox.toml").backup_dir
    result = clinicbox("--config", cfg, "db", "backup", "--to", str(backups))
    assert result.returncode == 0 and "backup written" in result.stdout
    assert list(backups.glob("clinicbox-*.tar"))
    audit = clinicbox("--config", cfg, "audit", "verify")
    assert audit.returncode == 0 and "intact" in audit.stdout


def test_audit_verify_fails_on_tampering(tmp_path: Path) -> None:
    path = tmp_path / "clinic"
    assert clinicbox("demo", "--seed-only", str(path)).returncode == 0
    store = Store.open(path / "clinicbox.db", path / "store.key")
    AuditLog(store).record("x", "view", "patient", 1)
    conn = store.connection()
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 1")
    store.close()
    result = clinicbox("--config", str(path / "clinicbox.toml"), "audit", "verify")
    assert result.returncode == 1 and "BROKEN at row 1" in result.stdout


def test_config_error_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "clinicbox.toml"
    cfg.write_text('[clinic]\ntimezone = "Mars/Olympus"\n[sip]\nport = "x"\n')
    result = clinicbox("--config", str(cfg), "db", "verify")
    assert result.returncode == 1
    assert "clinic.timezone: unknown time zone 'Mars/Olympus'" in result.stderr
    assert "sip.port: expected an integer" in result.stderr


def test_doctor_json(demo: Path) -> None:
    result = clinicbox("--config", str(demo / "clinicbox.toml"), "doctor", "--json")
    data = json.loads(result.stdout)
    names = {c["name"]: c["status"] for c in data["checks"]}
    assert names["configuration"] == "OK" and names["store"] == "OK" and names["clock"] == "OK"
    assert result.returncode == (0 if data["ok"] else 1)


def test_doctor_reports_a_missing_key_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "clinic"
    assert clinicbox("demo", "--seed-only", str(path)).returncode == 0
    (path / "store.key").unlink()
    result = clinicbox("--config", str(path / "clinicbox.toml"), "doctor")
    assert result.returncode == 1
    assert "FAIL  key file" in result.stdout and "restore the key file" in result.stdout


FRESH_BOX = """\
config_version = 1
simulate = true

[paths]
state_dir = "."
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"
"""


def test_setup_code_on_a_fresh_box_then_refused_once_a_manager_exists(tmp_path: Path) -> None:
    from appliance import setup_code

    cfg = tmp_path / "clinicbox.toml"
    cfg.write_text(FRESH_BOX)
    assert clinicbox("--config", str(cfg), "db", "init").returncode == 0
    first = clinicbox("--config", str(cfg), "setup-code")
    assert first.returncode == 0, first.stderr
    code = first.stdout.split("setup code: ", 1)[1].split()[0]
    assert len(setup_code.normalise(code)) == setup_code.LENGTH
    assert code not in (tmp_path / setup_code.FILE_NAME).read_text()  # only its hash is kept
    second = clinicbox("--config", str(cfg), "setup-code").stdout.split("setup code: ", 1)[1].split()[0]
    assert second != code
    setup_code.claim(tmp_path, second)  # the newest code works
    result = clinicbox("--config", str(cfg), "user", "add", "amira", "--role", "manager")
    assert result.returncode == 0
    refused = clinicbox("--config", str(cfg), "setup-code")
    assert refused.returncode == 1 and "a manager exists" in refused.stderr and "setup code:" not in refused.stdout
    assert not setup_code.pending(tmp_path)


def test_hash_password_makes_what_a_bundle_carries() -> None:
    from argon2 import PasswordHasher

    result = clinicbox("user", "hash-password", input="correct horse battery\n")
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip()
    assert hashed.startswith("$argon2id$") and PasswordHasher().verify(hashed, "correct horse battery")
    weak = clinicbox("user", "hash-password", input="short\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
