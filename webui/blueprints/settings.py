"""Settings (managers): clinic, hours, voicemail, retention, trunk, modem,
reminder policy, queues and stations.

Each screen edits one part of the configuration with a form generated
from the schema; a save validates the whole configuration as the box
would load it, writes the overlay (``settings.toml``), reloads the web
UI's own configuration and asks the core to reload (``config.reload``),
which applies it without dropping calls in progress. The notice after a
save lists what the core applied and what waits for a restart; a change
the core refuses is taken back. The index page offers "Restart when idle"
(``core.restart_when_idle``) while saved settings wait for a restart.

The simulator's keys (:data:`appliance.config.simulation.SIMULATOR_KEYS`)
are never shown, and a form that posts one anyway is refused whole.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import typing
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.config import Config
from appliance.config.simulation import SIMULATOR_KEYS
from appliance.errors import ConfigError
from webui import auth
from webui.auth import MANAGER, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import settings_forms as forms
from webui.services.overlay import Overlay, StaleSettingsError, to_toml
from webui.settings_labels import section_titles
from webui.views import control, core_down_message, notice, render_error

log = logging.getLogger(__name__)

bp = Blueprint("settings", __name__, url_prefix="/settings")

#: Sections edited with the generic form, when the config has them.
GENERIC = (
    "clinic",
    "hours",
    "voicemail",
    "retention",
    "trunk",
    "modem",
    "reminders",
    "feeds",
    "contact",
    "textback",
    "followup",
    "waitlist",
)
COLLECTIONS = ("queues", "stations")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
#: "Restart when idle" at the latest after (minutes; "0" = only when idle).
RESTART_DEADLINES = ("0", "30", "120", "480")


def overlay() -> Overlay:
    rt = runtime()
    return Overlay(rt.cfg.paths.state_dir, rt.config_path)


def generic_sections(cfg: Config) -> list[str]:
    present = {f.name for f in dataclasses.fields(cfg)}
    return [s for s in GENERIC if s in present]


def simulator_fields(section: str) -> tuple[str, ...]:
    """The fields of ``section`` that only a demo or test box's own file sets."""
    prefix = f"{section}."
    return tuple(key.removeprefix(prefix) for key in SIMULATOR_KEYS if key.startswith(prefix))


def posted_simulator_fields(form: Any, section: str) -> list[str]:
    """Simulator fields in a submitted form: the screen never offers them, so they are forged."""
    hidden = simulator_fields(section)
    return sorted(k for k in form if any(k == name or k.startswith(f"{name}.") for name in hidden))


def save(candidate: dict[str, Any], version: str, what: str) -> list[str] | None:
    """Write ``candidate`` and have the core apply it; returns the config problems, or None when saved.

    A change the core refuses (it cannot apply it while it runs) is taken
    back: the overlay is restored, so the file and the running box both
    stay as they were, and ``[]`` is returned with the reason as a notice.
    """
    rt = runtime()
    ov = overlay()
    before = ov.raw()
    try:
        ov.save(candidate, version)
    except ConfigError as exc:
        return exc.problems
    except StaleSettingsError:
        notice(
            "error", _("Someone saved the settings after you opened this page. Reload it and make your change again.")
        )
        return []
    rt.reload_config()
    ok, message, result = control(lambda: rt.control.call("config.reload"))
    if not ok and message != core_down_message():
        ov.restore(before)
        rt.reload_config()
        log.warning("settings: the core refused a change to %s; the overlay is restored", what)
        notice(
            "error", _("Not saved: the box cannot apply this change (%(reason)s). Nothing was changed.", reason=message)
        )
        return []
    rt.repos.audit.record(auth.actor(), "settings", "config", what)
    if not ok:
        notice("info", _("Saved. The core could not apply it yet: %(reason)s", reason=message))
    else:
        notice(*applied_notice(result or {}))
    return None


def applied_notice(result: dict[str, Any]) -> tuple[str, str]:
    """The notice after a save, from the core's ``config.reload`` answer (what applied, what waits)."""
    applied, restart = list(result.get("applied") or []), list(result.get("restart") or [])
    if restart:
        return "info", _(
            "Saved. Applied now: %(applied)s. Waits for a restart: %(restart)s (Settings › Restart when idle).",
            applied=", ".join(applied) or "-",
            restart=", ".join(restart),
        )
    if applied:
        return "ok", _(
            "Saved. Applied now, calls in progress continue: %(applied)s.",
            applied=", ".join(applied),
        )
    return "ok", _("Saved. Nothing the running box uses has changed.")


