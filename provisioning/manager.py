"""A bundle's first manager, and the setup code a report hands the technician.

``[manager]`` in ``provision.toml`` creates the box's first manager, so a
clinic's IT can deliver a box ready to log in to::

    [manager]
    username = "amira"
    display_name = "Amira Haddad"
    language = "pl"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=2$..."   # clinicbox user hash-password

The bundle carries the argon2id hash the users store keeps, never the
password: a stick gets lost, copied, left in a drawer. A clear
``password`` is refused with a message saying how to make the hash. The
bundle is refused as a whole (nothing changes) when the box has a
manager already: a bundle never replaces a manager or resets a password.

When a run succeeds and the box still has no manager, the report gets a
new one-time setup code (:mod:`appliance.setup_code`, channel
``provisioning``): the stick came out of the box, so whoever holds it was
at the box.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from appliance import setup_code
from appliance.config import Config
from appliance.config.checks import LANGUAGES
from appliance.config.schema import Problems, build, setting
from appliance.errors import ClinicBoxError, ProvisioningError, ValidationError
from appliance.store import Store
from appliance.store.repos import make_repos
from appliance.store.users import check_password_hash, check_username

log = logging.getLogger(__name__)


def _username(value: Any) -> str | None:
    try:
        check_username(str(value))
    except ValidationError as exc:
        return str(exc)
    return None


def _password_hash(value: Any) -> str | None:
    try:
        check_password_hash(str(value))
    except ValidationError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class ManagerSection:
    username: str = setting(doc="The first manager's user name (2-32 letters, digits, '.', '_', '-').", check=_username)
    password_hash: str = setting(
        doc="Their password's argon2id hash, from `clinicbox user hash-password`; never the password.",
        check=_password_hash,
    )
    display_name: str = setting(doc="Their full name, shown in the web UI.", default="")
    language: str = setting(doc="Their web UI language.", choices=LANGUAGES, default="en")


def parse_manager(data: Any) -> ManagerSection:
    """``[manager]`` of provision.toml.

    Raises:
        ProvisioningError: a clear password, or schema problems (each with its key).
    """
    if not isinstance(data, dict):
        raise ProvisioningError("provision.toml: manager must be a table, [manager] with username and password_hash")
    if "password" in data:
        raise ProvisioningError(
            "provision.toml: manager.password is a clear password, which a bundle never carries; "
            "put its hash in manager.password_hash instead (make it with: clinicbox user hash-password)"
        )
    problems = Problems()
    section = build(ManagerSection, data, problems, "manager")
    if problems:
        raise ProvisioningError("provision.toml has problems:\n" + "\n".join(f"  {p}" for p in problems.lines))
    return section  # type: ignore[no-any-return]


def _open(cfg: Config) -> Store:
    return Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)


def check_no_manager(cfg: Config) -> None:
    """Refuse the bundle when the box has a manager already (or its store cannot tell).

    A box without a database yet is fine: the manager goes into a new store.

    Raises:
        ProvisioningError: a manager exists, or the store is locked or unusable.
    """
    if not cfg.db_path.exists():
        return
    try:
        store = _open(cfg)
    except ClinicBoxError as exc:
        raise ProvisioningError(f"[manager]: the store cannot be opened ({exc}); nothing was changed") from exc
    try:
        if store.locked:
            raise ProvisioningError(
                "[manager]: the store is passphrase-locked, so it has a manager; nothing was changed"
            )
        if make_repos(cfg, store).users.has_manager():
            raise ProvisioningError(
                "[manager]: this box has a manager already; a bundle only creates the first one, so nothing was "
                "changed. Remove [manager] from the bundle (a manager adds users in the web UI)"
            )
    finally:
        store.close()


def create_manager(cfg: Config, section: ManagerSection, actor: str) -> str:
    """Create the first manager (and the store, on a box without one); returns what changed.

    Raises:
        ProvisioningError: a manager appeared since the plan, or the store failed.
    """
    created = not cfg.db_path.exists()
    try:
        if created:
            store = Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
        else:
            store = _open(cfg)
    except ClinicBoxError as exc:
        raise ProvisioningError(f"the first manager was not created: {exc}") from exc
    try:
        make_repos(cfg, store).users.add_first_manager(
            section.username,
            actor,
            password_hash=section.password_hash,
            display_name=section.display_name,
            language=section.language,
        )
    except ClinicBoxError as exc:
        raise ProvisioningError(f"the first manager was not created: {exc}") from exc
    finally:
        store.close()
    setup_code.void(cfg.paths.state_dir)
    where = f" in the new store {cfg.db_path}" if created else ""
    return f"first manager {section.username} created{where}; the web UI's setup page is gone"


def report_setup_code(cfg: Config | None) -> dict[str, str] | None:
    """A new setup code for the report while the box has a store but no manager; else ``None``."""
    if cfg is None or not cfg.db_path.exists():
        return None
    try:
        store = _open(cfg)
    except ClinicBoxError:
        return None
    try:
        if store.locked or make_repos(cfg, store).users.has_manager():
            return None
    finally:
        store.close()
    code = setup_code.new_code(cfg.paths.state_dir, "provisioning")
    return {
        "code": code,
        "how": "This box has no manager yet. Open the web UI's /setup page on the box and enter this one-time "
        "code. It works once, until setup is done; ten wrong codes void it.",
    }
