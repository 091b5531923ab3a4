"""The call log (who called, when, what happened, the agent's note)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request

from appliance.errors import ValidationError
from webui import auth
from webui.auth import STAFF, requires
from webui.forms import parse_date
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import calllog as service
from webui.views import notice

bp = Blueprint("calllog", __name__)

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@bp.get("/calls")
@requires(*STAFF)
def calls() -> Any:
    rt = runtime()
    before = request.args.get("before", "")
    if before and not _STAMP.match(before):
        before = ""
    day = None
    if request.args.get("date"):
        try:
            day = parse_date(request.args.get("date", ""), _("Date"))
        except ValidationError as exc:
            notice("error", str(exc))
    direction = request.args.get("direction") or None
    result = service.page(rt.repos, auth.actor(), before=before or None, day=day, direction=direction)
    return render_template("calls.html", page=result, day=day, direction=direction or "")