def restart_status() -> dict[str, Any]:
    """The core's ``core.restart_status`` (empty when the core does not answer)."""
    ok, _message, result = control(lambda: runtime().control.call("core.restart_status"))
    return result if ok and isinstance(result, dict) and "pending" in result else {}


@bp.post("/restart")
@requires(MANAGER)
def restart() -> Any:
    """Ask the core to restart at the first moment no call is in progress (audited)."""
    rt = runtime()
    raw = request.form.get("deadline_min", "0")
    deadline = int(raw) if raw in RESTART_DEADLINES else -1
    if deadline < 0:
        notice("error", _("Choose when the box may restart at the latest."))
        return redirect(url_for("settings.index"))
    actor = auth.actor()
    ok, message, _result = control(
        lambda: rt.control.call("core.restart_when_idle", actor=actor, deadline_min=deadline)
    )
    if not ok:
        notice("error", _("The restart was not requested: %(reason)s", reason=message))
        return redirect(url_for("settings.index"))
    rt.repos.audit.record(actor, "restart-requested", "core", f"deadline {deadline} min" if deadline else "idle")
    notice("ok", _("The box restarts at the first moment no call is in progress."))
    return redirect(url_for("settings.index"))


@bp.post("/restart/cancel")
@requires(MANAGER)
def restart_cancel() -> Any:
    rt = runtime()
    actor = auth.actor()
    ok, message, _result = control(lambda: rt.control.call("core.restart_cancel", actor=actor))
    if ok:
        rt.repos.audit.record(actor, "restart-cancelled", "core", "")
        notice("ok", _("The restart request is withdrawn."))
    else:
        notice("error", _("The restart was not requested: %(reason)s", reason=message))
    return redirect(url_for("settings.index"))


@bp.get("")
@requires(MANAGER)
def index() -> Any:
    rt = runtime()
    return render_template(
        "settings/index.html",
        generic=generic_sections(rt.cfg),
        titles=section_titles(),
        cfg=rt.cfg,
        overlay_path=overlay().path,
        restart=restart_status(),
        deadlines=RESTART_DEADLINES,
    )


def _section_page(section: str, specs: list[forms.FormField], status: int = 200, **extra: Any) -> Any:
    return (
        render_template(
            "settings/section.html",
            section=section,
            title=section_titles().get(section, section),
            specs=specs,
            version=extra.pop("version", overlay().version()),
            **extra,
        ),
        status,
    )


@bp.route("/section/<section>", methods=["GET", "POST"])
@requires(MANAGER)
def section(section: str) -> Any:
    rt = runtime()
    if section not in generic_sections(rt.cfg):
        return render_error(404)
    cls = typing.get_type_hints(Config)[section]
    specs = forms.fields(cls, getattr(rt.cfg, section), exclude=simulator_fields(section))
    if request.method == "GET":
        return _section_page(section, specs)
    forged = posted_simulator_fields(request.form, section)
    if forged:
        log.warning("settings: refused a form for %s carrying %s", section, ", ".join(forged))
        return render_error(400, _("Simulation cannot be set from the web UI; nothing was changed."))
    version = request.form.get("version", "")
    values, errors = forms.parse(request.form, specs)
    others: list[str] = []
    if not errors:
        ov = overlay()
        data, _v = ov.read()
        problems = save(ov.with_section(data, section, values), version, section)
        if problems is None:
            return redirect(url_for("settings.section", section=section))
        if not problems:  # someone saved first: their version is the base now
            version = overlay().version()
        errors, others = forms.problems_by_field(problems, f"{section}.")
    forms.apply_errors(specs, errors, request.form)
    return _section_page(section, specs, 400, version=version, others=others, failed=True)


# -- queues and stations: collections replaced wholesale ------------------------------
def _collection(kind: str) -> dict[str, Any]:
    return dict(getattr(runtime().cfg, kind))


def _item_class(kind: str) -> type:
    return typing.get_args(typing.get_type_hints(Config)[kind])[1]  # type: ignore[no-any-return]


