"""Doctor checks of the encrypted store: key file, opening, integrity, audit, backups.

The backups check reads the job status file (:mod:`appliance.store.backup_job`)
to name why a backup was missed, not just that it was."""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.store import Store
from appliance.store.audit import AuditLog
from appliance.store.backup_job import Attempt, JobStatus, cause_text, read_status
from appliance.store.backup_list import listing
from appliance.store.keys import read_key_file, resolve_key_path
from appliance.store.maintenance import verify


def open_store(ctx: Context) -> Store:
    """The store, opened once per doctor run and shared by every check."""

    def make() -> Store:
        cfg = ctx.cfg
        return Store.open(
            cfg.db_path,
            cfg.paths.key_file,
            busy_timeout_ms=cfg.store.busy_timeout_ms,
            media_dir=cfg.media_dir,
        )

    return ctx.memo("store", make)  # type: ignore[no-any-return]


@check("key file", order=20)
def key_file(ctx: Context) -> Result:
    path = resolve_key_path(ctx.cfg.paths.key_file)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return fail("key file", f"{path} is missing", "restore the key file from the technician's backup")
    kf = read_key_file(path)
    protection = "passphrase-protected" if kf.locked else "raw key"
    return ok("key file", f"{path} mode {mode:04o}, {protection}")


@check("store", order=21)
def store_opens(ctx: Context) -> Result:
    store = open_store(ctx)
    if store.locked:
        return warn(
            "store",
            "locked: waiting for a manager's passphrase",
            "a manager unlocks it in the web UI (Unlock page)",
        )
    result = verify(store)
    if not result.ok:
        bad = "; ".join(line.strip() for line in result.lines if line.startswith("FAIL"))
        return fail("store", bad, "restore the last backup: clinicbox db restore FILE")
    patients = store.query_one("SELECT count(*) FROM patients")
    return ok("store", f"{ctx.cfg.db_path} opens and verifies ({patients[0] if patients else 0} patients)")


@check("audit log", order=22)
def audit_chain(ctx: Context) -> Result:
    store = open_store(ctx)
    if store.locked:
        return warn("audit log", "store locked; not checked", "unlock the store first")
    report = AuditLog(store).verify()
    if not report.ok:
        return fail(
            "audit log",
            str(report),
            "someone altered the audit log: keep this box as evidence and call support",
        )
    return ok("audit log", str(report))


@check("backups", order=23)
def backups(ctx: Context) -> Result:
    found = listing(ctx.cfg.backup_dir)
    newest = None
    free = None
    if found:
        stat_ = found[0].path.stat()
        newest = Newest(
            found[0].path.name, datetime.fromtimestamp(stat_.st_mtime, UTC), stat_.st_size, found[0].verified
        )
        try:
            free = shutil.disk_usage(ctx.cfg.backup_dir).free
        except OSError:
            free = None
    status = read_status(ctx.cfg.paths.state_dir)
    now = datetime.now(UTC)
    verdict = backup_verdict(ctx.cfg, newest, len(found), status, now, free)
    return with_stick(verdict, status, now, ZoneInfo(ctx.cfg.clinic.timezone))


@dataclass(frozen=True)
class Newest:
    """The newest backup in the box's folder."""

    name: str
    at: datetime
    size: int
    verified: bool = False


#: What to do about a failed backup to a USB stick, by cause.
STICK_FIXES = {
    "stick-full": "remove old clinicbox-*.tar files from the stick's clinicbox-backup folder or use a larger stick, "
    "then press Back up now to USB stick (Settings › Backups)",
    "read-only": "slide the stick's write-protect switch off (or use another stick), plug it in again, "
    "then press Back up now to USB stick",
    "no-passphrase": "a manager sets the backup passphrase in Settings › Backups",
    "corrupt": "the stick may be failing: use another stick",
    "locked": "a manager unlocks the store in the web UI (Unlock page), then presses Back up now to USB stick",
}


