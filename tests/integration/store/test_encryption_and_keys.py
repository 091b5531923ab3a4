"""The store on disk: encrypted, refuses wrong keys, never overwrites a DB."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.errors import (
    CorruptStoreError,
    KeyFileError,
    SchemaTooNewError,
    StoreError,
    StoreLockedError,
    WrongKeyError,
    WrongPassphraseError,
)
from appliance.store import Store
from appliance.store.keys import new_key, write_key_file
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add_patient(repos: Repos, name: str = "Zofia Wiśniewska") -> int:
    family, given = name.split()[1], name.split()[0]
    return repos.patients.create(
        PatientInput(family_name=family, given_name=given, date_of_birth="1961-04-12", phones=["601 234 567"]),
        "test",
    )


def test_file_on_disk_is_not_sqlite_and_holds_no_names(repos: Repos, cfg: Config) -> None:
    _add_patient(repos, "Zofia Wiśniewska")
    _add_patient(repos, "민준 남궁")  # needles of 6+ bytes: a 3-byte one turns up in ciphertext by chance
    repos.store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = cfg.db_path.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    for needle in ("Wiśniewska", "Zofia", "남궁", "민준", "+48601234567", "1961-04-12", "patients"):
        assert needle.encode("utf-8") not in raw, needle
    wal = Path(f"{cfg.db_path}-wal")
    if wal.exists():
        assert "Wiśniewska".encode() not in wal.read_bytes()
    plain = sqlite3.connect(cfg.db_path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        plain.execute("SELECT * FROM sqlite_master").fetchall()
    plain.close()


def test_key_file_is_private_and_raw(cfg: Config, store: Store) -> None:
    mode = os.stat(cfg.paths.key_file).st_mode & 0o777
    assert mode == 0o600
    data = json.loads(cfg.paths.key_file.read_text())
    assert data["kind"] == "raw" and len(bytes.fromhex(data["key"])) == 32


def test_wrong_key_is_refused_and_db_untouched(repos: Repos, cfg: Config) -> None:
    _add_patient(repos)
    repos.store.close()
    before = _digest(cfg.db_path)
    other = cfg.paths.key_file.with_name("other.key")
    write_key_file(other, new_key())
    with pytest.raises(WrongKeyError, match="belongs to another database"):
        Store.open(cfg.db_path, other)
    # Without the key-id sidecar the message is the generic one.
    cfg.db_path.with_name(cfg.db_path.name + ".keyid").unlink()
    with pytest.raises(WrongKeyError, match="cannot decrypt .* wrong key"):
        Store.open(cfg.db_path, other)
    assert _digest(cfg.db_path) == before
    reopened = Store.open(cfg.db_path, cfg.paths.key_file)
    assert reopened.query_one("SELECT count(*) FROM patients")[0] == 1


def test_missing_key_file_never_creates_a_new_database(repos: Repos, cfg: Config) -> None:
    _add_patient(repos)
    repos.store.close()
    before = _digest(cfg.db_path)
    cfg.paths.key_file.rename(cfg.paths.key_file.with_suffix(".away"))
    with pytest.raises(KeyFileError, match="is missing.*never create a new one"):
        Store.open(cfg.db_path, cfg.paths.key_file)
    with pytest.raises(StoreError, match="already exists"):
        Store.create(cfg.db_path, cfg.paths.key_file)
    assert not cfg.paths.key_file.exists()
    assert _digest(cfg.db_path) == before


def test_key_file_readable_by_others_is_refused(store: Store, cfg: Config) -> None:
    store.close()
    os.chmod(cfg.paths.key_file, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        Store.open(cfg.db_path, cfg.paths.key_file)


def test_malformed_key_file(store: Store, cfg: Config) -> None:
    store.close()
    cfg.paths.key_file.write_text("not json")
    os.chmod(cfg.paths.key_file, 0o600)
    with pytest.raises(KeyFileError, match="malformed"):
        Store.open(cfg.db_path, cfg.paths.key_file)


def test_corrupted_database_is_detected(repos: Repos, cfg: Config) -> None:
    for i in range(30):
        _add_patient(repos, f"Name{i} Family{i}")
    repos.store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    repos.store.close()
    data = bytearray(cfg.db_path.read_bytes())
    page = 4096 * 3 + 100
    data[page : page + 16] = bytes(16)
    cfg.db_path.write_bytes(bytes(data))
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    from appliance.store.maintenance import verify

    result = verify(store)
    assert not result.ok
    assert any("cipher_integrity_check" in line and "FAIL" in line for line in result.lines)


def test_damaged_first_page_with_matching_key_says_damaged(store: Store, cfg: Config) -> None:
    store.close()
    data = bytearray(cfg.db_path.read_bytes())
    data[200:260] = bytes(60)
    cfg.db_path.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="the key matches but .* damaged"):
        Store.open(cfg.db_path, cfg.paths.key_file)


def test_truncated_file(store: Store, cfg: Config) -> None:
    store.close()
    cfg.db_path.write_bytes(b"\x01\x02")
    with pytest.raises(CorruptStoreError, match="truncated"):
        Store.open(cfg.db_path, cfg.paths.key_file)


def test_plain_sqlite_file_is_named_as_such(tmp_path: Path, cfg: Config) -> None:
    plain = tmp_path / "plain.db"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    write_key_file(tmp_path / "k.key", new_key())
    with pytest.raises(StoreError, match="plain, unencrypted SQLite"):
        Store.open(plain, tmp_path / "k.key")


def test_newer_schema_is_refused_without_change(store: Store, cfg: Config) -> None:
    store.connection().execute("PRAGMA user_version = 99")
    store.close()
    before = _digest(cfg.db_path)
    with pytest.raises(SchemaTooNewError, match="schema version 99, newer than this ClinicBox"):
        Store.open(cfg.db_path, cfg.paths.key_file)
    assert _digest(cfg.db_path) == before


def test_passphrase_mode_locks_until_unlocked(cfg: Config) -> None:
    store = Store.create(cfg.db_path, cfg.paths.key_file, passphrase="correct horse battery")
    store.close()
    assert json.loads(cfg.paths.key_file.read_text())["kind"] == "wrapped"
    locked = Store.open(cfg.db_path, cfg.paths.key_file)
    assert locked.locked
    with pytest.raises(StoreLockedError, match="unlock it in the web UI"):
        locked.connection()
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        locked.unlock("incorrect horse battery")
    assert locked.locked
    locked.unlock("correct horse battery")
    assert locked.query_one("SELECT count(*) FROM patients")[0] == 0


def test_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WrongPassphraseError, match="at least 10"):
        Store.create(tmp_path / "c.db", tmp_path / "k.key", passphrase="short")
    assert not (tmp_path / "c.db").exists()
