"""Backups, restore onto a replacement box, rekey, encrypted media."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.errors import CorruptStoreError, StoreError, WrongKeyError
from appliance.store import Store, backup, maintenance
from appliance.store.keys import new_key, write_key_file
from appliance.store.lockfile import StoreLock
from appliance.store.media import MediaVault
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from tests.conftest import clinic_config

WAV = b"RIFF" + b"\x00" * 40 + bytes(range(256)) * 300


def _patient(repos: Repos, name: str) -> None:
    repos.patients.create(PatientInput(name=name, date_of_birth="1970-01-01"), "t")


def test_media_roundtrip_is_encrypted_on_disk(repos: Repos) -> None:
    vault = repos.media
    vault.write_bytes("voicemail/2026/03/a.wav", WAV)
    raw = vault.path("voicemail/2026/03/a.wav").read_bytes()
    assert bytes(range(256)) not in raw and b"RIFF" not in raw
    assert vault.read_bytes("voicemail/2026/03/a.wav") == WAV


def test_media_tampering_and_truncation_are_detected(repos: Repos) -> None:
    vault = repos.media
    vault.write_bytes("v/b.wav", WAV)
    path = vault.path("v/b.wav")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="damaged or was tampered"):
        vault.read_bytes("v/b.wav")
    vault.write_bytes("v/c.wav", WAV)
    path = vault.path("v/c.wav")
    path.write_bytes(path.read_bytes()[: 10 + 16 + 4 + 65536 + 16])  # keep the first full chunk only
    with pytest.raises(CorruptStoreError, match="truncated"):
        vault.read_bytes("v/c.wav")


def test_media_names_cannot_escape(repos: Repos) -> None:
    from appliance.errors import ValidationError

    for bad in ("../x.wav", "/etc/passwd", ""):
        with pytest.raises(ValidationError):
            repos.media.path(bad)


def test_backup_and_restore_onto_a_replacement_box(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    _patient(repos, "Zofia Nowak")
    repos.media.write_bytes("voicemail/x.wav", WAV)
    info = backup.backup(repos.store, tmp_path / "backups")
    assert info.path.exists() and info.files == 2
    assert b"Zofia" not in info.path.read_bytes()
    # A replacement box: fresh folder, the old key file copied by the technician.
    new_cfg = clinic_config(tmp_path / "newbox")
    new_cfg.paths.key_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(cfg.paths.key_file, new_cfg.paths.key_file)
    new_cfg.paths.state_dir.mkdir(parents=True)
    backup.restore(info.path, new_cfg.db_path, new_cfg.paths.key_file, new_cfg.media_dir, new_cfg.paths.state_dir)
    restored = Store.open(new_cfg.db_path, new_cfg.paths.key_file, media_dir=new_cfg.media_dir)
    assert restored.query_one("SELECT display_name FROM patients")[0] == "Zofia Nowak"
    assert MediaVault(restored).read_bytes("voicemail/x.wav") == WAV


def test_restore_with_the_wrong_key_changes_nothing(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    _patient(repos, "Zofia Nowak")
    info = backup.backup(repos.store, tmp_path / "b.tar")
    other = clinic_config(tmp_path / "other")
    store2 = Store.create(other.db_path, other.paths.key_file)
    store2.close()
    before = other.db_path.read_bytes()
    with pytest.raises(WrongKeyError, match="copy the original box's key file"):
        backup.restore(info.path, other.db_path, other.paths.key_file, other.media_dir, other.paths.state_dir)
    assert other.db_path.read_bytes() == before


def _rewrite(src: Path, dst: Path, mutate: str) -> None:
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read()  # type: ignore[union-attr]
            if mutate == "flip" and m.name == "clinicbox.db":
                data = data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]
            m.size = len(data)
            tout.addfile(m, io.BytesIO(data))
        if mutate == "traversal":
            evil = tarfile.TarInfo("../../evil.txt")
            evil.size = 4
            tout.addfile(evil, io.BytesIO(b"evil"))


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        ("flip", CorruptStoreError, "missing or damaged"),
        ("traversal", StoreError, "unsafe path"),
    ],
)
def test_tampered_backup_is_refused(
    repos: Repos, cfg: Config, tmp_path: Path, mutate: str, error: type, message: str
) -> None:
    _patient(repos, "Zofia Nowak")
    info = backup.backup(repos.store, tmp_path / "b.tar")
    bad = tmp_path / "bad.tar"
    _rewrite(info.path, bad, mutate)
    repos.store.close()
    before = cfg.db_path.read_bytes()
    with pytest.raises(error, match=message):
        backup.restore(bad, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir)
    assert cfg.db_path.read_bytes() == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_restore_refuses_while_services_run(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    info = backup.backup(repos.store, tmp_path / "b.tar")
    running = StoreLock(cfg.paths.state_dir)
    running.acquire_shared()
    try:
        with pytest.raises(StoreError, match="stop it first"):
            backup.restore(info.path, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir)
    finally:
        running.release()


def test_rekey_keeps_data_and_retires_the_old_key(repos: Repos, cfg: Config) -> None:
    _patient(repos, "Zofia Nowak")
    repos.media.write_bytes("v/a.wav", WAV)
    old_key = cfg.paths.key_file.read_bytes()
    maintenance.rekey(repos.store, cfg.paths.state_dir)
    assert cfg.paths.key_file.read_bytes() != old_key
    reopened = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    assert reopened.query_one("SELECT count(*) FROM patients")[0] == 1
    assert MediaVault(reopened).read_bytes("v/a.wav") == WAV
    reopened.close()
    stale = cfg.paths.key_file.with_name("old.key")
    stale.write_bytes(old_key)
    stale.chmod(0o600)
    with pytest.raises(WrongKeyError):
        Store.open(cfg.db_path, stale)


def test_interrupted_rekey_is_finished_at_next_start(repos: Repos, cfg: Config) -> None:
    """Power cut after the DB was re-keyed but before the key file was replaced."""
    _patient(repos, "Zofia Nowak")
    new = new_key()
    write_key_file(cfg.paths.key_file.with_name("store.key.next"), new)
    conn = repos.store.connection()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA rekey = \"x'{new.hex()}'\"")
    repos.store.close()
    assert maintenance.recover_interrupted_rekey(cfg.db_path, cfg.paths.key_file)
    reopened = Store.open(cfg.db_path, cfg.paths.key_file)
    assert reopened.query_one("SELECT count(*) FROM patients")[0] == 1


def test_passphrase_can_be_set_and_removed(repos: Repos, cfg: Config) -> None:
    maintenance.set_passphrase(repos.store, "a long passphrase")
    repos.store.close()
    locked = Store.open(cfg.db_path, cfg.paths.key_file)
    assert locked.locked
    locked.unlock("a long passphrase")
    maintenance.set_passphrase(locked, None)
    locked.close()
    assert not Store.open(cfg.db_path, cfg.paths.key_file).locked
