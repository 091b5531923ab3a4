"""The root helper behind setup's "Restore from a USB backup stick": it restores
only a backup lying on a mounted backup stick, only on a box without a manager,
stops and restarts the core and the web UI around it, and records the outcome.
Real SQLCipher stores; the kernel's mount table (``sticks.mount_points``) and
systemctl (the recording service manager) are stood in for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.store import Store, backup, backup_key, sticks
from appliance.store.patient_input import PatientInput
from appliance.store.repos import make_repos
from provisioning.plan import CORE, WEB
from provisioning.restore_request import read_status, request_path, serve_request, stick_backup, write_request
from provisioning.services import RecordingServiceManager
from tests.conftest import clinic_config

PASS = "the old box's backup passphrase"


def _old_box_on_stick(tmp_path: Path, fresh: Config, monkeypatch: pytest.MonkeyPatch) -> Path:
    old = clinic_config(tmp_path / "old")
    store = Store.create(old.db_path, old.paths.key_file, media_dir=old.media_dir)
    make_repos(old, store).patients.create(PatientInput(name="Zofia Nowak", date_of_birth="1970-01-01"), "t")
    mount = sticks.usb_dir(fresh) / "sdb1"
    tar = backup.backup(store, mount / sticks.MARKER, backup_key.seal(store.key, PASS)).path
    store.close()
    monkeypatch.setattr(sticks, "mount_points", lambda: {str(mount.resolve())})
    return tar


@pytest.fixture
def fresh(tmp_path: Path) -> Config:
    cfg = clinic_config(tmp_path / "fresh")
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()  # a freshly imaged box
    return cfg


def _names(cfg: Config) -> list[str]:
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    try:
        return [r[0] for r in store.query("SELECT display_name FROM patients")]
    finally:
        store.close()


def test_a_fresh_box_restores_the_stick_between_a_stop_and_a_start(
    fresh: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tar = _old_box_on_stick(tmp_path, fresh, monkeypatch)
    assert stick_backup(fresh) == tar
    path = write_request(fresh, tar, PASS)
    assert path.stat().st_mode & 0o777 == 0o600
    services = RecordingServiceManager()
    outcome = serve_request(fresh, services)
    assert outcome["ok"], outcome
    assert services.calls == [("stop", (CORE, WEB)), ("start", (CORE, WEB))]
    assert not request_path(fresh).exists()  # the passphrase does not stay on the box
    assert _names(fresh) == ["Zofia Nowak"]
    status = read_status(fresh)
    assert status is not None and status["ok"] and status["backup"] == tar.name and PASS not in str(status)


def test_a_wrong_passphrase_restarts_the_box_unchanged_and_says_why(
    fresh: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tar = _old_box_on_stick(tmp_path, fresh, monkeypatch)
    before = fresh.db_path.read_bytes(), fresh.paths.key_file.read_bytes()
    write_request(fresh, tar, "not the passphrase")
    services = RecordingServiceManager()
    outcome = serve_request(fresh, services)
    assert not outcome["ok"] and "wrong backup passphrase" in outcome["reason"]
    assert services.calls == [("stop", (CORE, WEB)), ("start", (CORE, WEB))]
    assert (fresh.db_path.read_bytes(), fresh.paths.key_file.read_bytes()) == before
    assert not request_path(fresh).exists()


def test_a_file_that_is_not_on_a_backup_stick_is_refused_before_anything_stops(
    fresh: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tar = _old_box_on_stick(tmp_path, fresh, monkeypatch)
    elsewhere = tmp_path / "clinicbox-elsewhere.tar"
    shutil.copyfile(tar, elsewhere)
    write_request(fresh, elsewhere, PASS)
    services = RecordingServiceManager()
    outcome = serve_request(fresh, services)
    assert not outcome["ok"] and "not a backup on a plugged-in USB backup stick" in outcome["reason"]
    assert services.calls == []


def test_a_box_with_a_manager_is_never_restored_from_setup(
    fresh: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tar = _old_box_on_stick(tmp_path, fresh, monkeypatch)
    store = Store.open(fresh.db_path, fresh.paths.key_file, media_dir=fresh.media_dir)
    make_repos(fresh, store).users.add("amira", "manager", "test", password="a long manager password")
    store.close()
    before = fresh.db_path.read_bytes()
    write_request(fresh, tar, PASS)
    services = RecordingServiceManager()
    outcome = serve_request(fresh, services)
    assert not outcome["ok"] and "already has a manager" in outcome["reason"]
    assert services.calls == [] and fresh.db_path.read_bytes() == before