def with_stick(result: Result, status: JobStatus, now: datetime, tz: ZoneInfo) -> Result:
    """Add the last backup to a USB stick (when there was one) to the verdict:
    when and verified, or why it failed (which turns an OK into a warning)."""
    last, good = status.stick, status.stick_ok
    if last is None:
        return result
    if not last.ok:
        sentence = _failure("backup to the USB stick", last, now, tz)
        if good is not None:
            sentence += f" (the last good one was {_when(good.at, now, tz)})"
        fix = STICK_FIXES.get(last.cause, "run clinicbox db backup --to usb and read its message")
        if result.status == "OK":
            return replace(result, status="WARN", detail=f"{result.detail}; but {sentence}", fix=fix)
        return replace(result, detail=f"{result.detail}; {sentence}", fix=f"{result.fix}; for the stick: {fix}")
    name = last.file.rsplit("/", 1)[-1]
    verified = "verified" if last.verified else "not verified"
    return replace(
        result, detail=f"{result.detail}; last backup to a USB stick {_when(last.at, now, tz)} ({name}), {verified}"
    )


#: What to do about each cause of a failed run (see appliance.store.backup_job.CAUSES).
FIXES = {
    "locked": "a manager unlocks the store in the web UI (Unlock page); then run: clinicbox db backup --to {dir}",
    "no-core": "start the core (systemctl start clinicbox-core), unlock the store in the web UI, "
    "then run: clinicbox db backup --to {dir}",
    "disk-full": "free space on the disk of {dir} (remove old backups or lower store.backup_keep), "
    "then run: clinicbox db backup --to {dir}",
    "permission": "{dir} must be writable by the clinicbox user (chown clinicbox: {dir})",
    "busy": "wait for the running backup to end (systemctl status clinicbox-backup.service)",
    "error": "run clinicbox db backup --to {dir} by hand and read its message",
}


def _when(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    if now - at < timedelta(hours=20):
        return f"at {local:%H:%M}"
    return f"on {local:%Y-%m-%d} at {local:%H:%M}"


def _failure(job: str, attempt: Attempt, now: datetime, tz: ZoneInfo) -> str:
    reason = cause_text(attempt.cause)
    if attempt.cause == "error" and attempt.detail:
        reason = attempt.detail
    return f"the last {job} failed {_when(attempt.at, now, tz)}: {reason}"


def backup_verdict(
    cfg: Config, newest: Newest | None, count: int, status: JobStatus, now: datetime, free: int | None = None
) -> Result:
    """The ``backups`` check from what is on disk and the job status file: names
    the real cause of a missed backup (store locked, disk full, timer not run)."""
    tz = ZoneInfo(cfg.clinic.timezone)
    folder = str(cfg.backup_dir)
    last = status.backup
    if last is not None and not last.ok and (newest is None or last.at > newest.at):
        since = (
            f"; the last good one is {(now - newest.at).total_seconds() / 3600:.0f} h old"
            if newest
            else "; there is no backup yet"
        )
        return warn(
            "backups",
            _failure("backup", last, now, tz) + since,
            FIXES.get(last.cause, FIXES["error"]).format(dir=folder),
        )
    if newest is None:
        return warn(
            "backups",
            f"no backup in {cfg.backup_dir} yet",
            "run: clinicbox db backup --to " + folder,
        )
    age_h = (now - newest.at).total_seconds() / 3600
    if age_h > 48:
        if last is None or now - last.at > timedelta(hours=26):
            since = f" (its last run was {_when(last.at, now, tz)})" if last else ""
            return warn(
                "backups",
                f"no backup for {age_h / 24:.0f} days: the timer has not run{since}",
                "check clinicbox-backup.timer (systemctl status clinicbox-backup.timer)",
            )
        return warn(
            "backups",
            f"last backup is {age_h:.0f} h old ({newest.name}); the last run wrote {last.file or 'elsewhere'}",
            f"check clinicbox-backup.timer: the nightly backup must go to {folder}",
        )
    if free is not None and free < newest.size:
        return warn(
            "backups",
            f"the backup disk is full: {free // 2**20} MB free, the last backup took {newest.size // 2**20} MB",
            FIXES["disk-full"].format(dir=folder),
        )
    if status.retention is not None and not status.retention.ok:
        return warn(
            "backups",
            _failure("retention run", status.retention, now, tz),
            FIXES.get(status.retention.cause, FIXES["error"])
            .replace("db backup --to {dir}", "db retention")
            .format(dir=folder),
        )
    verified = "verified" if newest.verified else "not verified"
    return ok("backups", f"last backup {age_h:.1f} h ago ({newest.name}) on the SD card, {verified}, {count} kept")
