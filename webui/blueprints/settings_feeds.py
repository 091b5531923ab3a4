"""Settings › HL7 senders: each practice system's mapping (``feeds.hl7.senders``), for managers.

Lists the senders with their own mapping, adds, edits and removes one. A
save goes the way of every settings screen (:func:`webui.blueprints.settings.save`):
validated by the config loader as the box would load it, written to the
overlay, applied by the core's ``config.reload`` (the notice says "Applied
now" only when the core answered that it applied it), and audited. A
message the feed refused for want of a mapping can then be re-processed on
the feed page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from webui.auth import MANAGER, requires
from webui.blueprints.settings import overlay, save
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import feed_senders as service
from webui.services import settings_forms as forms
from webui.views import notice, render_error

bp = Blueprint("settings_feeds", __name__, url_prefix="/settings/hl7-senders")


@bp.get("")
@requires(MANAGER)
def senders() -> Any:
    cfg = runtime().cfg
    rows = [(name, service.summary(mapping)) for name, mapping in sorted(service.senders(cfg).items())]
    return render_template("settings/hl7_senders.html", rows=rows, version=overlay().version())


@bp.post("/add")
@requires(MANAGER)
def add() -> Any:
    """Open the form for a new sender (nothing is saved until its form is)."""
    name = request.form.get("sender", "").strip()
    if not service.valid_sender(name):
        notice(
            "error",
            _("Write the sending application as in MSH-3: 1 to 40 letters, digits, '.', '-', '_' or spaces."),
        )
        return redirect(url_for("settings_feeds.senders"))
    if name in service.senders(runtime().cfg):
        notice("error", _("%(sender)s already has a mapping; edit it here.", sender=name))
    return redirect(url_for("settings_feeds.sender", name=name, new=1))


@bp.route("/<name>", methods=["GET", "POST"])
@requires(MANAGER)
def sender(name: str) -> Any:
    if not service.valid_sender(name):
        return render_error(404)
    cfg = runtime().cfg
    current = service.senders(cfg).get(name)
    is_new = current is None
    if is_new and request.method == "GET" and request.args.get("new") != "1":
        return render_error(404)
    specs = service.form_fields(current)
    if request.method == "GET":
        return _page(name, specs, is_new)
    version = request.form.get("version", "")
    values, errors = forms.parse(request.form, specs)
    errors.update(service.code_errors(values))
    others: list[str] = []
    if not errors:
        ov = overlay()
        data, _v = ov.read()
        candidate = ov.with_collection(data, service.PATH, service.with_sender(cfg, name, values))
        problems = save(candidate, version, f"feeds.hl7.senders.{name}")
        if problems is None:
            return redirect(url_for("settings_feeds.sender", name=name))
        if not problems:  # someone saved first (or the core refused): their version is the base now
            version = overlay().version()
        errors, others = forms.problems_by_field(problems, f"feeds.hl7.senders.{name}.")
    forms.apply_errors(specs, errors, request.form)
    return _page(name, specs, is_new, 400, version=version, others=others, failed=True)


@bp.post("/<name>/delete")
@requires(MANAGER)
def delete(name: str) -> Any:
    cfg = runtime().cfg
    if not service.valid_sender(name) or name not in service.senders(cfg):
        return render_error(404)
    ov = overlay()
    data, _v = ov.read()
    candidate = ov.with_collection(data, service.PATH, service.without_sender(cfg, name))
    problems = save(candidate, request.form.get("version", ""), f"feeds.hl7.senders.{name} removed")
    if problems:
        notice("error", _("Not deleted: %(problems)s", problems="; ".join(problems)))
    return redirect(url_for("settings_feeds.senders"))


def _page(name: str, specs: list[forms.FormField], is_new: bool, status: int = 200, **extra: Any) -> Any:
    return (
        render_template(
            "settings/hl7_sender.html",
            name=name,
            specs=specs,
            labels=service.labels(),
            is_new=is_new,
            version=extra.pop("version", overlay().version()),
            **extra,
        ),
        status,
    )
