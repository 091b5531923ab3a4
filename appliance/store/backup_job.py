"""The nightly backup and retention jobs, and the record of how each run went.

Both jobs run in whichever process holds the unlocked store key: the core
(control commands ``store.backup`` and ``store.retention``, which is the
only way in passphrase mode) or, when no core is running, the ``clinicbox``
command itself. Either way every attempt is recorded in
``<state_dir>/backup-status.json``: when, ok or failed, why (a short
``cause`` the doctor turns into a sentence), and the file written. The
file is owned here; :mod:`appliance.doctor.storage` only reads it.

Example of the file::

    {"backup": {"at": "2026-12-06T01:00:03+00:00", "ok": false, "cause": "locked",
                "detail": "...", "file": "", "by": "core"},
     "backup_ok": {...}, "retention": {...}, "retention_ok": {...}}
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.errors import CorruptStoreError, StoreError, StoreLockedError, ValidationError
from appliance.store import backup as backupmod
from appliance.store import backup_key, sticks
from appliance.store.connection import Store
from appliance.store.keys import key_id

log = logging.getLogger(__name__)

STATUS_NAME = "backup-status.json"
JOBS = ("backup", "retention", "stick")

#: Why a run failed: the doctor's sentence for each (see :func:`cause_text`).
CAUSES = {
    "locked": "the store was locked (passphrase not entered since the restart)",
    "no-core": "the store is passphrase-protected and the core was not running to do it",
    "disk-full": "the backup disk is full",
    "permission": "the backup folder is not writable",
    "stick-full": "the USB stick is full",
    "read-only": "the USB stick is read-only (write-protect switch, or a damaged filesystem)",
    "no-passphrase": "no backup passphrase is set (a stick backup must be restorable on a new box)",
    "corrupt": "the backup read back from the disk did not match what was written",
    "file-too-big": "the stick's FAT filesystem cannot hold a file over 4 GB (reformat it as exFAT or ext4)",
    "busy": "another backup was still running",
    "error": "it failed",
}

LOCKED_MESSAGE = (
    "the store is locked: the passphrase has not been entered since the core started; "
    "a manager unlocks it in the web UI (Unlock page), then the backup can run"
)


@dataclass(frozen=True)
class Attempt:
    """One run of a job."""

    at: datetime
    ok: bool
    cause: str = ""
    detail: str = ""
    file: str = ""
    by: str = ""
    where: str = ""  # "sd" or "stick" (empty in files written before sticks)
    verified: bool = False
    size: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.astimezone(UTC).isoformat(timespec="seconds")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        at = datetime.fromisoformat(str(data["at"]))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return cls(
            at=at,
            ok=bool(data.get("ok")),
            cause=str(data.get("cause", "")),
            detail=str(data.get("detail", "")),
            file=str(data.get("file", "")),
            by=str(data.get("by", "")),
            where=str(data.get("where", "")),
            verified=bool(data.get("verified")),
            size=int(data.get("size") or 0),
        )


@dataclass(frozen=True)
class JobStatus:
    """The last attempt of each job and its last success (``None``: never)."""

    backup: Attempt | None = None
    backup_ok: Attempt | None = None
    retention: Attempt | None = None
    retention_ok: Attempt | None = None
    stick: Attempt | None = None
    stick_ok: Attempt | None = None


def status_path(state_dir: Path) -> Path:
    return Path(state_dir) / STATUS_NAME


def cause_text(cause: str) -> str:
    return CAUSES.get(cause, CAUSES["error"])


def classify(exc: BaseException, where: str = "sd") -> str:
    """The ``cause`` of a failed run (``where``: the backup folder or a stick)."""
    if isinstance(exc, StoreLockedError):
        return "locked"
    if isinstance(exc, CorruptStoreError):
        return "corrupt"
    seen: BaseException | None = exc
    while seen is not None:  # an OSError may hide behind a StoreError
        if isinstance(seen, OSError):
            if seen.errno in (errno.ENOSPC, errno.EDQUOT):
                return "stick-full" if where == "stick" else "disk-full"
            if seen.errno == errno.EROFS and where == "stick":
                return "read-only"
            if seen.errno == errno.EFBIG:
                return "file-too-big"
            if seen.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return "permission"
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    if "database or disk is full" in text or "no space left" in text:
        return "stick-full" if where == "stick" else "disk-full"
    return "error"


def read_status(state_dir: Path) -> JobStatus:
    """What the status file says; an absent or damaged file is an empty status."""
    try:
        data = json.loads(status_path(state_dir).read_text())
        return JobStatus(**{k: Attempt.from_json(data[k]) for k in JobStatus.__dataclass_fields__ if data.get(k)})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("cannot read %s: %s", status_path(state_dir), exc)
        return JobStatus()


_write_lock = threading.Lock()


def record(state_dir: Path, job: str, attempt: Attempt) -> None:
    """Remember ``attempt`` as the last run of ``job`` (atomically).

    Never raises: a status file that cannot be written must not turn a good
    backup into a failed one; it is logged instead.
    """
    assert job in JOBS
    path = status_path(state_dir)
    with _write_lock:
        try:
            try:
                data = json.loads(path.read_text())
                if not isinstance(data, dict):
                    data = {}
            except (OSError, ValueError):
                data = {}
            data[job] = attempt.to_json()
            if attempt.ok:
                data[f"{job}_ok"] = attempt.to_json()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{STATUS_NAME}.")
            try:
                with os.fdopen(fd, "w") as fh:
                    json.dump(data, fh, indent=1)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o640)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("cannot record the %s outcome in %s: %s", job, path, exc)


def record_failure(
    state_dir: Path, job: str, exc: BaseException, by: str, cause: str | None = None, where: str = ""
) -> str:
    """Record a failed run of ``job``; return its cause."""
    cause = cause or classify(exc, where or "sd")
    record(state_dir, job, Attempt(datetime.now(UTC), False, cause, str(exc)[:500], "", by, where))
    return cause


_running = threading.Lock()

NO_PASSPHRASE = (
    "no backup passphrase is set, so a backup on a USB stick could not be restored on a new box: "
    "a manager sets one in the web UI (Settings › Backups) or with `clinicbox db backup-passphrase`"
)
STALE_PASSPHRASE = (
    "the backup passphrase was set for an earlier store key (the store was re-keyed since): "
    "a manager sets it again (Settings › Backups) before backups go to a USB stick"
)


def run_backup(
    cfg: Config, store: Store, dest: Path | str | None = None, by: str = "cli", if_present: bool = False
) -> dict[str, Any]:
    """Back up the store to ``dest`` and record the outcome.

    ``dest``: ``None`` (the box's backup folder), ``"usb"`` (the backup stick
    that is plugged in) or a path inside one of those (checked by
    :func:`appliance.store.sticks.resolve`). Each folder is pruned to
    ``store.backup_keep``. A backup to a stick needs the backup passphrase
    (the backup carries the store key sealed under it, never the raw key).

    Returns:
        ``path``, ``files``, ``key_id``, ``schema_version``, ``removed``,
        ``keep``, ``where``, ``verified``, ``size``, ``report``,
        ``key_sealed``: JSON-able, for the control socket. With
        ``if_present`` and no stick plugged in: ``{"skipped": reason}``.

    Raises:
        ValidationError: a destination that is not a place for backups.
        StoreLockedError: the store is passphrase-locked.
        StoreError: the backup failed (disk full, read-only, no backup
            passphrase, the read-back check failed); a backup already running.
    """
    if if_present and str(dest) == sticks.USB and not sticks.sticks(cfg):
        return {"skipped": "no USB backup stick is plugged in"}
    target = sticks.resolve(cfg, dest)
    job = "stick" if target.where == sticks.STICK else "backup"
    state_dir = cfg.paths.state_dir
    if not _running.acquire(blocking=False):
        exc = StoreError("a backup is already running; try again when it has finished")
        record_failure(state_dir, job, exc, by, "busy", target.where)
        raise exc
    try:
        if store.locked:
            locked = StoreLockedError(LOCKED_MESSAGE)
            record_failure(state_dir, job, locked, by, where=target.where)
            raise locked
        blob = backup_key.read(state_dir)
        sealed = blob if blob is not None and blob.get("key_id") == key_id(store.key) else None
        if sealed is None and target.where == sticks.STICK:
            stale = blob is not None
            refused = StoreError(STALE_PASSPHRASE if stale else NO_PASSPHRASE)
            record_failure(state_dir, job, refused, by, "no-passphrase", target.where)
            raise refused
        try:
            info = backupmod.backup(store, target.dest, sealed)
            removed = [p.name for p in backupmod.prune(target.folder, cfg.store.backup_keep)]
        except (StoreError, OSError) as exc:
            cause = record_failure(state_dir, job, exc, by, where=target.where)
            place = "the USB stick" if target.where == sticks.STICK else str(target.folder)
            raise StoreError(
                f"the backup to {place} failed: {cause_text(cause)} ({exc}); no backup file was kept"
            ) from exc
        record(
            state_dir,
            job,
            Attempt(
                datetime.now(UTC),
                True,
                "",
                f"{info.files} files, {info.bytes} bytes",
                str(info.path),
                by,
                target.where,
                info.verified,
                info.size,
            ),
        )
        log.info("backup written and verified: %s (%s)", info.path, target.where)
        return {
            "path": str(info.path),
            "files": info.files,
            "key_id": info.key_id,
            "schema_version": info.schema_version,
            "removed": removed,
            "keep": cfg.store.backup_keep,
            "where": target.where,
            "verified": info.verified,
            "size": info.size,
            "report": str(info.report or ""),
            "key_sealed": info.key_sealed,
            "counts": info.counts or {},
        }
    finally:
        _running.release()


def set_backup_passphrase(cfg: Config, store: Store, passphrase: str) -> dict[str, Any]:
    """Seal the unlocked store key under a new backup passphrase (the core does it).

    Raises:
        StoreLockedError: the store is locked.
        ValidationError: the passphrase is too short, too long or has control characters.
    """
    if store.locked:
        raise StoreLockedError(LOCKED_MESSAGE.replace("the backup can run", "the backup passphrase can be set"))
    problem = backup_key.passphrase_problem(passphrase)
    if problem:
        raise ValidationError(problem)
    backup_key.write(cfg.paths.state_dir, backup_key.seal(store.key, passphrase))
    log.info("backup passphrase set")
    return {"backup_passphrase": "set"}


def run_retention(cfg: Config, store: Store, actor: str, by: str = "cli") -> str:
    """Apply ``[retention]`` and record the outcome; return the report's sentence.

    Raises:
        StoreLockedError: the store is passphrase-locked.
        StoreError: the retention run failed.
    """
    from appliance.store.retention import apply_retention

    if store.locked:
        locked = StoreLockedError(LOCKED_MESSAGE.replace("the backup", "retention"))
        record_failure(cfg.paths.state_dir, "retention", locked, by)
        raise locked
    try:
        report = str(apply_retention(cfg, store, store.clock.now(), actor=actor))
    except (StoreError, OSError) as exc:
        record_failure(cfg.paths.state_dir, "retention", exc, by)
        raise
    record(cfg.paths.state_dir, "retention", Attempt(datetime.now(UTC), True, "", report, "", by))
    return report
