"""First-run setup: what each step checks, and the one write that finishes it.

Setup exists only while the box has no manager (:func:`is_open`). A
browser claims it with a one-time setup code (:mod:`appliance.setup_code`);
the claim and every answer so far live in that browser's server-side
session, so nothing on the box changes until :func:`finish`. Each step is
checked with the rules that apply later: the manager with the users
store's password policy, the clinic and the trunk with
:func:`appliance.config.load_config` over the settings overlay the
Settings screens write (:class:`~webui.services.overlay.Overlay`).
The manager's password is kept only as its argon2id hash; the trunk
password stays in this process's memory until the finish writes it.
"""

from __future__ import annotations

import logging
import typing
from dataclasses import dataclass, field
from typing import Any

from appliance import setup_code
from appliance.config import Config
from appliance.config.model import REPLACED_COLLECTIONS
from appliance.config.schema import deep_merge
from appliance.errors import ClinicBoxError, ConfigError, ValidationError
from appliance.store.users import User, check_password, check_username, hash_password
from webui.i18n import gettext as _
from webui.runtime import Runtime
from webui.services import settings_forms as forms
from webui.services.overlay import Overlay

log = logging.getLogger(__name__)

STEPS = ("manager", "clinic", "trunk", "finish")
#: The clinic fields setup asks for; the rest keep the image's defaults (Settings edits them later).
CLINIC_FIELDS = ("name", "country", "timezone", "languages", "default_language")
TRUNK_FIELDS = ("enabled", "registrar", "username")


class SetupClosedError(ClinicBoxError):
    """A manager exists: setup is over (the pages answer 404)."""


def is_open(rt: Runtime) -> bool:
    """Setup is offered only while the store is open and holds no manager."""
    return not rt.store.locked and not rt.repos.users.has_manager()


def claim(rt: Runtime, code: str) -> None:
    """Use the setup code (every code is void afterwards).

    Raises:
        SetupClosedError: a manager exists.
        SetupCodeError: wrong, used or voided code.
    """
    if not is_open(rt):
        raise SetupClosedError("this box is set up")
    setup_code.claim(rt.cfg.paths.state_dir, code)


# -- step 1: the manager -------------------------------------------------------------
@dataclass
class ManagerAnswer:
    username: str = ""
    display_name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    password_hash: str = ""


def check_manager(form: Any) -> ManagerAnswer:
    """The first manager's account, checked with the users store's own rules."""
    answer = ManagerAnswer(
        username=str(form.get("username", "")).strip()[:64],
        display_name=str(form.get("display_name", "")).strip()[:100],
    )
    password = str(form.get("password", ""))[:1024]
    try:
        check_username(answer.username)
    except ValidationError:
        answer.errors["username"] = _("Use 2 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if password != str(form.get("repeat", "")):
        answer.errors["password"] = _("The two passwords are not the same.")
    else:
        try:
            check_password(password)
        except ValidationError as exc:
            if "too long" in str(exc):
                answer.errors["password"] = _("The password is too long (256 characters at most).")
            else:
                answer.errors["password"] = _("The password must have at least 10 characters.")
    if not answer.errors:
        answer.password_hash = hash_password(password)
    return answer


# -- steps 2 and 3: the clinic and the trunk ---------------------------------------------
def section_specs(cfg: Config, section: str) -> list[forms.FormField]:
    """The form of ``section``'s setup fields (clinic or trunk), holding the current values."""
    wanted = CLINIC_FIELDS if section == "clinic" else TRUNK_FIELDS
    cls = typing.get_type_hints(Config)[section]
    specs = forms.fields(cls, getattr(cfg, section))
    return [spec for spec in specs if spec.name in wanted]


def candidate(rt: Runtime, answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The settings overlay with every section answered so far."""
    ov = overlay(rt)
    data, _version = ov.read()
    for section in ("clinic", "trunk"):
        if section in answers:
            data = ov.with_section(data, section, answers[section])
    return data


def check_section(
    rt: Runtime, section: str, values: dict[str, Any], answers: dict[str, dict[str, Any]], password: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Check ``section``'s answer as the box would load it; returns (errors by field, other problems)."""
    merged = dict(answers)
    merged[section] = values
    data = candidate(rt, merged)
    if password:
        data = deep_merge(data, {"trunk": {"password": password}}, REPLACED_COLLECTIONS)
    try:
        overlay(rt).validate(data)
    except ConfigError as exc:
        return forms.problems_by_field(exc.problems, f"{section}.")
    return {}, []


def overlay(rt: Runtime) -> Overlay:
    return Overlay(rt.cfg.paths.state_dir, rt.config_path)


# -- the finish: one write -------------------------------------------------------------
@dataclass
class Finished:
    user: User
    warnings: list[str] = field(default_factory=list)


def finish(rt: Runtime, answers: dict[str, Any], trunk_password: str, actor: str) -> Finished:
    """Create the manager, write the clinic's and the trunk's settings and the trunk password.

    The manager comes first: creating it is what closes setup, and it
    refuses when a manager appeared meanwhile (a USB bundle), before
    anything else is written.

    Raises:
        SetupClosedError: a manager exists (nothing written).
        ConfigError: the settings no longer pass (nothing written).
    """
    if not is_open(rt):
        raise SetupClosedError("this box is set up")
    manager = answers["manager"]
    data = candidate(rt, answers)
    check = deep_merge(data, {"trunk": {"password": trunk_password}}, REPLACED_COLLECTIONS) if trunk_password else data
    overlay(rt).validate(check)
    try:
        user = rt.repos.users.add_first_manager(
            manager["username"],
            actor,
            password_hash=manager["password_hash"],
            display_name=manager["display_name"],
            language=manager["language"],
        )
    except ValidationError as exc:
        if "manager exists" in str(exc):
            raise SetupClosedError(str(exc)) from exc
        raise
    done = Finished(user)
    who = user.username
    ov = overlay(rt)
    try:
        ov.save(data, ov.version())
    except ClinicBoxError as exc:
        log.error("first-run setup could not write the settings: %s", exc)
        done.warnings.append(_("The clinic and trunk settings were not saved: %(reason)s", reason=str(exc)))
    else:
        rt.repos.audit.record(who, "settings", "config", "clinic, trunk", "first-run setup")
    if trunk_password:
        try:
            store_trunk_password(rt, trunk_password)
        except (OSError, ClinicBoxError) as exc:
            log.error("first-run setup could not store the trunk password: %s", exc)
            done.warnings.append(
                _(
                    "The trunk password was not stored (%(reason)s); set it again under Settings, Secrets.",
                    reason=str(exc),
                )
            )
        else:
            rt.repos.audit.record(who, "secret-set", "secret", "trunk.password", "first-run setup")
    setup_code.void(rt.cfg.paths.state_dir)
    rt.repos.audit.record(who, "setup", "box", "", "first-run setup finished")
    log.warning("first-run setup finished: manager %s created; the setup page is gone", user.username)
    return done


def store_trunk_password(rt: Runtime, password: str) -> None:
    """Hand the trunk password to the core, which owns the secrets file (``secrets.set``).

    The web process never writes or reads that file.

    Raises:
        ClinicBoxError: the core refused it or is not running.
    """
    rt.control.call("secrets.set", name="trunk.password", value=password)
