"""``clinicbox db``: create, verify, back up, restore and re-key the store.

``db backup`` and ``db retention`` (the nightly ``clinicbox-backup.service``)
go to the running core when there is one (``store.backup`` /
``store.retention`` on the control socket): it holds the unlocked key, which
in passphrase mode nothing else has. With no core running they open the
store themselves. Either way the outcome lands in the status file the
doctor reads (:mod:`appliance.store.backup_job`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from appliance.cli import context
from appliance.config import Config
from appliance.control.client import CommandRefused, ControlClient
from appliance.errors import ControlError, StoreError, StoreLockedError, ValidationError
from appliance.store import Store, backup, backup_key, backup_list, maintenance, sticks
from appliance.store.backup_job import record_failure, run_backup, run_retention, set_backup_passphrase
from appliance.store.keys import key_id, read_key_file, resolve_key_path

#: How long the core may take over a backup or a retention run (a big media folder on an SD card).
JOB_TIMEOUT_S = 3600.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    db = sub.add_parser("db", help="the encrypted store: init, verify, backup, restore, rekey, passphrase")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    p = dsub.add_parser("init", help="create an empty encrypted store and its key file")
    p.add_argument("--passphrase", action="store_true", help="wrap the key with a manager passphrase")
    p.set_defaults(func=cmd_init)

    p = dsub.add_parser("verify", help="check every page's HMAC, the structure and foreign keys")
    p.set_defaults(func=cmd_verify)

    p = dsub.add_parser("info", help="where the store is, its key id and schema version")
    p.set_defaults(func=cmd_info)

    p = dsub.add_parser("backup", help="online, consistent, encrypted, verified backup to a .tar file")
    p.add_argument(
        "--to",
        required=True,
        metavar="PATH|usb",
        help="the box's backup folder (or a .tar in it), or usb: the backup stick that is plugged in",
    )
    p.add_argument("--if-present", action="store_true", help="with --to usb: no stick plugged in is not an error")
    p.set_defaults(func=cmd_backup)

    p = dsub.add_parser("backup-passphrase", help="set the passphrase that restores a backup on a new box")
    p.set_defaults(func=cmd_backup_passphrase)

    p = dsub.add_parser("retention", help="delete what is past [retention] (recordings, voicemail, calls, audit)")
    p.set_defaults(func=cmd_retention)

    p = dsub.add_parser("restore", help="restore a backup (stop the services first)")
    p.add_argument(
        "backup",
        metavar="FILE|STICK|usb",
        help="a backup .tar, a stick's folder (its newest verified backup), or usb: the stick plugged in",
    )
    p.set_defaults(func=cmd_restore)

    p = dsub.add_parser("rekey", help="re-encrypt the store under a new random key")
    p.set_defaults(func=cmd_rekey)

    p = dsub.add_parser("passphrase", help="protect the key with a passphrase, or remove it")
    p.add_argument("action", choices=("set", "remove"))
    p.set_defaults(func=cmd_passphrase)


def _ask_new_passphrase() -> str:
    env = os.environ.get("CLINICBOX_NEW_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise ValidationError("set CLINICBOX_NEW_PASSPHRASE or run from a terminal to choose a passphrase")
    first = getpass.getpass("New passphrase (10+ characters): ")
    if first != getpass.getpass("Repeat it: "):
        raise ValidationError("the passphrases differ")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    passphrase = _ask_new_passphrase() if args.passphrase else None
    store = Store.create(cfg.db_path, cfg.paths.key_file, passphrase=passphrase, media_dir=cfg.media_dir)
    print(f"created {cfg.db_path} (key {key_id(store.key)} in {store.key_path})")
    print("Keep a copy of the key file somewhere safe: without it no backup can be restored.")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg)
    result = maintenance.verify(store)
    print("\n".join(result.lines))
    return 0 if result.ok else 1


def cmd_info(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg, unlock=False)
    print(f"database:  {store.db_path}")
    print(f"key file:  {store.key_path}")
    if store.locked:
        print("state:     locked (passphrase needed)")
        return 0
    row = store.query_one("PRAGMA user_version")
    print(f"key id:    {key_id(store.key)}")
    print(f"schema:    {row[0] if row else '?'}")
    print(f"patients:  {store.query_one('SELECT count(*) FROM patients')[0]}")  # type: ignore[index]
    return 0


def running_core(cfg: Config) -> ControlClient | None:
    """A client for the running core, or ``None`` when no core answers on the control socket."""
    if not cfg.control_socket.exists():
        return None
    try:
        ControlClient(cfg.control_socket, timeout=3.0).call("ping")
    except ControlError:
        return None
    return ControlClient(cfg.control_socket, timeout=JOB_TIMEOUT_S)


def _core_job(client: ControlClient, cmd: str, **args: Any) -> Any:
    """Run ``cmd`` in the core; ``None`` when this core is too old to know it."""
    try:
        return client.call(cmd, **args)
    except CommandRefused as exc:
        if exc.code == "unknown-command":
            return None
        raise StoreError(str(exc)) from None


def _open_for(cfg: Config, job: str) -> Store:
    """Open the store in this process for ``job``; a failure is recorded for the doctor."""
    try:
        return context.open_store(cfg)
    except StoreLockedError as exc:
        record_failure(cfg.paths.state_dir, job, exc, "cli", "no-core")
        raise StoreLockedError(
            f"the store is passphrase-protected and the core is not running, so no {job} was made: "
            "start the core and unlock the store in the web UI (or set CLINICBOX_PASSPHRASE)"
        ) from None
    except (StoreError, OSError) as exc:
        record_failure(cfg.paths.state_dir, job, exc, "cli")
        raise


def cmd_backup(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    to = str(args.to)
    dest: Path | str = sticks.USB if to == sticks.USB else Path(to).absolute()
    result = None
    client = running_core(cfg)
    if client is not None:
        extra: dict[str, Any] = {"if_present": True} if args.if_present else {}
        if dest != sticks.USB and Path(dest).resolve() == cfg.backup_dir.resolve():
            result = _core_job(client, "store.backup", **extra)
        else:
            result = _core_job(client, "store.backup", to=str(dest), **extra)
    if result is None:
        if args.if_present and dest == sticks.USB and not sticks.sticks(cfg):
            result = {"skipped": "no USB backup stick is plugged in"}
        else:
            result = run_backup(cfg, _open_for(cfg, "backup"), dest, by="cli", if_present=args.if_present)
    if "skipped" in result:
        print(f"no backup made: {result['skipped']}")
        return 0
    where = "on the USB stick" if result.get("where") == sticks.STICK else "on the SD card"
    print(
        f"backup written: {result['path']} ({result['files']} files, key {result['key_id']},"
        f" schema {result['schema_version']}) {where}, {result.get('size', 0)} bytes,"
        f" {'verified after writing' if result.get('verified') else 'NOT verified'}"
    )
    if result.get("report"):
        print(f"report: {result['report']}")
    if not result.get("key_sealed"):
        print("note: no backup passphrase is set; this backup restores only with this box's key file")
    for name in result["removed"]:
        print(f"removed old backup {name} (store.backup_keep = {result['keep']})")
    return 0


def _ask_backup_passphrase(prompt: str, env: str, repeat: bool) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise ValidationError(f"set {env} or run from a terminal to give the backup passphrase")
    first = getpass.getpass(prompt)
    if repeat and first != getpass.getpass("Repeat it: "):
        raise ValidationError("the passphrases differ")
    return first


def cmd_backup_passphrase(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    passphrase = _ask_backup_passphrase(
        f"New backup passphrase ({backup_key.MIN_PASSPHRASE}+ characters): ", "CLINICBOX_NEW_BACKUP_PASSPHRASE", True
    )
    problem = backup_key.passphrase_problem(passphrase)
    if problem:
        raise ValidationError(problem)
    client = running_core(cfg)
    result = _core_job(client, "store.backup_passphrase", passphrase=passphrase) if client is not None else None
    if result is None:
        set_backup_passphrase(cfg, context.open_store(cfg), passphrase)
    print(
        "backup passphrase set: backups made from now on restore on a new box with it (keep it safe, apart from the box)"
    )
    return 0


def restore_source(cfg: Config, given: str) -> Path:
    """The backup file meant by ``given``: a .tar, a stick (its newest verified backup) or ``usb``.

    Raises:
        ValidationError: no such file, or a stick folder without a verified backup.
    """
    folder: Path | None = None
    if given == sticks.USB:
        folder = sticks.the_stick(cfg).folder
    else:
        path = Path(given)
        if path.is_dir():
            folder = path / sticks.MARKER if (path / sticks.MARKER).is_dir() else path
        elif not path.is_file():
            raise ValidationError(f"{given}: no such backup file or stick")
        else:
            return path
    newest = backup_list.newest_on(folder)
    if newest is None:
        raise ValidationError(f"{folder} holds no verified ClinicBox backup (clinicbox-*.tar with its report)")
    return newest


def _local_key_id(cfg: Config) -> str | None:
    try:
        kf = read_key_file(resolve_key_path(cfg.paths.key_file))
    except StoreError:
        return None
    return key_id(kf.key) if kf.key is not None else None


def cmd_retention(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    client = running_core(cfg)
    result = _core_job(client, "store.retention", actor=context.actor()) if client is not None else None
    if result is not None:
        print(result["report"])
    else:
        print(run_retention(cfg, _open_for(cfg, "retention"), context.actor(), by="cli"))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    maintenance.recover_interrupted_rekey(cfg.db_path, cfg.paths.key_file)
    src = restore_source(cfg, str(args.backup))
    manifest = backup.inspect(src)
    passphrase = None
    key_path = resolve_key_path(cfg.paths.key_file)
    was_wrapped = key_path.exists() and '"wrapped"' in key_path.read_text(errors="replace")
    if manifest.get("key_sealed") and manifest.get("key_id") != _local_key_id(cfg):
        # Another box's backup (or a fresh box): its key comes sealed under the backup passphrase.
        passphrase = _ask_backup_passphrase("Backup passphrase: ", "CLINICBOX_BACKUP_PASSPHRASE", False)
    info = backup.restore(src, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir, passphrase)
    counts = info.counts or {}
    what = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items())
    print(
        f"restored the backup of {info.created_at} from {src} (schema {info.schema_version}"
        + (f"; {what}" if what else "")
        + "); the previous database was kept beside it"
    )
    if info.key_sealed:
        print(f"the store key came from the backup (key {info.key_id}), written to {cfg.paths.key_file}")
        if was_wrapped:
            print("the key file is no longer passphrase-protected: set it again with `clinicbox db passphrase set`")
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg)
    wrapped = store.key_path.read_text().find('"wrapped"') >= 0
    passphrase = os.environ.get("CLINICBOX_PASSPHRASE") if wrapped else None
    new_id = maintenance.rekey(store, cfg.paths.state_dir, passphrase)
    print(f"re-keyed: the store now uses key {new_id}. Back up the new key file now; old backups need the old key.")
    return 0


def cmd_passphrase(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg)
    if args.action == "set":
        maintenance.set_passphrase(store, _ask_new_passphrase())
        print("the key is now passphrase-protected: after a reboot a manager unlocks the store in the web UI")
    else:
        maintenance.set_passphrase(store, None)
        print("the passphrase was removed: the store opens by itself at boot")
    return 0
