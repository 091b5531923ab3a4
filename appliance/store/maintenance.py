"""Store maintenance a technician runs: verify, rekey, passphrase changes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlite

from appliance.errors import StoreError
from appliance.store import keys as keymod
from appliance.store.connection import Store
from appliance.store.lockfile import StoreLock
from appliance.store.migrate import current_version, latest_version


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: list[str]


def verify(store: Store) -> VerifyResult:
    """SQLCipher's page HMACs, SQLite's structure, foreign keys, schema."""
    conn = store.connection()
    lines = []
    ok = True
    cipher = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    if cipher:
        ok = False
        lines.append(f"FAIL cipher_integrity_check: {len(cipher)} pages fail their HMAC (damaged or tampered)")
        lines += [f"     {row[0]}" for row in cipher[:10]]
    else:
        lines.append("OK   cipher_integrity_check: every page authenticates")
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite.DatabaseError as exc:
        integrity = [f"cannot read the database: {exc}"]
    if integrity != ["ok"]:
        ok = False
        lines.append(f"FAIL integrity_check: {len(integrity)} problems")
        lines += [f"     {msg}" for msg in integrity[:10]]
    else:
        lines.append("OK   integrity_check")
    try:
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite.DatabaseError:
        fk = []
        ok = False
        lines.append("FAIL foreign_key_check: the database cannot be read")
    if fk:
        ok = False
        lines.append(f"FAIL foreign_key_check: {len(fk)} rows point at missing records")
    elif ok:
        lines.append("OK   foreign_key_check")
    version = current_version(conn)
    lines.append(f"OK   schema version {version} (this software knows {latest_version()})")
    return VerifyResult(ok, lines)


def _next_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".next")


def rekey(store: Store, state_dir: Path, passphrase: str | None = None) -> str:
    """Re-encrypt the database under a new random key; returns the new key id.

    Crash-safe order: the new key is written to ``<key>.next`` first, the
    database is re-keyed, then ``.next`` replaces the key file. If power
    fails in between, :func:`recover_interrupted_rekey` (run by
    ``Store.open``'s callers) finds the database opens with ``.next``.
    """
    old = store.key
    wrapped = keymod.read_key_file(store.key_path).kind == "wrapped"
    if wrapped and not passphrase:
        raise StoreError("this key is passphrase-protected: give the passphrase for the new key")
    with StoreLock(state_dir) as lock:
        lock.acquire_exclusive()
        new = keymod.new_key()
        nxt = _next_path(store.key_path)
        keymod.write_key_file(nxt, new, passphrase if wrapped else None, replace=True)
        conn = store.connection()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute(f"PRAGMA rekey = \"x'{new.hex()}'\"")
        conn.execute("PRAGMA journal_mode = WAL")
        store.close()
        store._key = new
        store._write_key_id(new)
        os.replace(nxt, store.key_path)
        del old
    return keymod.key_id(new)


def recover_interrupted_rekey(db_path: Path, key_path: Path) -> bool:
    """If a rekey was interrupted after the DB changed, finish it. Returns True if it did."""
    nxt = _next_path(key_path)
    if not nxt.exists():
        return False
    kf = keymod.read_key_file(nxt)
    if kf.locked:
        return False
    probe = Store(db_path, key_path)
    probe._key = kf.key
    conn = probe._new_connection()
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except Exception:
        nxt.unlink()  # the DB still uses the old key: the rekey never happened
        return False
    finally:
        conn.close()
    probe._write_key_id(kf.key or b"")
    os.replace(nxt, key_path)
    return True


def set_passphrase(store: Store, passphrase: str | None) -> None:
    """Wrap the key with a passphrase (or unwrap it with ``None``)."""
    keymod.write_key_file(store.key_path, store.key, passphrase, replace=True)
