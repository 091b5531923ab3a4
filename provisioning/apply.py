"""Carrying out a checked :class:`~provisioning.plan.Plan`, so that a failure changes nothing.

Order matters:

1. restore a backup *or* import patients, then create the first manager:
   each is all-or-nothing on its own (the restore checks the backup before
   it swaps the database, the import and the manager are one transaction
   each), and they are the first changes made;
2. write every new file beside its target (``.name.provision-new``),
   fsync it, give it its owner and mode: nothing visible has changed yet;
3. swap them in with ``rename`` (the old config and secrets are kept as
   ``*.before-provision``);
4. restart only the units that read what changed. If one fails to start,
   the previous files are put back and the units restarted on them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from appliance.clock import Clock
from appliance.config import Config
from appliance.errors import ClinicBoxError, ProvisioningError
from appliance.fsutil import fsync_dir
from appliance.store import Store
from appliance.store import backup as backups
from appliance.store import keys as keymod
from appliance.store.repos import make_repos
from provisioning.manager import create_manager
from provisioning.plan import CORE, WEB, Action, Plan
from provisioning.services import ServiceManager

log = logging.getLogger(__name__)


@dataclass
class Applied:
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _owner_of(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_uid, st.st_gid


def _chown(path: Path, owner: tuple[int, int] | None) -> None:
    """Give ``path`` to the service user (only root can, and only root needs to)."""
    if owner is None or os.geteuid() != 0:
        return
    st = path.lstat()
    if (st.st_uid, st.st_gid) != owner:
        os.chown(path, *owner, follow_symlinks=False)


def _chown_tree(path: Path, owner: tuple[int, int] | None) -> None:
    if not path.exists():
        return
    _chown(path, owner)
    if path.is_dir():
        for sub in path.rglob("*"):
            _chown(sub, owner)


@dataclass
class _Staged:
    tmp: Path
    target: Path
    keep: bool  # keep the old file as *.before-provision
    backup: Path | None = None
    swapped: bool = False


class _Swapper:
    """New files beside their targets, swapped in together, put back on failure."""

    def __init__(self) -> None:
        self.items: list[_Staged] = []

    def stage(self, target: Path, data: bytes, mode: int, owner: tuple[int, int] | None, keep: bool) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            st = target.stat()
            mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
        tmp = target.with_name(f".{target.name}.provision-new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        _chown(tmp, owner)
        self.items.append(_Staged(tmp, target, keep))

    def swap(self) -> None:
        for item in self.items:
            if item.target.exists():
                name = f"{item.target.name}.before-provision" if item.keep else f".{item.target.name}.provision-old"
                item.backup = item.target.with_name(name)
                item.backup.unlink(missing_ok=True)
                os.link(item.target, item.backup)
            os.replace(item.tmp, item.target)
            item.swapped = True
        for directory in {item.target.parent for item in self.items}:
            fsync_dir(directory)

    def rollback(self) -> None:
        for item in reversed(self.items):
            if item.swapped:
                if item.backup is not None:
                    os.replace(item.backup, item.target)
                else:
                    item.target.unlink(missing_ok=True)
            item.tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        for item in self.items:
            if item.backup is not None and not item.keep:
                item.backup.unlink(missing_ok=True)


def _restore(plan: Plan, services: ServiceManager, applied: Applied) -> None:
    assert plan.restore is not None
    cfg = plan.new_cfg
    backup, bundle_key = plan.restore
    kf = keymod.read_key_file(bundle_key, check_mode=False)
    assert kf.key is not None
    key_path = cfg.paths.key_file
    previous = key_path.read_bytes() if key_path.exists() else None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    services.run("stop", [CORE, WEB])
    applied.actions.append(f"stop {CORE} {WEB}")
    try:
        same = previous is not None and keymod.read_key_file(key_path, check_mode=False).key == kf.key
        if not same:
            if previous is not None:
                aside = key_path.with_name(f"{key_path.name}.before-restore-{stamp}")
                fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(previous)
                applied.changes.append(f"the previous store key was kept as {aside}")
            keymod.write_key_file(key_path, kf.key, replace=True)
        backups.restore(backup, cfg.db_path, key_path, cfg.media_dir, cfg.paths.state_dir)
    except ClinicBoxError as exc:
        if previous is not None:
            _put_back(key_path, previous)
        elif key_path.exists():
            key_path.unlink()
        services.run("start", [CORE, WEB])
        raise ProvisioningError(f"the backup was not restored ({exc}); nothing was changed") from exc
    owner = _owner_of(cfg.paths.state_dir)
    for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm"), cfg.media_dir):
        _chown_tree(path, owner)
    _chown(cfg.db_path.with_name(cfg.db_path.name + ".keyid"), owner)


def _put_back(key_path: Path, data: bytes) -> None:
    tmp = key_path.with_name(key_path.name + ".restore-back")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, key_path)


def _import_patients(plan: Plan, clock: Clock, actor: str, applied: Applied) -> None:
    assert plan.patients_csv is not None
    cfg = plan.new_cfg
    created = not cfg.db_path.exists()
    key_created = created and not cfg.paths.key_file.exists()
    try:
        if created:
            store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
        else:
            store = Store.open(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    except ClinicBoxError as exc:
        raise ProvisioningError(f"the patient store cannot be opened ({exc}); nothing was changed") from exc
    try:
        if store.locked:
            raise ProvisioningError(
                "the patient store is passphrase-locked: a manager unlocks it in the web UI first; nothing was changed"
            )
        report = make_repos(cfg, store).importer.patients(plan.patients_csv.read_bytes(), actor)
    except ClinicBoxError as exc:
        store.close()
        if created:
            for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm")):
                path.unlink(missing_ok=True)
            cfg.db_path.with_name(cfg.db_path.name + ".keyid").unlink(missing_ok=True)
            if key_created:
                cfg.paths.key_file.unlink(missing_ok=True)
        if isinstance(exc, ProvisioningError):
            raise
        raise ProvisioningError(f"the patient CSV was not imported; nothing was changed:\n{exc}") from exc
    store.close()
    # Root wrote them: the WAL and shared-memory files must stay the service user's.
    owner = _owner_of(cfg.paths.state_dir)
    for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm")):
        _chown_tree(path, owner)
    if created:
        _chown(cfg.db_path.with_name(cfg.db_path.name + ".keyid"), owner)
        applied.changes.append(f"created the encrypted store {cfg.db_path}")
    applied.changes.append(f"imported {report.summary()}")


def _run_actions(actions: list[Action], services: ServiceManager, applied: Applied | None) -> None:
    for action in actions:
        services.run(action.verb, [action.unit])
        if applied is not None:
            applied.actions.append(f"{action.verb} {action.unit}")


def apply_plan(plan: Plan, services: ServiceManager, clock: Clock, actor: str = "provisioning") -> Applied:
    """Make the changes of ``plan``.

    Raises:
        ProvisioningError: a step failed; what was already done is undone
            where it can be (the message says what, if anything, remains).
    """
    applied = Applied(warnings=list(plan.warnings))
    if plan.restore is not None:
        _restore(plan, services, applied)
    if plan.patients_csv is not None:
        _import_patients(plan, clock, actor, applied)
    if plan.manager is not None:
        applied.changes.append(create_manager(plan.new_cfg, plan.manager, actor))
        give_back_store(plan.new_cfg)
    committed = applied.changes[:] if (plan.restore or plan.patients_csv or plan.manager) else []

    cfg: Config = plan.new_cfg
    state_owner = _owner_of(cfg.paths.state_dir)
    swapper = _Swapper()
    try:
        if plan.config_text is not None:
            swapper.stage(plan.config_path, plan.config_text.encode("utf-8"), 0o644, None, keep=True)
        if plan.secrets_text is not None and plan.secrets_path is not None:
            swapper.stage(plan.secrets_path, plan.secrets_text.encode("utf-8"), 0o600, state_owner, keep=True)
        if plan.tls is not None:
            cert_dest, key_dest = plan.tls_dest
            swapper.stage(cert_dest, plan.tls[0].read_bytes(), 0o644, None, keep=False)
            swapper.stage(key_dest, plan.tls[1].read_bytes(), 0o600, None, keep=False)
        for src, dest in plan.prompts:
            swapper.stage(dest, src.read_bytes(), 0o644, state_owner, keep=False)
        swapper.swap()
    except OSError as exc:
        swapper.rollback()
        if plan.restore is not None:
            services.run("start", [CORE, WEB])
        done = f" (already done: {'; '.join(committed)})" if committed else ""
        raise ProvisioningError(f"writing the new files failed ({exc}); the previous files were kept{done}") from exc

    try:
        _run_actions(plan.actions, services, applied)
    except ProvisioningError as exc:
        swapper.rollback()
        try:
            _run_actions(plan.actions, services, None)
        except ProvisioningError:
            log.exception("restarting on the previous configuration failed too")
        done = f" (already done: {'; '.join(committed)})" if committed else ""
        raise ProvisioningError(
            f"{exc}; the previous configuration, certificate and prompts were put back{done}"
        ) from exc
    swapper.commit()
    state_dir = cfg.paths.state_dir
    for folder in {d.parent for _, d in plan.prompts}:
        while folder != state_dir and state_dir in folder.parents:
            _chown(folder, state_owner)
            folder = folder.parent
    applied.changes.extend(plan.changes)
    return applied


def give_back_store(cfg: Config) -> None:
    """Hand the database files back to the service user.

    Anything root opens (an import, the doctor's store check in the report)
    may create the WAL and shared-memory files as root, which the core,
    running as ``clinicbox``, could then not open.
    """
    owner = _owner_of(cfg.paths.state_dir)
    for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm"), cfg.media_dir):
        _chown_tree(path, owner)
    keyid = cfg.db_path.with_name(cfg.db_path.name + ".keyid")
    if keyid.exists():
        _chown(keyid, owner)


def remove_staging(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
