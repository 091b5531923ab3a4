"""From a verified bundle to a plan: every check that can fail runs here, before any change.

The new configuration is built exactly as the box will read it (the
clinic's file, the web UI's overlay, the secrets file), validated with
:func:`appliance.config.load_config`, and compared with the running one
section by section, so only the services that read a changed section are
restarted.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from appliance.config import Config, load_config, read_toml
from appliance.config.loader import OVERLAY_NAME
from appliance.config.model import REPLACED_COLLECTIONS
from appliance.config.schema import deep_merge
from appliance.edge.script import rendered_changed
from appliance.errors import ClinicBoxError, ConfigError, ImportFileError, ProvisioningError
from appliance.store import backup as backups
from appliance.store import importer
from appliance.store import keys as keymod
from appliance.store.importpool import check_all
from provisioning.bundle import TOML_NAME, StagedBundle, check_name
from provisioning.manager import ManagerSection, check_no_manager
from provisioning.media import check_tls, check_wav, prompt_target
from provisioning.schema import ProvisionFile, parse_provision

CORE = "clinicbox-core.service"
WEB = "clinicbox-web.service"
STATIONS = "clinicbox-station@*.service"
GSM = "clinicbox-gsm.service"
EDGE = "clinicbox-edge.service"
NGINX = "nginx.service"

#: Which unit reads which config section. The core reads everything but the
#: web UI's own section and this provisioning section.
_ONLY_WEB = frozenset({"web"})
_NOBODY = frozenset({"provisioning"})
_WEB_READS = frozenset(
    {"web", "clinic", "paths", "store", "control", "logging", "retention", "hours", "queues", "stations"}
    | {"voicemail", "prompts", "reminders", "simulate", "clock"}
)
_STATION_READS = frozenset({"stations", "sip", "logging", "paths", "simulate"})
_GSM_READS = frozenset({"modem", "sip", "logging", "paths", "simulate"})

#: Bad rows listed in a refusal; the rest are counted.
MAX_ROWS_SHOWN = 20

HEADER = "# Written by ClinicBox provisioning ({description}); the previous file is kept beside it.\n\n"


@dataclass(frozen=True)
class Action:
    """A service-manager action: ``restart``, ``try-restart`` (only if running), ``reload-or-restart``."""

    verb: str
    unit: str


@dataclass
class Plan:
    description: str
    signed_by: str
    config_path: Path
    new_cfg: Config
    old_cfg: Config | None
    config_text: str | None = None
    secrets_path: Path | None = None
    secrets_text: str | None = None
    prompts: list[tuple[Path, Path]] = field(default_factory=list)
    tls: tuple[Path, Path] | None = None
    patients_csv: Path | None = None
    restore: tuple[Path, Path] | None = None
    manager: ManagerSection | None = None
    changed_sections: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tls_dest(self) -> tuple[Path, Path]:
        return self.new_cfg.provisioning.tls_dir / "web.crt", self.new_cfg.provisioning.tls_dir / "web.key"


def actions_for(sections: set[str], *, everything: bool, tls: bool, prompts: bool, edge: bool = False) -> list[Action]:
    """The restarts a set of changed config sections needs, in a safe order.

    ``edge``: a setting ``clinicbox edge`` renders into Kamailio's script
    changed (:func:`appliance.edge.script.rendered_changed`); the edge takes
    it only when it starts again.
    """
    out: list[Action] = []
    core = everything or prompts or bool(sections - _ONLY_WEB - _NOBODY)
    if core:
        out.append(Action("restart", CORE))
    if everything or edge:  # after the core: it writes the desk phones' credentials
        out.append(Action("try-restart", EDGE))
    if everything or sections & _WEB_READS:
        out.append(Action("restart", WEB))
    if everything or sections & _STATION_READS:
        out.append(Action("try-restart", STATIONS))
    if everything or sections & _GSM_READS:
        out.append(Action("try-restart", GSM))
    if tls:
        out.append(Action("reload-or-restart", NGINX))
    return out


def _leaves(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and path not in REPLACED_COLLECTIONS:
            keys |= _leaves(value, path)
        else:
            keys.add(path)
    return keys


def _render(data: dict[str, Any], description: str) -> str:
    return HEADER.format(description=description or "a USB bundle") + tomli_w.dumps(data)


def _load_old(config_path: Path) -> tuple[Config | None, dict[str, Any], list[str]]:
    if not config_path.exists():
        return None, {}, [f"{config_path} did not exist; it is created"]
    try:
        user = read_toml(config_path)
    except ConfigError as exc:
        return None, {}, [f"the box's current configuration is unreadable ({exc.problems[0]}); it is replaced"]
    try:
        return load_config(config_path), user, []
    except ConfigError as exc:
        return None, user, [f"the box's current configuration was invalid ({len(exc.problems)} problems)"]


def _validate(config_path: Path, text: str, secrets_text: str | None) -> tuple[Config, Path]:
    """Load the staged config with the box's own rules; returns it and its real secrets path."""
    plain = load_config(config_path, text=text, use_secrets=False)
    real_secrets = plain.paths.secrets_file
    if secrets_text is None:
        return load_config(config_path, text=text), real_secrets
    if str(real_secrets) in ("", "."):
        raise ProvisioningError(
            "the bundle carries [secrets] but paths.secrets_file is empty; set it in [config.paths]"
        )
    with tempfile.TemporaryDirectory(prefix="clinicbox-provision-secrets-") as tmp:
        staged = Path(tmp) / "secrets.toml"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets_text)
        cfg = load_config(config_path, text=text, overrides={"paths": {"secrets_file": str(staged)}})
    paths = dataclasses.replace(cfg.paths, secrets_file=real_secrets)
    return dataclasses.replace(cfg, paths=paths), real_secrets


