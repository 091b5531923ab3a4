"""Backups that leave the box (real SQLCipher files): sealed under the backup
passphrase, verified after writing, restored on a fresh box with the
passphrase alone; a tampered backup, a wrong passphrase and another box's
backup are refused with the current store untouched."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.errors import CorruptStoreError, StoreError, WrongKeyError, WrongPassphraseError
from appliance.store import Store, backup, backup_key, backup_list
from appliance.store.audit import AuditLog
from appliance.store.media import MediaVault
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from tests.conftest import clinic_config

PASS = "correct horse battery staple"
WAV = b"RIFF" + b"\x00" * 40 + bytes(range(256)) * 300


def _fill(repos: Repos) -> None:
    repos.patients.create(PatientInput(name="Zofia Nowak", date_of_birth="1970-01-01"), "t")
    repos.patients.create(PatientInput(name="Jan Kowalski", date_of_birth="1980-02-02"), "t")
    repos.media.write_bytes("voicemail/2026/03/a.wav", WAV)
    AuditLog(repos.store).record("manager", "view", "patient", 1)


def _sealed_backup(repos: Repos, cfg: Config, dest: Path) -> backup.BackupInfo:
    _fill(repos)
    blob = backup_key.seal(repos.store.key, PASS)
    backup_key.write(cfg.paths.state_dir, blob)
    return backup.backup(repos.store, dest, blob)


def test_a_sealed_backup_restores_on_a_fresh_box_with_the_passphrase_alone(
    repos: Repos, cfg: Config, tmp_path: Path
) -> None:
    info = _sealed_backup(repos, cfg, tmp_path / "stick")
    assert info.verified and info.key_sealed and info.counts and info.counts["patients"] == 2
    report = json.loads(backup.report_path(info.path).read_text())
    assert report["verified"] is True and report["bytes"] == info.path.stat().st_size
    assert report["sha256"] == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert report["restore_needs"] == "the backup passphrase" and report["media_files"] == 1
    raw = info.path.read_bytes()
    assert repos.store.key.hex().encode() not in raw and repos.store.key not in raw  # never the raw key
    assert b"Zofia" not in raw and bytes(range(256)) not in raw

    fresh = clinic_config(tmp_path / "fresh")  # a new install: no store, no key file
    assert not fresh.db_path.exists() and not fresh.paths.key_file.exists()
    done = backup.restore(info.path, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir, PASS)
    assert done.key_sealed
    store = Store.open(fresh.db_path, fresh.paths.key_file, media_dir=fresh.media_dir)
    try:
        names = sorted(r[0] for r in store.query("SELECT display_name FROM patients"))
        assert names == ["Jan Kowalski", "Zofia Nowak"]
        assert MediaVault(store).read_bytes("voicemail/2026/03/a.wav") == WAV
        assert AuditLog(store).verify().ok
    finally:
        store.close()
    assert fresh.paths.key_file.stat().st_mode & 0o777 == 0o600


def test_a_wrong_passphrase_restores_nothing(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    info = _sealed_backup(repos, cfg, tmp_path / "stick")
    fresh = clinic_config(tmp_path / "fresh")
    with pytest.raises(WrongPassphraseError, match="wrong backup passphrase"):
        backup.restore(
            info.path, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir, "not the one at all"
        )
    assert not fresh.db_path.exists() and not fresh.paths.key_file.exists()


def test_another_boxs_backup_with_its_own_passphrase_leaves_this_store_untouched(
    repos: Repos, cfg: Config, tmp_path: Path
) -> None:
    other_cfg = clinic_config(tmp_path / "other")
    other = Store.create(other_cfg.db_path, other_cfg.paths.key_file, media_dir=other_cfg.media_dir)
    other_blob = backup_key.seal(other.key, "the other clinic's passphrase")
    other_tar = backup.backup(other, tmp_path / "other-stick", other_blob).path
    other.close()
    _fill(repos)
    repos.store.close()
    before = cfg.db_path.read_bytes(), cfg.paths.key_file.read_bytes()
    with pytest.raises(WrongPassphraseError):  # this clinic's passphrase does not open the other box's key
        backup.restore(other_tar, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir, PASS)
    with pytest.raises(WrongKeyError, match="give the backup passphrase it was made with"):
        backup.restore(other_tar, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir)
    assert (cfg.db_path.read_bytes(), cfg.paths.key_file.read_bytes()) == before


def _rewrite(src: Path, dst: Path, change: str) -> None:
    """Copy the archive, changing one member the way an attacker (without the key) could."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        members = {m.name: tin.extractfile(m).read() for m in tin.getmembers()}  # type: ignore[union-attr]
        manifest = json.loads(members["manifest.json"])
        if change == "manifest":
            manifest["created_at"] = "2020-01-01T00:00:00.000Z"  # an older date, say
        if change == "media":
            name = next(n for n in members if n.startswith("media/"))
            data = bytearray(members[name])
            data[200] ^= 1
            members[name] = bytes(data)
            manifest["files"][name] = hashlib.sha256(members[name]).hexdigest()  # hash fixed up to match
        members["manifest.json"] = json.dumps(manifest, indent=1).encode()
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("change", ["manifest", "media"])
def test_a_tampered_backup_is_refused_and_the_store_is_untouched(
    repos: Repos, cfg: Config, tmp_path: Path, change: str
) -> None:
    info = _sealed_backup(repos, cfg, tmp_path / "stick")
    bad = tmp_path / "bad.tar"
    _rewrite(info.path, bad, change)
    key = repos.store.key
    with pytest.raises(CorruptStoreError, match="altered or damaged"):
        backup.verify_archive(bad, key)
    repos.store.close()
    before = cfg.db_path.read_bytes(), sorted(p.name for p in cfg.media_dir.rglob("*"))
    with pytest.raises(CorruptStoreError, match="altered or damaged.*nothing was restored"):
        backup.restore(bad, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir)
    fresh = clinic_config(tmp_path / "fresh")
    with pytest.raises(CorruptStoreError, match="nothing was restored"):
        backup.restore(bad, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir, PASS)
    assert (cfg.db_path.read_bytes(), sorted(p.name for p in cfg.media_dir.rglob("*"))) == before
    assert not fresh.db_path.exists() and not fresh.paths.key_file.exists()


