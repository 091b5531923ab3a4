"""Online, consistent, encrypted backups, checked after writing, and restoring them.

A backup is one tar file:

* ``clinicbox.db``: a SQLCipher copy made with ``sqlcipher_export`` inside
  one read transaction (consistent while calls are being logged), encrypted
  with the same store key, and integrity-checked before it is packed;
* ``media/...``: the voicemail and recordings, already encrypted;
* ``store-key.json`` (when a manager set a backup passphrase): the store key
  sealed under that passphrase (:mod:`appliance.store.backup_key`), so the
  file restores on a fresh box with the passphrase alone;
* ``manifest.json``: format, schema version, key id, time, row counts, the
  SHA-256 of every file; ``manifest.mac``: an HMAC of the manifest under a
  key derived from the store key, so no byte of the archive can be changed
  unnoticed by anyone without the key.

Nothing in it is readable without the store key (or the backup passphrase).
The archive is written as ``.part``, flushed, read back from the disk
(page cache dropped) and checked against its manifest before it gets its
name; a report ``<name>.json`` beside it says what was written and that it
was verified. Restoring checks the MAC, the key id, every file's hash,
SQLCipher's HMACs and SQLite's integrity before it swaps anything in, and
keeps the database it replaces beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlcipher3 import dbapi2 as sqlite

from appliance import __version__
from appliance.errors import CorruptStoreError, StoreError, WrongKeyError
from appliance.fsutil import fsync_dir
from appliance.store import backup_key
from appliance.store import keys as keymod
from appliance.store.connection import Store
from appliance.store.lockfile import StoreLock
from appliance.store.migrate import check_schema_version, current_version
from appliance.store.timefmt import to_db

FORMAT = "clinicbox-backup"
VERSION = 2
REPORT_FORMAT = "clinicbox-backup-report"
MAX_MEMBER = 2 * 1024**3
#: A manifest lists every media file (~100 bytes each): room for millions.
MAX_MANIFEST = 512 * 1024**2
KEY_MEMBER = "store-key.json"
MAC_MEMBER = "manifest.mac"
#: Rows counted into the manifest and the report (no patient data, just how many).
COUNTED = ("patients", "appointments", "calls", "voicemail", "recordings", "audit_log")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: str
    schema_version: int
    key_id: str
    files: int
    bytes: int
    size: int = 0  # of the .tar
    verified: bool = False
    key_sealed: bool = False
    report: Path | None = None
    counts: dict[str, int] | None = None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_mac(key: bytes, blob: bytes) -> str:
    """HMAC-SHA256 of the manifest under a key derived from the store key."""
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"clinicbox backup manifest v2").derive(key)
    return hmac.new(mac_key, blob, hashlib.sha256).hexdigest()


def report_path(tar: Path) -> Path:
    return tar.with_suffix(".json")


def _export(store: Store, copy: Path) -> tuple[int, dict[str, int]]:
    """The consistent encrypted copy, checked; (schema version, row counts)."""
    conn = store.connection()
    pragma = keymod.sqlcipher_pragma(store.key).split("=", 1)[1].strip()
    conn.execute(f"ATTACH DATABASE ? AS backup KEY {pragma}", (str(copy),))
    try:
        conn.execute("SELECT sqlcipher_export('backup')")
        version = current_version(conn)
        conn.execute(f"PRAGMA backup.user_version = {version}")
        counts = {t: int(conn.execute(f"SELECT count(*) FROM backup.{t}").fetchone()[0]) for t in COUNTED}
        ok = conn.execute("PRAGMA backup.integrity_check").fetchone()[0]
    finally:
        conn.execute("DETACH DATABASE backup")
    if ok != "ok":
        raise CorruptStoreError(f"the database copy fails its integrity check ({ok}); run `clinicbox db verify`")
    return version, counts


def _private(path: Path) -> None:
    """0600; on a FAT or exFAT stick modes come from its mount options (fmask) and chmod says EPERM."""
    with contextlib.suppress(PermissionError):
        os.chmod(path, 0o600)


def _drop_cache(path: Path) -> None:
    """Make the read-back come from the disk (the stick), not from memory."""
    with contextlib.suppress(OSError, AttributeError), open(path, "rb") as fh:
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def backup(store: Store, dest: Path, sealed_key: dict[str, Any] | None = None) -> BackupInfo:
    """Write a backup of the open store to ``dest`` (a .tar file, or a folder
    that gets a dated name), read it back and verify it, then write its report.

    Raises:
        StoreError: the copy, the write or the read-back check failed; no
            file is left under the backup's name.
        OSError: the folder cannot be written (full, read-only).
    """
    dest = Path(dest)
    if dest.is_dir() or dest.suffix != ".tar":  # a folder (created if missing), not a file name
        now = store.clock.now()
        dest = dest / f"clinicbox-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}.tar"
    dest.parent.mkdir(parents=True, exist_ok=True)
    key = store.key
    partial = dest.with_name(dest.name + ".part")
    try:
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as tmp:
            copy = Path(tmp) / "clinicbox.db"
            try:
                version, counts = _export(store, copy)
            except sqlite.Error as exc:  # the copy is written by SQLite: "database or disk is full", ...
                raise StoreError(f"writing the database copy failed: {exc}") from exc
            files = {"clinicbox.db": copy}
            if sealed_key is not None:
                (Path(tmp) / KEY_MEMBER).write_text(json.dumps(sealed_key, indent=1))
                files[KEY_MEMBER] = Path(tmp) / KEY_MEMBER
            if store.media_dir.exists():
                for path in sorted(store.media_dir.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        files["media/" + path.relative_to(store.media_dir).as_posix()] = path
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": to_db(store.clock.now()),
                "software": __version__,
                "schema_version": version,
                "key_id": keymod.key_id(key),
                "key_sealed": sealed_key is not None,
                "counts": counts,
                "files": {name: _sha256(path) for name, path in files.items()},
            }
            blob = json.dumps(manifest, indent=1).encode()
            total = 0
            with tarfile.open(partial, "w") as tar:
                for name, data in (("manifest.json", blob), (MAC_MEMBER, manifest_mac(key, blob).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(data))
                for name, path in files.items():
                    tar.add(path, arcname=name, recursive=False)
                    total += path.stat().st_size
            _private(partial)
            with open(partial, "rb") as fh:
                os.fsync(fh.fileno())
        _drop_cache(partial)
        verify_archive(partial, key)
        digest = _sha256(partial)
        size = partial.stat().st_size
        os.replace(partial, dest)
        fsync_dir(dest.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report = {
        "format": REPORT_FORMAT,
        "file": dest.name,
        "bytes": size,
        "sha256": digest,
        "created_at": manifest["created_at"],
        "verified": True,
        "verified_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema_version": version,
        "key_id": manifest["key_id"],
        "restore_needs": "the backup passphrase" if sealed_key is not None else "the store key file of this box",
        "counts": counts,
        "media_files": sum(1 for name in files if name.startswith("media/")),
        "software": __version__,
    }
    rpath = report_path(dest)
    with open(rpath, "w") as fh:
        json.dump(report, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    _private(rpath)
    return BackupInfo(
        dest,
        str(manifest["created_at"]),
        version,
        str(manifest["key_id"]),
        len(files),
        total,
        size,
        True,
        sealed_key is not None,
        rpath,
        counts,
    )


def verify_archive(path: Path, key: bytes) -> dict[str, Any]:
    """Read the whole archive back and check it against its manifest (and its MAC).

    Raises:
        CorruptStoreError: a file is missing, extra, or differs; the MAC is wrong.
        StoreError: not a readable ClinicBox backup.
    """
    digests: dict[str, str] = {}
    blob = mac = b""
    try:
        with tarfile.open(path, "r") as tar:
            for member in tar:
                fh = tar.extractfile(member)
                if fh is None:
                    raise CorruptStoreError(f"backup member {member.name!r} is not a regular file")
                if member.name in ("manifest.json", MAC_MEMBER):
                    data = fh.read(MAX_MANIFEST)
                    blob, mac = (data, mac) if member.name == "manifest.json" else (blob, data)
                    continue
                h = hashlib.sha256()
                for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023 (consumed at once)
                    h.update(block)
                digests[member.name] = h.hexdigest()
    except (tarfile.TarError, OSError) as exc:
        raise StoreError(f"cannot read the backup {path}: {exc}") from exc
    try:
        manifest = json.loads(blob)
    except ValueError as exc:
        raise CorruptStoreError(f"the backup {path.name} has no readable manifest") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError("this is not a ClinicBox backup (no manifest)")
    if not hmac.compare_digest(mac.decode(errors="replace"), manifest_mac(key, blob)):
        raise CorruptStoreError(f"the backup {path.name} was altered or damaged (its manifest does not check out)")
    if manifest.get("files") != digests:
        raise CorruptStoreError(f"the backup {path.name} is damaged: its files differ from its manifest")
    return manifest


def _safe_extract(tar: tarfile.TarFile, target: Path) -> dict[str, Any]:
    """Extract regular files only, with no absolute paths or '..'."""
    manifest: dict[str, Any] | None = None
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


def sealed_key_in(path: Path) -> dict[str, Any] | None:
    """The store key sealed under the backup passphrase, if the backup carries one."""
    try:
        with tarfile.open(path, "r") as tar:
            try:
                member = tar.getmember(KEY_MEMBER)
            except KeyError:
                return None
            fh = tar.extractfile(member)
            data = json.loads(fh.read(1 << 16)) if fh is not None else None
    except (tarfile.TarError, json.JSONDecodeError, OSError) as exc:
        raise StoreError(f"{path} is not a readable ClinicBox backup ({exc})") from exc
    return data if isinstance(data, dict) else None


def _restore_key(src: Path, key_path: Path, passphrase: str | None) -> tuple[bytes, bool]:
    """(the key to restore with, whether it comes from the backup)."""
    if passphrase is not None:
        sealed = sealed_key_in(src)
        if sealed is None:
            raise StoreError(
                "this backup carries no sealed key (it was made before a backup passphrase was set): "
                "restore it with the key file of the box that made it, without a passphrase"
            )
        return backup_key.open_sealed(sealed, passphrase), True
    kf = keymod.read_key_file(keymod.resolve_key_path(Path(key_path)))
    if kf.locked:
        raise StoreError(
            "unlock the key first (restore does not take a passphrase-wrapped key; unwrap it with "
            "`clinicbox db passphrase remove`), or restore with the backup passphrase"
        )
    return kf.key or b"", False


def _check_staged(staging: Path, manifest: dict[str, Any], key: bytes, key_path: Path, from_backup: bool) -> None:
    if manifest.get("key_id") != keymod.key_id(key):
        hint = "give the backup passphrase it was made with" if manifest.get("key_sealed") else ""
        raise WrongKeyError(
            f"the backup was made with key {manifest.get('key_id')}, but "
            + (f"{key_path} holds key {keymod.key_id(key)}" if not from_backup else "its sealed key differs")
            + f": {hint or 'copy the original box' + chr(39) + 's key file here first'}; nothing was restored"
        )
    if int(str(manifest.get("version", 1))) >= 2:
        mac = (staging / MAC_MEMBER).read_bytes().decode(errors="replace") if (staging / MAC_MEMBER).exists() else ""
        if not hmac.compare_digest(mac, manifest_mac(key, (staging / "manifest.json").read_bytes())):
            raise CorruptStoreError(
                "the backup was altered or damaged (its manifest does not check out); nothing was restored"
            )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise CorruptStoreError("the backup's manifest lists no files; nothing was restored")
    for name, digest in files.items():
        path = staging / name
        if not path.is_file() or _sha256(path) != digest:
            raise CorruptStoreError(f"backup file {name} is missing or damaged; nothing was restored")
    check = Store(staging / "clinicbox.db", key_path, media_dir=staging / "media")
    check._key = key
    conn = check._new_connection()
    try:
        check._probe(conn, key_checked=True)
        check_schema_version(conn)
        bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if bad or ok != "ok":
            raise CorruptStoreError("the database in the backup fails its integrity check; nothing was restored")
    finally:
        conn.close()


def _give_to_owner(state_dir: Path, paths: list[Path]) -> None:
    """Run as root (``db restore``, the setup helper): the restored files belong to the state folder's owner."""
    if os.geteuid() != 0:
        return
    st = state_dir.stat()
    for top in paths:
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            if path.exists() and not path.is_symlink():
                os.chown(path, st.st_uid, st.st_gid)


