"""Provisioning that touches the real SQLCipher store: patient CSV import and backup restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.store import Store
from appliance.store import backup as backups
from appliance.store.keys import key_id, read_key_file
from appliance.store.repos import make_repos
from provisioning.plan import CORE, WEB
from provisioning.run import provision
from provisioning.services import RecordingServiceManager
from tests.unit.provisioning.kit import Box, make_box, sign, write_bundle

PATIENTS = (
    b"external_id;family_name;given_name;date_of_birth;phone;language\n"
    b"P1;Kowalska;Anna;1980-04-12;+48601234567;pl\n"
    b"P2;Nowak;Jan;1975-11-02;+48602345678;pl\n"
)
BAD_PATIENTS = PATIENTS + b"P3;Wrong;Date;1975-13-45;+48602345679;pl\n"


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return make_box(tmp_path)


def patients_in(box: Box) -> int:
    cfg = load_config(box.config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    try:
        row = store.query_one("SELECT count(*) FROM patients")
        return int(row[0]) if row else 0
    finally:
        store.close()


def stick(box: Box, tmp_path: Path, toml: str, files: dict[str, bytes]) -> Path:
    path = tmp_path / "stick"
    sign(write_bundle(path, {"provision.toml": toml.encode(), **files}), box.key)
    return path


CSV_TOML = '[bundle]\nformat = 1\ndescription = "patients"\n[files]\npatients_csv = "patients.csv"\n'


def test_patient_csv_is_imported_into_the_existing_store(box: Box, tmp_path: Path) -> None:
    cfg = load_config(box.config)
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
    outcome = provision(
        stick(box, tmp_path, CSV_TOML, {"patients.csv": PATIENTS}),
        box.config,
        services=RecordingServiceManager(),
        serial="x",
        report_dir=tmp_path / "stick",
    )
    assert outcome.ok, outcome.reason
    assert patients_in(box) == 2
    assert any("2 added" in c for c in outcome.changes)
    report = outcome.report_path.read_text()  # type: ignore[union-attr]
    for patient_data in ("Kowalska", "Anna", "1980-04-12", "601234567"):
        assert patient_data not in report


def test_a_fresh_box_gets_a_store_for_the_csv(box: Box, tmp_path: Path) -> None:
    outcome = provision(
        stick(box, tmp_path, CSV_TOML, {"patients.csv": PATIENTS}), box.config, services=RecordingServiceManager()
    )
    assert outcome.ok, outcome.reason
    assert patients_in(box) == 2


def test_a_bad_row_imports_nothing_and_changes_nothing(box: Box, tmp_path: Path) -> None:
    cfg = load_config(box.config)
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
    toml = CSV_TOML + '[config.clinic]\nname = "Renamed"\n'
    before_cfg = box.config.read_text()
    outcome = provision(
        stick(box, tmp_path, toml, {"patients.csv": BAD_PATIENTS}), box.config, services=RecordingServiceManager()
    )
    assert not outcome.ok
    assert "line 4" in outcome.reason and "nothing was changed" in outcome.reason
    assert patients_in(box) == 0
    assert box.config.read_text() == before_cfg


def test_a_bad_csv_on_a_fresh_box_leaves_no_store_behind(box: Box, tmp_path: Path) -> None:
    cfg = load_config(box.config)
    outcome = provision(
        stick(box, tmp_path, CSV_TOML, {"patients.csv": BAD_PATIENTS}), box.config, services=RecordingServiceManager()
    )
    assert not outcome.ok
    assert not cfg.db_path.exists() and not cfg.paths.key_file.exists()


def _old_box_backup(tmp_path: Path) -> tuple[bytes, bytes, str]:
    """A backup and key file of another (broken) box with one patient."""
    old = make_box(tmp_path / "old")
    cfg = load_config(old.config)
    store = Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    make_repos(cfg, store).importer.patients("family_name,given_name\nÖztürk,Ayşe\n".encode(), "cli:test")
    info = backups.backup(store, tmp_path / "old-backup.tar")
    store.close()
    return info.path.read_bytes(), cfg.paths.key_file.read_bytes(), info.key_id


RESTORE_TOML = (
    '[bundle]\nformat = 1\ndescription = "replacement box"\n'
    '[files]\nbackup = "backup/clinicbox.tar"\nbackup_key = "backup/store.key"\n'
)


def test_a_backup_is_restored_onto_a_replacement_box(box: Box, tmp_path: Path) -> None:
    tar, key, kid = _old_box_backup(tmp_path)
    cfg = load_config(box.config)
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()  # the new box's empty store
    services = RecordingServiceManager()
    outcome = provision(
        stick(box, tmp_path, RESTORE_TOML, {"backup/clinicbox.tar": tar, "backup/store.key": key}),
        box.config,
        services=services,
    )
    assert outcome.ok, outcome.reason
    assert key_id(read_key_file(cfg.paths.key_file).key or b"") == kid
    assert patients_in(box) == 1
    assert list(cfg.paths.key_file.parent.glob("store.key.before-restore-*"))  # the new box's key is kept
    assert services.calls[0] == ("stop", (CORE, WEB))
    assert ("restart", (CORE,)) in services.calls and ("restart", (WEB,)) in services.calls


def test_a_backup_with_the_wrong_key_is_refused(box: Box, tmp_path: Path) -> None:
    tar, _key, _ = _old_box_backup(tmp_path)
    other = make_box(tmp_path / "other")
    ocfg = load_config(other.config)
    Store.create(ocfg.db_path, ocfg.paths.key_file, media_dir=ocfg.media_dir).close()
    cfg = load_config(box.config)
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
    before = box.snapshot()
    services = RecordingServiceManager()
    files = {"backup/clinicbox.tar": tar, "backup/store.key": ocfg.paths.key_file.read_bytes()}
    outcome = provision(stick(box, tmp_path, RESTORE_TOML, files), box.config, services=services)
    assert not outcome.ok and "put the key file of the box that made the backup" in outcome.reason
    assert box.snapshot() == before and services.calls == []


def test_the_first_manager_and_the_patients_go_into_a_fresh_box(box: Box, tmp_path: Path) -> None:
    from appliance.store.users import hash_password

    toml = CSV_TOML + f"[manager]\nusername = \"amira\"\npassword_hash = '{hash_password('correct horse battery')}'\n"
    outcome = provision(
        stick(box, tmp_path, toml, {"patients.csv": PATIENTS}),
        box.config,
        services=RecordingServiceManager(),
        serial="x",
        report_dir=tmp_path / "stick",
    )
    assert outcome.ok, outcome.reason
    assert patients_in(box) == 2
    cfg = load_config(box.config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    try:
        assert make_repos(cfg, store).users.authenticate("amira", "correct horse battery").role == "manager"
    finally:
        store.close()