def _table(kind: str, items: dict[str, Any]) -> dict[str, Any]:
    kept = overlay().plain_secrets(kind) if kind == "stations" else {}
    return {
        key: to_toml(item, keep_secrets=kept.get(key)) if not isinstance(item, dict) else item
        for key, item in items.items()
    }


@bp.get("/<any(queues, stations):kind>")
@requires(MANAGER)
def collection(kind: str) -> Any:
    return render_template(
        "settings/collection.html",
        kind=kind,
        title=section_titles()[kind],
        items=_collection(kind),
        version=overlay().version(),
        error="",
    )


@bp.route("/<any(queues, stations):kind>/<item_id>", methods=["GET", "POST"])
@requires(MANAGER)
def item(kind: str, item_id: str) -> Any:
    items = _collection(kind)
    cls = _item_class(kind)
    is_new = item_id not in items
    if is_new and request.method == "GET":
        return render_error(404)
    specs = forms.fields(cls, items.get(item_id) or cls())
    _offer_choices(specs, kind)
    if request.method == "GET":
        return _item_page(kind, item_id, specs)
    version = request.form.get("version", "")
    values, errors = forms.parse(request.form, specs)
    others: list[str] = []
    if not errors:
        table = _table(kind, items)
        merged = dict(table.get(item_id, {}))
        merged.update(values)
        table[item_id] = merged
        ov = overlay()
        data, _v = ov.read()
        problems = save(ov.with_collection(data, (kind,), table), version, f"{kind}.{item_id}")
        if problems is None:
            return redirect(url_for("settings.item", kind=kind, item_id=item_id))
        if not problems:  # someone saved first: their version is the base now
            version = overlay().version()
        errors, others = forms.problems_by_field(problems, f"{kind}.{item_id}.")
    forms.apply_errors(specs, errors, request.form)
    return _item_page(kind, item_id, specs, 400, version=version, others=others)


def _offer_choices(specs: list[forms.FormField], kind: str) -> None:
    """Pick lists instead of free text where the config names other items."""
    cfg = runtime().cfg
    for spec in specs:
        if kind == "stations" and spec.name == "queues":
            spec.kind, spec.choices = "multichoice", tuple(cfg.queues)
        elif kind == "queues" and spec.name == "mailbox":
            spec.kind, spec.choices = "choice", tuple(cfg.voicemail.mailboxes)


def _item_page(kind: str, item_id: str, specs: list[forms.FormField], status: int = 200, **extra: Any) -> Any:
    return (
        render_template(
            "settings/item.html",
            kind=kind,
            item_id=item_id,
            title=section_titles()[kind],
            specs=specs,
            version=extra.pop("version", overlay().version()),
            secret_note=kind == "stations",
            **extra,
        ),
        status,
    )


@bp.post("/<any(queues, stations):kind>/add")
@requires(MANAGER)
def add_item(kind: str) -> Any:
    new_id = request.form.get("id", "").strip().lower()
    if not _ID.match(new_id):
        notice("error", _("Use 1 to 32 lowercase letters, digits, '-' or '_' for the id."))
        return redirect(url_for("settings.collection", kind=kind))
    items = _collection(kind)
    if new_id in items:
        notice("error", _("That id is already used."))
        return redirect(url_for("settings.collection", kind=kind))
    table = _table(kind, items)
    table[new_id] = {"name": request.form.get("name", "").strip()[:100] or new_id}
    ov = overlay()
    data, _v = ov.read()
    problems = save(ov.with_collection(data, (kind,), table), request.form.get("version", ""), f"{kind}.{new_id}")
    if problems:
        notice("error", "; ".join(problems))
    if problems is None:
        return redirect(url_for("settings.item", kind=kind, item_id=new_id))
    return redirect(url_for("settings.collection", kind=kind))


@bp.post("/<any(queues, stations):kind>/<item_id>/delete")
@requires(MANAGER)
def delete_item(kind: str, item_id: str) -> Any:
    items = _collection(kind)
    if item_id not in items:
        return render_error(404)
    table = _table(kind, items)
    del table[item_id]
    ov = overlay()
    data, _v = ov.read()
    problems = save(ov.with_collection(data, (kind,), table), request.form.get("version", ""), f"{kind}.{item_id}")
    if problems:
        notice("error", _("Not deleted: %(problems)s", problems="; ".join(problems)))
    return redirect(url_for("settings.collection", kind=kind))
