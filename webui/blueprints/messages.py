"""Incoming SMS (text messages) for staff to read and mark handled."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.errors import NotFoundError
from webui import auth
from webui.auth import STAFF, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import messages as service
from webui.views import notice, render_error

bp = Blueprint("messages", __name__)


@bp.get("/messages")
@requires(*STAFF)
def messages() -> Any:
    rt = runtime()
    status = request.args.get("status", "new")
    if status not in service.STATUSES:
        status = "new"
    return render_template("messages.html", items=service.messages(rt.repos, auth.actor(), status), status=status)


@bp.post("/messages/<int:sms_id>/handled")
@requires(*STAFF)
def handled(sms_id: int) -> Any:
    try:
        service.mark_handled(runtime().repos, sms_id, auth.actor())
    except NotFoundError:
        return render_error(404)
    notice("ok", _("Saved"))
    return redirect(url_for("messages.messages", status=request.form.get("status", "new")))
