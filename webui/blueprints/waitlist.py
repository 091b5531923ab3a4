"""The Waitlist page: who waits for an earlier visit, and the offers the box sent.

The front desk adds a patient (from the patient search), edits or removes
an entry; every offer shows its slot, patient and state (offered, accepted,
declined, expired, taken, skipped with the reason: a landline or an
opted-out patient stays here for the desk to call). Managers edit the offer
text per language with its preview and SMS length. Each read and change is
audited by :class:`appliance.store.waitlist.Waitlist`; the core is woken
(``waitlist.wake``) so a change is acted on at once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from appliance.errors import NotFoundError, ValidationError
from webui import auth
from webui.auth import MANAGER, STAFF, requires
from webui.blueprints.settings import overlay, save
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import waitlist as service
from webui.views import control, notice

bp = Blueprint("waitlist", __name__)


def _wake() -> None:
    rt = runtime()
    control(lambda: rt.control.call("waitlist.wake"))  # the core also scans every few seconds


@bp.get("/waitlist")
@requires(*STAFF)
def waitlist() -> Any:
    rt = runtime()
    query = request.args.get("q", "").strip()[:100]
    found = rt.repos.patients.search(query, auth.actor()) if query else []
    return render_template(
        "waitlist/index.html",
        entries=rt.repos.waitlist.entries(auth.actor()),
        offers=rt.repos.waitlist.offers(auth.actor()),
        q=query,
        found=found,
        enabled=rt.cfg.waitlist.enabled,
    )


def _form(template_values: dict[str, Any], status: int = 200) -> Any:
    return render_template("waitlist/form.html", **template_values), status


@bp.route("/waitlist/new/<int:patient_id>", methods=["GET", "POST"])
@requires(*STAFF)
def new(patient_id: int) -> Any:
    rt = runtime()
    try:
        patient = rt.repos.patients.get(patient_id, auth.actor())
    except NotFoundError:
        abort(404)
    if request.method == "GET":
        return _form({"patient": patient, "values": {"when": "earliest", "duration_min": "15"}, "error": ""})
    values = {k: str(v) for k, v in request.form.items()}
    try:
        rt.repos.waitlist.add(service.entry_from_form(values, patient_id), auth.actor())
    except ValidationError as exc:
        return _form({"patient": patient, "values": values, "error": str(exc)}, 400)
    _wake()
    notice("ok", _("On the waitlist."))
    return redirect(url_for("waitlist.waitlist"))


@bp.route("/waitlist/<int:entry_id>/edit", methods=["GET", "POST"])
@requires(*STAFF)
def edit(entry_id: int) -> Any:
    rt = runtime()
    try:
        entry = rt.repos.waitlist.get(entry_id, auth.actor())
    except NotFoundError:
        abort(404)
    patient = rt.repos.patients.get(entry.patient_id, auth.actor())
    if request.method == "GET":
        values = {
            "when": "earliest" if entry.earliest else "range", "provider": entry.provider, "location": entry.location,
            "from_date": entry.from_date, "to_date": entry.to_date, "from_time": entry.from_time,
            "to_time": entry.to_time, "duration_min": str(entry.duration_min), "note": entry.note,
            **{f"day{d}": "1" for d in entry.weekdays},
        }  # fmt: skip
        return _form({"patient": patient, "values": values, "error": "", "entry": entry})
    values = {k: str(v) for k, v in request.form.items()}
    try:
        rt.repos.waitlist.update(entry_id, service.entry_from_form(values, entry.patient_id), auth.actor())
    except ValidationError as exc:
        return _form({"patient": patient, "values": values, "error": str(exc), "entry": entry}, 400)
    _wake()
    notice("ok", _("Saved."))
    return redirect(url_for("waitlist.waitlist"))


@bp.post("/waitlist/<int:entry_id>/remove")
@requires(*STAFF)
def remove(entry_id: int) -> Any:
    try:
        runtime().repos.waitlist.remove(entry_id, auth.actor())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        notice("error", str(exc))
    else:
        notice("ok", _("Removed from the waitlist."))
    return redirect(url_for("waitlist.waitlist"))


@bp.route("/waitlist/texts", methods=["GET", "POST"])
@requires(MANAGER)
def texts() -> Any:
    rt = runtime()
    cfg = rt.cfg
    now = rt.repos.store.clock.now()
    if request.method == "GET":
        return render_template("waitlist/texts.html", rows=service.offer_rows(cfg, now), version=overlay().version())
    form = {k: str(v) for k, v in request.form.items()}
    submitted = service.texts_from_form(cfg, form)
    version = request.form.get("version", "")
    problems: list[str] = []
    if request.form.get("action") == "save":
        ov = overlay()
        data, _v = ov.read()
        found = save(ov.with_section(data, "waitlist", {"offer_texts": submitted}), version, "waitlist.offer_texts")
        if found is None:
            return redirect(url_for("waitlist.texts"))
        problems = found
    return (
        render_template(
            "waitlist/texts.html",
            rows=service.offer_rows(cfg, now, submitted),
            version=version,
            problems=problems,
            previewing=True,
        ),
        400 if problems else 200,
    )