def test_a_truncated_backup_is_refused(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    info = _sealed_backup(repos, cfg, tmp_path / "stick")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(info.path.read_bytes()[: info.path.stat().st_size // 2])
    fresh = clinic_config(tmp_path / "fresh")
    with pytest.raises(StoreError):
        backup.restore(cut, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir, PASS)
    assert not fresh.db_path.exists()


def test_a_backup_made_without_a_passphrase_says_it_needs_the_key_file(
    repos: Repos, cfg: Config, tmp_path: Path
) -> None:
    _fill(repos)
    info = backup.backup(repos.store, tmp_path / "b")
    assert info.verified and not info.key_sealed
    fresh = clinic_config(tmp_path / "fresh")
    with pytest.raises(StoreError, match="carries no sealed key"):
        backup.restore(info.path, fresh.db_path, fresh.paths.key_file, fresh.media_dir, fresh.paths.state_dir, PASS)


def test_the_listing_shows_what_the_reports_say(repos: Repos, cfg: Config, tmp_path: Path) -> None:
    info = _sealed_backup(repos, cfg, tmp_path / "b")
    (tmp_path / "b" / "clinicbox-20200101-000000-000.tar").write_bytes(b"left over, no report")
    entries = backup_list.listing(tmp_path / "b")
    assert {e.path.name: e.verified for e in entries} == {
        info.path.name: True,
        "clinicbox-20200101-000000-000.tar": False,
    }
    assert backup_list.newest_on(tmp_path / "b") == info.path


def test_short_or_odd_backup_passphrases_are_refused() -> None:
    assert "at least 12" in backup_key.passphrase_problem("short")
    assert "control characters" in backup_key.passphrase_problem("a long one with\na newline")
    assert backup_key.passphrase_problem(PASS) == ""
