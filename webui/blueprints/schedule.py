"""The day/week schedule and appointment status changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.errors import NotFoundError, ValidationError
from appliance.store.appointments import STATUSES
from webui import auth
from webui.auth import STAFF, requires
from webui.forms import parse_date, parse_int, parse_time
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import schedule as service
from webui.views import notice, render_error

bp = Blueprint("schedule", __name__)


def _back(default: str) -> str:
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


@bp.get("/schedule")
@requires(*STAFF)
def schedule() -> Any:
    rt = runtime()
    view = "week" if request.args.get("view") == "week" else "day"
    today = rt.clock.now().astimezone(ZoneInfo(rt.cfg.clinic.timezone)).date()
    try:
        anchor = parse_date(request.args.get("date", ""), _("Date")) if request.args.get("date") else today
    except ValidationError:
        notice("error", _("That is not a date; showing today."))
        anchor = today
    data = service.load(rt.repos, view, anchor, auth.actor())
    return render_template("schedule/schedule.html", s=data, today=today)


@bp.post("/appointments/<int:appointment_id>/status")
@requires(*STAFF)
def set_status(appointment_id: int) -> Any:
    rt = runtime()
    status = request.form.get("status", "")
    if status not in STATUSES:
        notice("error", _("Choose a status from the list."))
    else:
        try:
            rt.repos.appointments.set_status(appointment_id, status, auth.actor())
        except NotFoundError:
            return render_error(404)
        except ValidationError:  # a no-show for a visit still to come
            notice("error", _("This visit has not started yet: it cannot be a no-show. Nothing was changed."))
        else:
            notice("ok", _("Saved"))
    return redirect(_back(url_for("schedule.schedule")))


@bp.post("/appointments/<int:appointment_id>/reschedule")
@requires(*STAFF)
def reschedule(appointment_id: int) -> Any:
    rt = runtime()
    tz = ZoneInfo(rt.cfg.clinic.timezone)
    try:
        day: date = parse_date(request.form.get("date", ""), _("Date"))
        start = datetime.combine(day, parse_time(request.form.get("time", ""), _("Time")), tz)
        minutes = parse_int(request.form.get("duration_min", "15") or "15", _("Minutes"), 5, 720)
        rt.repos.appointments.reschedule(appointment_id, start, start + timedelta(minutes=minutes), auth.actor())
    except NotFoundError:
        return render_error(404)
    except ValidationError as exc:
        notice("error", str(exc))
    else:
        notice("ok", _("Appointment moved."))
    return redirect(_back(url_for("schedule.schedule")))
