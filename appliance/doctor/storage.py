"""Doctor checks of the encrypted store: key file, opening, integrity, audit, backups."""

from __future__ import annotations

import stat
import time

from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.store import Store
from appliance.store.audit import AuditLog
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
    found = sorted(ctx.cfg.backup_dir.glob("clinicbox-*.tar"), key=lambda p: p.stat().st_mtime)
    if not found:
        return warn(
            "backups",
            f"no backup in {ctx.cfg.backup_dir} yet",
            "run: clinicbox db backup --to " + str(ctx.cfg.backup_dir),
        )
    age_h = (time.time() - found[-1].stat().st_mtime) / 3600
    if age_h > 48:
        return warn(
            "backups",
            f"last backup is {age_h:.0f} h old ({found[-1].name})",
            "check clinicbox-backup.timer",
        )
    return ok("backups", f"last backup {age_h:.1f} h ago ({found[-1].name}), {len(found)} kept")
