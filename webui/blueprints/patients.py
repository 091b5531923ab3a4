"""Patients: search, record, create/edit, book an appointment, export, erase."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from appliance.errors import NotFoundError, ValidationError
from appliance.store.patient_input import CHANNELS
from webui import auth
from webui.auth import MANAGER, STAFF, requires
from webui.forms import appointment_input
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import patients as service
from webui.views import notice, render_error

bp = Blueprint("patients", __name__, url_prefix="/patients")


@bp.get("")
@requires(*STAFF)
def patients() -> Any:
    rt = runtime()
    query = request.args.get("q", "").strip()[:100]
    results = rt.repos.patients.search(query, auth.actor()) if query else []
    return render_template("patients/search.html", q=query, results=results)


def _form_page(template: str, values: dict[str, Any], errors: dict[str, str], status: int = 200, **extra: Any) -> Any:
    rt = runtime()
    return (
        render_template(
            template,
            values=values,
            errors=errors,
            channels=CHANNELS,
            clinic_languages=rt.cfg.clinic.languages,
            **extra,
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(*STAFF)
def new() -> Any:
    rt = runtime()
    if request.method == "GET":
        values = service.form_values(None)
        values["language"] = rt.cfg.clinic.default_language
        return _form_page("patients/form.html", values, {})
    try:
        pid = rt.repos.patients.create(service.form_input(request.form), auth.actor())
    except ValidationError as exc:
        return _form_page("patients/form.html", dict(request.form), service.field_errors(str(exc)), 400)
    notice("ok", _("Patient saved."))
    return redirect(url_for("patients.patient", patient_id=pid))


@bp.get("/<int:patient_id>")
@requires(*STAFF)
def patient(patient_id: int) -> Any:
    rt = runtime()
    try:
        rec = service.record(rt.repos, patient_id, auth.actor())
    except NotFoundError:
        return render_error(404)
    return render_template(
        "patients/record.html",
        rec=rec,
        p=rec.patient,
        appt_errors={},
        appt_values={},
        reason_in_texts=runtime().cfg.contact.include_reason,
    )


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@requires(*STAFF)
def edit(patient_id: int) -> Any:
    rt = runtime()
    if request.method == "GET":
        try:
            current = rt.repos.patients.get(patient_id, auth.actor(), purpose="view")
        except NotFoundError:
            return render_error(404)
        return _form_page("patients/form.html", service.form_values(current), {}, patient_id=patient_id)
    try:
        rt.repos.patients.update(patient_id, service.form_input(request.form), auth.actor())
    except NotFoundError:
        return render_error(404)
    except ValidationError as exc:
        return _form_page(
            "patients/form.html", dict(request.form), service.field_errors(str(exc)), 400, patient_id=patient_id
        )
    notice("ok", _("Patient saved."))
    return redirect(url_for("patients.patient", patient_id=patient_id))


@bp.post("/<int:patient_id>/appointments")
@requires(*STAFF)
def book(patient_id: int) -> Any:
    rt = runtime()
    try:
        data = appointment_input(request.form, patient_id, rt.cfg.clinic.timezone)
        rt.repos.appointments.create(data, auth.actor())
    except NotFoundError:
        return render_error(404)
    except ValidationError as exc:
        rec = service.record(rt.repos, patient_id, auth.actor())
        return (
            render_template(
                "patients/record.html",
                rec=rec,
                p=rec.patient,
                appt_errors={"_": str(exc)},
                appt_values=request.form,
                reason_in_texts=runtime().cfg.contact.include_reason,
            ),
            400,
        )
    notice("ok", _("Appointment booked."))
    return redirect(url_for("patients.patient", patient_id=patient_id))


@bp.post("/<int:patient_id>/messages")
@requires(*STAFF)
def messages(patient_id: int) -> Any:
    """The desk records that the patient wants no messages, or wants them again (said in person or
    on the phone): one consent event, who and how."""
    rt = runtime()
    action = request.form.get("action", "")
    via = request.form.get("via", "phone")
    if action not in ("opt-out", "opt-in") or via not in ("phone", "web"):
        return render_error(400, _("Choose to opt the patient out of messages or back in."))
    try:
        rt.repos.patients.set_opt_out(patient_id, action == "opt-out", auth.actor(), via=via)
    except NotFoundError:
        return render_error(404)
    notice("ok", _("Opted out of all messages.") if action == "opt-out" else _("Messages are sent again."))
    return redirect(url_for("patients.patient", patient_id=patient_id))


@bp.get("/<int:patient_id>/export.<fmt>")
@requires(MANAGER)
def export(patient_id: int, fmt: str) -> Any:
    if fmt not in ("json", "csv"):
        return render_error(404)
    rt = runtime()
    try:
        data = rt.repos.patients.export(patient_id, auth.actor())
    except NotFoundError:
        return render_error(404)
    if fmt == "json":
        body, mimetype = service.export_json(data), "application/json"
    else:
        body, mimetype = "\ufeff" + service.export_csv(data), "text/csv"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="patient-{patient_id}.{fmt}"'},
    )


@bp.route("/<int:patient_id>/erase", methods=["GET", "POST"])
@requires(MANAGER)
def erase(patient_id: int) -> Any:
    rt = runtime()
    if request.method == "GET":
        try:
            current = rt.repos.patients.get(patient_id, auth.actor())
        except NotFoundError:
            return render_error(404)
        return render_template("patients/erase.html", p=current, error="")
    if request.form.get("confirm", "").strip() != str(patient_id):
        try:
            current = rt.repos.patients.get(patient_id, auth.actor())
        except NotFoundError:
            return render_error(404)
        return render_template("patients/erase.html", p=current, error=_("Type the patient number to confirm.")), 400
    try:
        service.erase(rt.repos, patient_id, auth.actor())
    except NotFoundError:
        return render_error(404)
    notice("ok", _("The patient and their data were erased."))
    return redirect(url_for("patients.patients"))
