"""``provision.toml``: what a bundle asks the box to do.

Example (every table optional except ``[bundle]``)::

    [bundle]
    format = 1
    description = "Riverside clinic: initial setup"
    only_serial = ""          # apply only on the box with this serial ("" = any)
    config_mode = "merge"     # merge [config] into clinicbox.toml, or replace it

    [config]                  # clinicbox.toml keys, checked with the box's own rules
    [config.clinic]
    name = "Riverside Community Clinic"

    [secrets]                 # secret keys only (trunk.password, stations.<id>.password...)
    [secrets.trunk]
    password = "..."

    [manager]                 # the first manager (see provisioning.manager): a hash, never a password
    username = "amira"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=2$..."

    [files]                   # names relative to the bundle folder
    prompts_dir = "prompts"   # prompts/<language>/<prompt>.wav, 8 or 16 kHz mono 16-bit PCM
    tls_certificate = "tls/web.crt"
    tls_key = "tls/web.key"
    patients_csv = "patients.csv"
    backup = "backup/clinicbox-20260301-023000.tar"
    backup_key = "backup/store.key"

It is parsed with the same typed-schema walker as ``clinicbox.toml``, so
every problem is reported at once with its key. A bundle never sets the
simulator's keys (``simulate``, ``reminders.dialer``, ``modem.simulate``...;
:mod:`appliance.config.simulation`): a box in service stays one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from appliance.config.schema import Problems, build, setting
from appliance.config.simulation import simulator_keys_in
from appliance.errors import ProvisioningError
from provisioning.manager import ManagerSection, parse_manager


@dataclass(frozen=True)
class BundleSection:
    format: int = setting(doc="Format of provision.toml; 1.", min=1, max=1)
    description: str = setting(doc="Shown in the report and on the web UI.", default="")
    only_serial: str = setting(doc="Apply only on the box with this serial; empty = any box.", default="")
    config_mode: str = setting(
        doc="merge: [config] is merged into the box's clinicbox.toml; replace: it becomes the whole file.",
        choices=("merge", "replace"),
        default="merge",
    )


@dataclass(frozen=True)
class FilesSection:
    prompts_dir: str = setting(doc="Folder of recorded prompts: <language>/<prompt>.wav.", default="")
    tls_certificate: str = setting(doc="PEM certificate for the web UI (nginx).", default="")
    tls_key: str = setting(doc="Its unencrypted PEM private key.", default="")
    patients_csv: str = setting(doc="Patients to import (clinicbox import patients format).", default="")
    backup: str = setting(doc="An encrypted backup to restore (replacement box).", default="")
    backup_key: str = setting(doc="The store key file the backup was made with.", default="")


@dataclass(frozen=True)
class _Typed:
    bundle: BundleSection = setting(doc="About the bundle.")
    files: FilesSection = setting(doc="Files to install.", default_factory=FilesSection)


@dataclass(frozen=True)
class ProvisionFile:
    bundle: BundleSection
    files: FilesSection
    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    manager: ManagerSection | None = None


_TOP = ("bundle", "config", "secrets", "manager", "files")


def parse_provision(text: str) -> ProvisionFile:
    """Parse and check ``provision.toml``.

    Raises:
        ProvisioningError: malformed TOML or schema problems (each with its key).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisioningError(f"provision.toml is not valid TOML: {exc}") from exc
    problems = Problems()
    for key in data:
        if key not in _TOP:
            problems.add(str(key), f"unknown table; provision.toml has {', '.join(_TOP)}")
    extra: dict[str, dict[str, Any]] = {}
    for key in ("config", "secrets"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            problems.add(key, "must be a table, e.g. [config.clinic]")
            value = {}
        extra[key] = value
    for key in simulator_keys_in(extra["config"]):
        problems.add(
            f"config.{key}", "simulation cannot be set by a bundle (only a demo or test box has it); remove it"
        )
    if "bundle" not in data:
        problems.add("bundle", "missing: provision.toml starts with [bundle] and format = 1")
    typed = build(_Typed, {k: v for k, v in data.items() if k in ("bundle", "files")}, problems)
    if problems:
        raise ProvisioningError("provision.toml has problems:\n" + "\n".join(f"  {p}" for p in problems.lines))
    files = typed.files
    if bool(files.tls_certificate) != bool(files.tls_key):
        raise ProvisioningError("provision.toml: files.tls_certificate and files.tls_key go together; give both")
    if bool(files.backup) != bool(files.backup_key):
        raise ProvisioningError(
            "provision.toml: files.backup needs files.backup_key (the store key file the backup was made with)"
        )
    if files.backup and files.patients_csv:
        raise ProvisioningError(
            "provision.toml: a bundle restores a backup or imports patients, not both (the backup holds the patients)"
        )
    manager = parse_manager(data["manager"]) if "manager" in data else None
    if manager is not None and files.backup:
        raise ProvisioningError(
            "provision.toml: a bundle restores a backup or creates the first manager, not both (the backup holds the "
            "box's users)"
        )
    return ProvisionFile(typed.bundle, files, extra["config"], extra["secrets"], manager)