def restore(
    src: Path, db_path: Path, key_path: Path, media_dir: Path, state_dir: Path, passphrase: str | None = None
) -> BackupInfo:
    """Restore a backup over the store at ``db_path`` (services must be stopped).

    Without ``passphrase`` the key file at ``key_path`` must be the one the
    backup was made with. With it (a fresh or replacement box), the key
    comes from the backup, sealed under the backup passphrase, and replaces
    the key file once everything checked out (the previous key file is kept
    beside it as ``*.before-restore-<time>``).

    Raises:
        StoreError: the services run, the file is not a valid backup, the
            key or the passphrase does not match, or the restored database
            fails its checks. In every case the current database and key
            file are left as they were.
    """
    src = Path(src)
    key_path = Path(key_path)
    key, from_backup = _restore_key(src, key_path, passphrase)
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with StoreLock(state_dir) as lock:
        lock.acquire_exclusive()
        staging = Path(tempfile.mkdtemp(dir=db_path.parent, prefix=".restore-"))
        try:
            try:
                with tarfile.open(src, "r") as tar:
                    manifest = _safe_extract(tar, staging)
            except (tarfile.TarError, OSError) as exc:
                raise StoreError(f"cannot read the backup {src}: {exc}") from exc
            _check_staged(staging, manifest, key, key_path, from_backup)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            old_key = key_path.read_bytes() if key_path.exists() else None
            if from_backup and (old_key is None or keymod.read_key_file(key_path, check_mode=False).key != key):
                if old_key is not None:
                    aside = key_path.with_name(f"{key_path.name}.before-restore-{stamp}")
                    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(old_key)
                keymod.write_key_file(key_path, key, replace=True)
            if db_path.exists():
                os.replace(db_path, db_path.with_name(f"{db_path.name}.before-restore-{stamp}"))
            for suffix in ("-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            os.replace(staging / "clinicbox.db", db_path)
            os.chmod(db_path, 0o600)
            if (staging / "media").exists():
                if media_dir.exists():
                    os.replace(media_dir, media_dir.with_name(f"{media_dir.name}.before-restore-{stamp}"))
                os.replace(staging / "media", media_dir)
            db_path.with_name(db_path.name + ".keyid").write_text(keymod.key_id(key) + "\n")
            _give_to_owner(Path(state_dir), [db_path, db_path.with_name(db_path.name + ".keyid"), media_dir])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    files = manifest.get("files")
    counts = manifest.get("counts")
    return BackupInfo(
        src,
        str(manifest["created_at"]),
        int(str(manifest["schema_version"])),
        keymod.key_id(key),
        len(files) if isinstance(files, dict) else 0,
        0,
        key_sealed=from_backup,
        counts={str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else None,
    )


def prune(backup_dir: Path, keep: int) -> list[Path]:
    """Keep the newest ``keep`` backups in ``backup_dir``; return what was removed."""
    found = sorted(backup_dir.glob("clinicbox-*.tar"), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = found[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
        report_path(path).unlink(missing_ok=True)
    return removed