def _plan_config(plan: Plan, pf: ProvisionFile, old_user: dict[str, Any]) -> None:
    try:
        _stage_config(plan, pf, old_user)
    except ConfigError as exc:
        body = "\n".join(f"  {p}" for p in exc.problems)
        raise ProvisioningError(
            f"the bundle's configuration is not valid for this box; nothing was changed:\n{body}"
        ) from exc


def _stage_config(plan: Plan, pf: ProvisionFile, old_user: dict[str, Any]) -> None:
    mode = pf.bundle.config_mode
    if mode == "replace" and not pf.config:
        raise ProvisioningError('provision.toml: config_mode = "replace" needs a [config] table')
    if pf.config:
        merged = pf.config if mode == "replace" else deep_merge(old_user, pf.config, REPLACED_COLLECTIONS)
        plan.config_text = _render(merged, pf.bundle.description)
        text = plan.config_text
    else:
        text = _render(old_user, pf.bundle.description)
    secrets_path = load_config(plan.config_path, text=text, use_secrets=False).paths.secrets_file
    if pf.secrets:
        current: dict[str, Any] = {}
        if str(secrets_path) and secrets_path.exists():
            try:
                current = tomllib.loads(secrets_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                plan.warnings.append(f"{secrets_path} was unreadable; the bundle's secrets replace it")
        plan.secrets_text = tomli_w.dumps(deep_merge(current, pf.secrets, REPLACED_COLLECTIONS))
    plan.new_cfg, real = _validate(plan.config_path, text, plan.secrets_text)
    if plan.secrets_text is not None:
        plan.secrets_path = real
        plan.changes.append(f"secrets: {', '.join(sorted(_leaves(pf.secrets)))} set in {real}")
    overlay_path = plan.new_cfg.paths.state_dir / OVERLAY_NAME
    if pf.config and overlay_path.is_file():
        try:
            shadowed = sorted(_leaves(pf.config) & _leaves(read_toml(overlay_path)))
        except ConfigError:
            shadowed = []
        for key in shadowed:
            plan.warnings.append(f"{key} is also set in the web UI's settings ({overlay_path}), which wins")


def _plan_files(plan: Plan, pf: ProvisionFile, staged: StagedBundle) -> set[str]:
    used = {TOML_NAME}
    files = pf.files
    cfg = plan.new_cfg
    if files.prompts_dir:
        check_name(files.prompts_dir)
        names = sorted(n for n in staged.files if n.startswith(files.prompts_dir.rstrip("/") + "/"))
        if not names:
            raise ProvisioningError(f"files.prompts_dir = {files.prompts_dir!r} holds no prompt in the bundle")
        for name in names:
            language, stem = prompt_target(name, files.prompts_dir.rstrip("/"), cfg.clinic.languages)
            check_wav(staged.path(name), name)
            plan.prompts.append((staged.path(name), cfg.custom_prompts_dir / language / f"{stem}.wav"))
        used.update(names)
        plan.changes.append(f"prompts: {len(names)} recorded prompts installed in {cfg.custom_prompts_dir}")
    if files.tls_certificate:
        cert, key = staged.path(files.tls_certificate), staged.path(files.tls_key)
        info = check_tls(cert, key)
        plan.tls = (cert, key)
        plan.warnings.extend(info.warnings)
        used.update({files.tls_certificate, files.tls_key})
        plan.changes.append(f"web UI certificate for {info.subject} (valid until {info.not_after:%Y-%m-%d}) installed")
    if files.patients_csv:
        csv_path = staged.path(files.patients_csv)
        rows = check_patients_csv(csv_path, files.patients_csv, cfg.clinic.country, cfg.clinic.default_language)
        plan.patients_csv = csv_path
        used.add(files.patients_csv)
        plan.changes.append(f"patients: {files.patients_csv} has {rows} rows, every one valid for this box")
    if files.backup:
        _plan_restore(plan, staged.path(files.backup), staged.path(files.backup_key))
        used.update({files.backup, files.backup_key})
    return used


def _plan_restore(plan: Plan, backup: Path, key_path: Path) -> None:
    try:
        kf = keymod.read_key_file(key_path, check_mode=False)
    except ClinicBoxError as exc:
        raise ProvisioningError(f"files.backup_key is not a usable store key file: {exc}") from exc
    if kf.locked or kf.key is None:
        raise ProvisioningError(
            "files.backup_key is passphrase-protected; remove the passphrase on the old box "
            "(clinicbox db passphrase remove) or give the unwrapped key"
        )
    try:
        manifest = backups.inspect(backup)
    except ClinicBoxError as exc:
        raise ProvisioningError(f"files.backup: {exc}") from exc
    if manifest.get("format") != backups.FORMAT:
        raise ProvisioningError("files.backup is not a ClinicBox backup")
    if manifest.get("key_id") != keymod.key_id(kf.key):
        raise ProvisioningError(
            f"files.backup was made with key {manifest.get('key_id')} but files.backup_key is key "
            f"{keymod.key_id(kf.key)}; put the key file of the box that made the backup in the bundle"
        )
    plan.restore = (backup, key_path)
    plan.changes.append(
        f"database restored from the backup of {manifest.get('created_at')} (schema {manifest.get('schema_version')}); "
        "the previous database is kept beside it"
    )


def csv_problems(data: bytes, region: str | None, language: str) -> tuple[int, list[tuple[int, str]]]:
    """Check a patient CSV as the box's importer will, writing nothing: (rows, [(line, reason)]).

    The importer's own reader and row validator are used, so a file that
    passes here imports on the box. ``region=None`` (the box's country is
    not known) checks only the file's structure: encoding, header, CSV
    syntax and field counts, since phone numbers are read by country.
    """
    try:
        text = importer._decode(data)
        parsed = list(importer._rows(text, importer.PATIENT_ALIASES, importer._patient_required))
    except ImportFileError as exc:
        return 0, exc.errors
    errors = [(line, row) for line, row in parsed if isinstance(row, str)]
    rows = [(line, row) for line, row in parsed if not isinstance(row, str)]
    if region is not None:
        seen: dict[str, int] = {}
        for line, key, _item, error in check_all(rows, region, language):
            if error is not None or key is None:
                errors.append((line, error or "invalid"))
            elif key in seen:
                errors.append((line, f"the same patient as line {seen[key]}"))
            else:
                seen[key] = line
    return len(parsed), sorted(errors)


def check_patients_csv(path: Path, name: str, region: str | None, language: str) -> int:
    """Refuse a patient CSV the box would refuse, naming every bad row's line (never its content).

    Returns the number of rows. Raises:
        ProvisioningError: the bad rows, with line numbers and reasons.
    """
    rows, errors = csv_problems(path.read_bytes(), region, language)
    if not errors:
        return rows
    shown = "\n".join(f"  line {line}: {reason}" for line, reason in errors[:MAX_ROWS_SHOWN])
    more = f"\n  ... and {len(errors) - MAX_ROWS_SHOWN} more" if len(errors) > MAX_ROWS_SHOWN else ""
    raise ProvisioningError(
        f"files.patients_csv {name}: {len(errors)} bad rows; the box imports a patient file only when every row "
        f"is good, so nothing was changed:\n{shown}{more}"
    )


def _bundle_clinic(pf: ProvisionFile) -> tuple[str | None, str]:
    """The clinic country and language the bundle itself sets (None: the box's, unknown here)."""
    clinic = pf.config.get("clinic", {}) if pf.config else {}
    country = clinic.get("country") if isinstance(clinic, dict) else None
    language = clinic.get("default_language") if isinstance(clinic, dict) else None
    return (country if isinstance(country, str) else None), (language if isinstance(language, str) else "en")


def check_structure(staged: StagedBundle) -> ProvisionFile:
    """The checks that need no box: provision.toml's schema, every prompt's format, the TLS pair, the
    backup, the patient CSV (its rows too when the bundle sets the clinic's country).

    Raises:
        ProvisioningError: the first problem.
    """
    try:
        pf = parse_provision(staged.path(TOML_NAME).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ProvisioningError("provision.toml is not UTF-8 text") from exc
    files = pf.files
    if files.prompts_dir:
        check_name(files.prompts_dir)
        for name in sorted(n for n in staged.files if n.startswith(files.prompts_dir.rstrip("/") + "/")):
            check_wav(staged.path(name), name)
    if files.tls_certificate:
        check_tls(staged.path(files.tls_certificate), staged.path(files.tls_key))
    for name in (files.patients_csv, files.backup, files.backup_key):
        if name:
            staged.path(name)
    if files.patients_csv:
        region, language = _bundle_clinic(pf)
        check_patients_csv(staged.path(files.patients_csv), files.patients_csv, region, language)
    if files.backup:
        scratch = Plan("", "", Path("."), new_cfg=None, old_cfg=None)  # type: ignore[arg-type]
        _plan_restore(scratch, staged.path(files.backup), staged.path(files.backup_key))
    return pf


def make_plan(staged: StagedBundle, config_path: Path, serial: str | None) -> Plan:
    """Check everything the bundle asks for against this box (``serial=None``: any box).

    Raises:
        ProvisioningError: the first reason the bundle cannot be applied.
    """
    try:
        text = staged.path(TOML_NAME).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProvisioningError("provision.toml is not UTF-8 text") from exc
    pf = parse_provision(text)
    if serial is not None and pf.bundle.only_serial and pf.bundle.only_serial != serial:
        raise ProvisioningError(f"this bundle is for the box with serial {pf.bundle.only_serial}; this box is {serial}")
    old_cfg, old_user, notes = _load_old(Path(config_path))
    plan = Plan(pf.bundle.description, staged.signed_by, Path(config_path), new_cfg=None, old_cfg=old_cfg)  # type: ignore[arg-type]
    plan.warnings.extend(notes)
    _plan_config(plan, pf, old_user)
    if pf.manager is not None:
        check_no_manager(plan.new_cfg)
        plan.manager = pf.manager
    used = _plan_files(plan, pf, staged)
    for name in sorted(set(staged.files) - used):
        plan.warnings.append(f"{name} is in the bundle but provision.toml does not use it")
    if old_cfg is None:
        plan.changed_sections = [f.name for f in dataclasses.fields(Config)]
    else:
        plan.changed_sections = [
            f.name for f in dataclasses.fields(Config) if getattr(old_cfg, f.name) != getattr(plan.new_cfg, f.name)
        ]
    if old_cfg is None:
        plan.changes.insert(0, f"configuration: {plan.config_path} written (the box had no valid one)")
    elif plan.config_text is not None or plan.secrets_text is not None:
        shown = ", ".join(plan.changed_sections) or "none (same values)"
        plan.changes.insert(0, f"configuration: sections changed: {shown}")
    plan.actions = actions_for(
        set(plan.changed_sections) if (plan.config_text or plan.secrets_text) else set(),
        everything=old_cfg is None,
        tls=plan.tls is not None,
        prompts=bool(plan.prompts) or plan.restore is not None,
        edge=old_cfg is not None
        and bool(plan.config_text or plan.secrets_text)
        and bool(rendered_changed(old_cfg, plan.new_cfg)),
    )
    if plan.restore is not None and not any(a.unit == WEB for a in plan.actions):
        plan.actions.append(Action("restart", WEB))
    return plan
