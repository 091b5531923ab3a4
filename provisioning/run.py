"""One provisioning run, start to finish, and the technician's laptop commands.

:func:`provision` is what ``clinicbox provision apply`` (started by udev
through ``clinicbox-provision@.service``) runs on the box: status file and
events at the start, verify, plan, apply, status and events at the end,
report on the stick. :func:`check_bundle` and :func:`sign_bundle` are for
the technician's laptop.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.clock import Clock, SystemClock
from appliance.config import Config, load_config
from appliance.errors import ClinicBoxError, ConfigError, ProvisioningError
from appliance.events import EventKind, ProvisioningNotifier
from appliance.provision_status import RunStatus, write_status
from provisioning import backup_stick
from provisioning.apply import apply_plan, give_back_store, remove_staging
from provisioning.bundle import BUNDLE_DIR, SIG_NAME, manifest_of, read_bundle
from provisioning.device import Mounter, prepare
from provisioning.manager import report_setup_code
from provisioning.plan import check_structure, make_plan
from provisioning.report import box_serial, build_report, doctor_results, write_report
from provisioning.services import ServiceManager, service_manager_for
from provisioning.signing import (
    TrustedKeys,
    key_id,
    load_private_key,
    load_trusted_keys,
    sign_manifest,
)

log = logging.getLogger(__name__)

#: Told of the run's start and end (``provisioning.*`` kinds, with their payloads).
Announce = Callable[[EventKind, dict[str, Any]], None]


def _notifier(announce: Announce) -> ProvisioningNotifier:
    def emit(kind: EventKind, /, **data: Any) -> None:
        announce(kind, data)

    return ProvisioningNotifier(emit)


class NoBundleError(ProvisioningError):
    """The stick holds no ``clinicbox-provision`` folder: not a provisioning stick."""


class BackupStickMounted(NoBundleError):
    """Not a provisioning stick but a backup stick: it was mounted for backups."""


@dataclass
class Outcome:
    ok: bool
    reason: str
    run_id: str
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    report_path: Path | None = None


def find_bundle(source: Path) -> Path:
    """The bundle folder on a stick (``<stick>/clinicbox-provision``) or the folder itself."""
    source = Path(source)
    candidate = source / BUNDLE_DIR
    if candidate.is_dir() and not candidate.is_symlink():
        return candidate
    if source.name == BUNDLE_DIR and source.is_dir() and not source.is_symlink():
        return source
    raise NoBundleError(f"{source} holds no {BUNDLE_DIR}/ folder; not a provisioning stick")


def _box_config(config_path: Path) -> tuple[Config, Config | None]:
    """(config for keys and paths, the valid box config or None). A broken box still provisions."""
    try:
        cfg = load_config(config_path)
        return cfg, cfg
    except ConfigError as exc:
        log.warning("the box's configuration is invalid (%d problems); using the image defaults", len(exc.problems))
        return load_config(), None


def provision(
    source: Path,
    config_path: Path,
    *,
    services: ServiceManager | None = None,
    clock: Clock | None = None,
    serial: str | None = None,
    report_dir: Path | None = None,
    announce: Announce | None = None,
    before_report: Callable[[], None] | None = None,
) -> Outcome:
    """Verify and apply the bundle in ``source``; never raises for a bad bundle.

    ``before_report`` runs before the report is written into ``report_dir``
    (the stick is remounted read-write there).

    Raises:
        NoBundleError: ``source`` is not a provisioning stick (nothing is recorded).
    """
    clock = clock or SystemClock()
    bundle_root = find_bundle(source).resolve()
    cfg, _ = _box_config(Path(config_path))
    services = services or service_manager_for(cfg)
    serial = serial or box_serial()
    run_id = uuid.uuid4().hex[:12]
    started = clock.now()
    state_dir = cfg.paths.state_dir
    try:
        write_status(state_dir, RunStatus(run_id, "running", started.isoformat(), source=str(bundle_root)))
    except OSError as exc:
        raise ProvisioningError(
            f"cannot record the run in {state_dir}/provisioning ({exc.strerror}); is the data partition mounted?"
        ) from exc
    if announce:
        _notifier(announce).started(run_id=run_id)
    work = state_dir / "provisioning"
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=work))
    outcome = Outcome(False, "", run_id)
    description = signer = ""
    try:
        trusted = load_trusted_keys(cfg.provisioning.keys_dir, cfg.provisioning.local_keys_dir)
        staged = read_bundle(bundle_root, trusted, staging / "bundle", cfg.provisioning.max_bundle_mb * 1024 * 1024)
        signer = staged.signed_by
        plan = make_plan(staged, Path(config_path), serial)
        description = plan.description
        applied = apply_plan(plan, services, clock, actor=f"provisioning:{signer}")
        outcome = Outcome(True, "", run_id, applied.changes, applied.warnings, applied.actions)
    except ClinicBoxError as exc:
        outcome.reason = str(exc)
        log.error("provisioning refused: %s", exc)
    finally:
        remove_staging(staging)
    finished = clock.now()
    state = "succeeded" if outcome.ok else "failed"
    write_status(
        state_dir,
        RunStatus(
            run_id,
            state,
            started.isoformat(),
            finished.isoformat(),
            bundle=description,
            reason=outcome.reason,
            changes=outcome.changes,
            source=str(bundle_root),
        ),
    )
    if announce:
        notify = _notifier(announce)
        ended = notify.succeeded if outcome.ok else notify.failed
        if outcome.reason:
            ended(run_id=run_id, reason=outcome.reason)
        else:
            ended(run_id=run_id)
    if report_dir is not None:
        _, now_cfg = _box_config(Path(config_path))
        report = build_report(
            ok=outcome.ok,
            reason=outcome.reason,
            serial=serial,
            started_at=started,
            finished_at=finished,
            bundle=description,
            signed_by=signer,
            changes=outcome.changes,
            warnings=outcome.warnings,
            actions=outcome.actions,
            doctor=doctor_results(now_cfg),
            setup=report_setup_code(now_cfg) if outcome.ok else None,
        )
        if now_cfg is not None:
            give_back_store(now_cfg)
        try:
            if before_report is not None:
                before_report()
            outcome.report_path = write_report(report_dir, report, finished)
        except (OSError, ProvisioningError) as exc:
            log.error("could not write the report to %s: %s", report_dir, exc)
    return outcome


def provision_device(
    device: Path,
    config_path: Path,
    mounter: Mounter,
    **kwargs: Any,
) -> Outcome:
    """Mount the stick safely, provision from it, write the report, unmount.

    A stick without a bundle but with a ``clinicbox-backup`` folder is handed
    over for backups (:mod:`provisioning.backup_stick`).

    Raises:
        BackupStickMounted: a backup stick, now mounted at ``<run_dir>/usb/<sdb1>``.
        NoBundleError: the stick is not a provisioning stick (it is unmounted again).
        ProvisioningError: the stick cannot be mounted.
    """
    cfg, _ = _box_config(Path(config_path))
    target = prepare(cfg.provisioning.mount_dir, Path(device))
    mounter.mount(Path(device), target)
    try:
        try:
            return provision(
                target,
                config_path,
                report_dir=target,
                before_report=lambda: mounter.remount_rw(target),
                **kwargs,
            )
        except NoBundleError:
            if not backup_stick.is_backup_stick(target):
                raise
            backup_stick.prepare(target, cfg, mounter)
    finally:
        os.sync()
        mounter.unmount(target)
    mounted = backup_stick.hand_over(Path(device), cfg, mounter)
    raise BackupStickMounted(f"{device} is a USB backup stick: mounted for backups at {mounted}")


# -- the technician's laptop -------------------------------------------------------------
@dataclass
class CheckResult:
    """What ``clinicbox provision check`` prints."""

    description: str
    signed_by: str
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def check_bundle(source: Path, trusted: TrustedKeys, config_path: Path | None = None) -> CheckResult:
    """Everything the box would check, on a laptop: signature, files, and the configuration.

    With ``config_path`` (a copy of the box's clinicbox.toml) the bundle is
    planned exactly as that box would plan it. Without one, the
    configuration is tried on a fresh box (the shipped defaults); a problem
    there is a warning, since a bundle that merges into an existing box's
    file may rely on it.

    Raises:
        ProvisioningError: the reason the box would refuse the bundle.
    """
    root = find_bundle(Path(source))
    with tempfile.TemporaryDirectory(prefix="clinicbox-check-") as tmp:
        staged = read_bundle(root, trusted, Path(tmp) / "bundle", 1 << 62)
        pf = check_structure(staged)
        result = CheckResult(pf.bundle.description, staged.signed_by)
        box = Path(config_path) if config_path else Path(tmp) / "fresh-box" / "clinicbox.toml"
        try:
            plan = make_plan(staged, box, None)
        except ProvisioningError as exc:
            if config_path is not None:
                raise
            result.warnings.append(
                f"a fresh box would refuse it: {exc} (check against the box's file with --against CONFIG)"
            )
            return result
        result.changes = plan.changes
        result.warnings = [w for w in plan.warnings if "fresh-box" not in w]
        result.actions = [f"{a.verb} {a.unit}" for a in plan.actions]
        return result


def sign_bundle(source: Path, key_path: Path) -> tuple[Path, str, int]:
    """Write ``provision.sig`` for the bundle; returns (path, key id, files signed).

    The bundle's structure is checked as the box would check it (with
    this key trusted) before the signature is kept: a bundle with a bad
    provision.toml, prompt or TLS pair is not signed. The configuration is
    checked by ``check --against``, which needs the box's file.

    Raises:
        ProvisioningError: symlinks, bad names, or a bundle the box would refuse.
    """
    root = find_bundle(Path(source))
    private = load_private_key(Path(key_path))
    files = manifest_of(root)
    doc = sign_manifest(files, private)
    sig = root / SIG_NAME
    previous = sig.read_bytes() if sig.is_file() and not sig.is_symlink() else None
    partial = root / f".{SIG_NAME}.tmp"
    partial.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, sig)
    public = private.public_key()
    try:
        with tempfile.TemporaryDirectory(prefix="clinicbox-sign-") as scratch:
            trusted = {key_id(public): (str(key_path), public)}
            check_structure(read_bundle(root, trusted, Path(scratch) / "b", 1 << 62))
    except ProvisioningError:
        if previous is None:
            sig.unlink(missing_ok=True)
        else:
            sig.write_bytes(previous)
        raise
    return sig, key_id(public), len(files)
