"""The agent console: my station's state, call controls, screen pop, wrap-up.

Every call control is a control-socket command to the core; the page
follows the core's snapshot and ``agent.ringing`` events through the live
stream (see :mod:`webui.blueprints.dashboard`) and fetches the screen pop
as soon as its station rings.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request, session

from appliance.errors import NotFoundError, ValidationError
from appliance.store.patient_input import PatientInput
from webui import auth
from webui.auth import STAFF, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import screenpop
from webui.views import control_json, json_error

bp = Blueprint("console", __name__, url_prefix="/console")

ACTIONS = ("login", "logout", "pause", "unpause", "answer", "hold", "unhold", "hangup", "transfer")
PAUSE_REASONS = ("break", "lunch", "admin", "meeting", "training")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$")


def pause_reasons() -> dict[str, str]:
    return {
        "break": _("Break"),
        "lunch": _("Lunch"),
        "admin": _("Paperwork"),
        "meeting": _("Meeting"),
        "training": _("Training"),
    }


def my_station() -> str:
    """The station this browser controls: chosen here, else the user's own."""
    rt = runtime()
    chosen = session.get("station")
    if chosen in rt.cfg.stations:
        return str(chosen)
    user = auth.current_user()
    if user is not None and user.station in rt.cfg.stations:
        return str(user.station)
    return next(iter(rt.cfg.stations), "")


@bp.get("")
@requires(*STAFF)
def console() -> Any:
    rt = runtime()
    wanted = request.args.get("station")
    if wanted in rt.cfg.stations:
        session["station"] = wanted
    return render_template(
        "console/console.html",
        station=my_station(),
        stations=rt.cfg.stations,
        queues=rt.cfg.queues,
        reasons=pause_reasons(),
        languages_clinic=rt.cfg.clinic.languages,
    )


def _station_arg() -> str:
    station = request.form.get("station", "")
    if station not in runtime().cfg.stations:
        raise ValidationError("unknown station")
    return station


@bp.post("/action")
@requires(*STAFF)
def action() -> Any:
    rt = runtime()
    name = request.form.get("action", "")
    if name not in ACTIONS:
        return json_error(_("Unknown action."))
    try:
        station = _station_arg()
    except ValidationError:
        return json_error(_("Choose one of the listed stations."))
    client = rt.control
    if name == "login":
        return control_json(lambda: client.login(station))
    if name == "logout":
        return control_json(lambda: client.logout(station))
    if name == "pause":
        reason = request.form.get("reason", "")
        if reason not in PAUSE_REASONS:
            reason = "break"
        return control_json(lambda: client.pause(station, reason))
    if name == "unpause":
        return control_json(lambda: client.unpause(station))
    if name == "answer":
        return control_json(lambda: client.answer(station))
    if name == "hold":
        return control_json(lambda: client.hold(station))
    if name == "unhold":
        return control_json(lambda: client.unhold(station))
    if name == "hangup":
        return control_json(lambda: client.hangup(station))
    to_station = request.form.get("to_station", "")
    to_queue = request.form.get("to_queue", "")
    to_number = request.form.get("to_number", "").replace(" ", "")
    if to_station and to_station not in rt.cfg.stations:
        return json_error(_("Choose one of the listed stations."))
    if to_queue and to_queue not in rt.cfg.queues:
        return json_error(_("Choose one of the listed queues."))
    if to_number and not _NUMBER.match(to_number):
        return json_error(_("Enter a phone number (digits, optional leading +)."))
    if sum(bool(x) for x in (to_station, to_queue, to_number)) != 1:
        return json_error(_("Choose one place to transfer to: a station, a queue or a number."))
    return control_json(
        lambda: client.transfer(
            station, to_station=to_station or None, to_queue=to_queue or None, to_number=to_number or None
        )
    )


@bp.get("/pop")
@requires(*STAFF)
def pop() -> Any:
    rt = runtime()
    result = screenpop.pop(
        rt.repos,
        request.args.get("caller", "")[:40],
        request.args.get("call_id", ""),
        auth.actor(),
        rt.clock.now(),
    )
    return render_template(
        "console/pop.html",
        pop=result,
        languages_clinic=rt.cfg.clinic.languages,
    )


@bp.get("/pop/patient/<int:patient_id>")
@requires(*STAFF)
def pop_patient(patient_id: int) -> Any:
    rt = runtime()
    try:
        card = screenpop.choose(
            rt.repos,
            request.args.get("caller", "")[:40],
            patient_id,
            request.args.get("call_id", ""),
            auth.actor(),
            rt.clock.now(),
        )
    except NotFoundError as exc:
        return render_template("console/pop_message.html", message=str(exc)), 404
    return render_template("console/_card.html", card=card, chosen=True)


@bp.post("/new-patient")
@requires(*STAFF)
def new_patient() -> Any:
    """The "new patient" form of a pop with no match; answers with the new card."""
    rt = runtime()
    form = request.form
    data = PatientInput(
        family_name=form.get("family_name", ""),
        given_name=form.get("given_name", ""),
        date_of_birth=form.get("date_of_birth", ""),
        phones=[form.get("phone", "")],
        language=form.get("language", ""),
    )
    try:
        pid = rt.repos.patients.create(data, auth.actor())
        card = screenpop.choose(
            rt.repos, form.get("phone", ""), pid, form.get("call_id", ""), auth.actor(), rt.clock.now()
        )
    except (ValidationError, NotFoundError) as exc:
        return json_error(str(exc))
    return render_template("console/_card.html", card=card, chosen=True, created=True)


@bp.post("/note")
@requires(*STAFF)
def note() -> Any:
    rt = runtime()
    call_id = screenpop.clean_call_id(request.form.get("call_id", ""))
    text = request.form.get("note", "")
    if not call_id:
        return json_error(_("There is no call to attach the note to."))
    if len(text) > 2000:
        return json_error(_("The note is too long (2000 characters at most)."))
    return control_json(lambda: rt.control.call("call.note", call_id=call_id, note=text))


@bp.post("/wrapup")
@requires(*STAFF)
def wrapup() -> Any:
    rt = runtime()
    try:
        station = _station_arg()
    except ValidationError:
        return json_error(_("Choose one of the listed stations."))
    text = request.form.get("note", "")
    if len(text) > 2000:
        return json_error(_("The note is too long (2000 characters at most)."))
    return control_json(lambda: rt.control.wrapup_done(station, text))
