"""Online, consistent, encrypted backups, and restoring them.

A backup is one tar file:

* ``clinicbox.db``: a SQLCipher copy made with ``sqlcipher_export`` inside
  one read transaction (consistent while calls are being logged), encrypted
  with the same store key;
* ``media/...``: the voicemail and recordings, already encrypted;
* ``manifest.json``: format, schema version, key id, time, SHA-256 of every
  file.

Nothing in it is readable without the store key file, which the
technician keeps separately. Restoring checks the manifest, the key id,
SQLCipher's HMACs and SQLite's integrity before it swaps anything in, and
keeps the database it replaces beside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from appliance import __version__
from appliance.errors import CorruptStoreError, StoreError, WrongKeyError
from appliance.store import keys as keymod
from appliance.store.connection import Store
from appliance.store.lockfile import StoreLock
from appliance.store.migrate import check_schema_version, current_version
from appliance.store.timefmt import to_db

FORMAT = "clinicbox-backup"
MAX_MEMBER = 2 * 1024**3


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: str
    schema_version: int
    key_id: str
    files: int
    bytes: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(store: Store, dest: Path) -> BackupInfo:
    """Write a backup of the open store to ``dest`` (a .tar file)."""
    dest = Path(dest)
    if dest.is_dir() or dest.suffix != ".tar":  # a folder (created if missing), not a file name
        now = store.clock.now()
        dest = dest / f"clinicbox-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}.tar"
    dest.parent.mkdir(parents=True, exist_ok=True)
    key = store.key
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as tmp:
        copy = Path(tmp) / "clinicbox.db"
        conn = store.connection()
        pragma = keymod.sqlcipher_pragma(key).split("=", 1)[1].strip()
        conn.execute(f"ATTACH DATABASE ? AS backup KEY {pragma}", (str(copy),))
        try:
            conn.execute("SELECT sqlcipher_export('backup')")
            version = current_version(conn)
            conn.execute(f"PRAGMA backup.user_version = {version}")
        finally:
            conn.execute("DETACH DATABASE backup")
        files = {"clinicbox.db": copy}
        if store.media_dir.exists():
            for path in sorted(store.media_dir.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files["media/" + path.relative_to(store.media_dir).as_posix()] = path
        manifest = {
            "format": FORMAT,
            "version": 1,
            "created_at": to_db(store.clock.now()),
            "software": __version__,
            "schema_version": version,
            "key_id": keymod.key_id(key),
            "files": {name: _sha256(path) for name, path in files.items()},
        }
        partial = dest.with_name(dest.name + ".part")
        total = 0
        with tarfile.open(partial, "w") as tar:
            blob = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(blob)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(blob))
            for name, path in files.items():
                tar.add(path, arcname=name, recursive=False)
                total += path.stat().st_size
        os.chmod(partial, 0o600)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, dest)
    return BackupInfo(dest, str(manifest["created_at"]), version, str(manifest["key_id"]), len(files), total)


def _safe_extract(tar: tarfile.TarFile, target: Path) -> dict[str, object]:
    """Extract regular files only, with no absolute paths or '..'."""
    manifest: dict[str, object] | None = None
    for member in tar.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts:
            raise StoreError(f"backup member {member.name!r} has an unsafe path; refusing it")
        if not member.isfile():
            raise StoreError(f"backup member {member.name!r} is not a regular file; refusing it")
        if member.size > MAX_MEMBER:
            raise StoreError(f"backup member {member.name!r} is implausibly large")
        src = tar.extractfile(member)
        assert src is not None
        out = target.joinpath(*name.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as fh:
            shutil.copyfileobj(src, fh)
        if member.name == "manifest.json":
            manifest = json.loads(out.read_text())
    if manifest is None or manifest.get("format") != FORMAT:
        raise StoreError("this is not a ClinicBox backup (no manifest)")
    return manifest


def inspect(path: Path) -> dict[str, object]:
    """Read a backup's manifest without extracting it."""
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.getmember("manifest.json")
            fh = tar.extractfile(member)
            assert fh is not None
            return json.loads(fh.read())
    except (tarfile.TarError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise StoreError(f"{path} is not a readable ClinicBox backup ({exc})") from exc


def restore(src: Path, db_path: Path, key_path: Path, media_dir: Path, state_dir: Path) -> BackupInfo:
    """Restore a backup over the store at ``db_path`` (services must be stopped).

    The key file at ``key_path`` must be the one the backup was made with
    (on a replacement box, copy the old box's key file first).

    Raises:
        StoreError: the services run, the file is not a valid backup, the
            key does not match, or the restored database fails its checks.
            In every case the current database is left as it was.
    """
    src = Path(src)
    kf = keymod.read_key_file(keymod.resolve_key_path(Path(key_path)))
    if kf.locked:
        raise StoreError(
            "unlock the key first (restore does not take a passphrase-wrapped key; unwrap it with `clinicbox db passphrase remove`)"
        )
    key = kf.key or b""
    with StoreLock(state_dir) as lock:
        lock.acquire_exclusive()
        staging = Path(tempfile.mkdtemp(dir=db_path.parent, prefix=".restore-"))
        try:
            try:
                with tarfile.open(src, "r") as tar:
                    manifest = _safe_extract(tar, staging)
            except (tarfile.TarError, OSError) as exc:
                raise StoreError(f"cannot read the backup {src}: {exc}") from exc
            if manifest.get("key_id") != keymod.key_id(key):
                raise WrongKeyError(
                    f"the backup was made with key {manifest.get('key_id')}, but {key_path} holds key "
                    f"{keymod.key_id(key)}: copy the original box's key file here first"
                )
            files = manifest.get("files")
            assert isinstance(files, dict)
            for name, digest in files.items():
                path = staging / name
                if not path.is_file() or _sha256(path) != digest:
                    raise CorruptStoreError(f"backup file {name} is missing or damaged; nothing was restored")
            staged_db = staging / "clinicbox.db"
            check = Store(staged_db, key_path, media_dir=staging / "media")
            check._key = key
            conn = check._new_connection()
            try:
                check._probe(conn, key_checked=True)
                check_schema_version(conn)
                bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
                ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
                if bad or ok != "ok":
                    raise CorruptStoreError(
                        "the database in the backup fails its integrity check; nothing was restored"
                    )
            finally:
                conn.close()
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            if db_path.exists():
                os.replace(db_path, db_path.with_name(f"{db_path.name}.before-restore-{stamp}"))
            for suffix in ("-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            os.replace(staged_db, db_path)
            os.chmod(db_path, 0o600)
            if (staging / "media").exists():
                if media_dir.exists():
                    os.replace(media_dir, media_dir.with_name(f"{media_dir.name}.before-restore-{stamp}"))
                os.replace(staging / "media", media_dir)
            db_path.with_name(db_path.name + ".keyid").write_text(keymod.key_id(key) + "\n")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return BackupInfo(
        src,
        str(manifest["created_at"]),
        int(str(manifest["schema_version"])),
        keymod.key_id(key),
        len(files),
        0,
    )


def prune(backup_dir: Path, keep: int) -> list[Path]:
    """Keep the newest ``keep`` backups in ``backup_dir``; return what was removed."""
    found = sorted(backup_dir.glob("clinicbox-*.tar"), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = found[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
