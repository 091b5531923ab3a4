"""The front desk's worklist and the HL7 feed's status page.

The worklist lists what the box changed that the practice system cannot
learn by itself ("cancel this visit in your system"); the desk enters it
there and ticks it done here (audited). The feed page (managers and
technicians) shows the listener, the last day's counts and the refused or
held messages with their reason; a manager re-processes one after fixing
the sender's mapping in the settings.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.errors import ClinicBoxError
from webui import auth
from webui.auth import MANAGER, STAFF, TECHNICIAN, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import feeds as service
from webui.views import control, notice

bp = Blueprint("feeds", __name__)


@bp.get("/worklist")
@requires(*STAFF)
def worklist() -> Any:
    rt = runtime()
    show_done = request.args.get("done") == "1"
    items = service.worklist(rt.repos, auth.actor(), include_done=show_done)
    return render_template("feeds/worklist.html", items=items, show_done=show_done)


@bp.post("/worklist/<int:item_id>/done")
@requires(*STAFF)
def tick_done(item_id: int) -> Any:
    try:
        service.tick_done(runtime().repos, item_id, auth.actor())
    except ClinicBoxError as exc:
        notice("error", str(exc))
    else:
        notice("ok", _("Ticked done."))
    return redirect(url_for("feeds.worklist"))


@bp.get("/feeds")
@requires(MANAGER, TECHNICIAN)
def feeds() -> Any:
    rt = runtime()
    ok, _message, core = control(lambda: rt.control.call("feeds.status"))
    data = service.summary(rt.repos, rt.clock.now(), core if ok else None)
    return render_template("feeds/feeds.html", feed=data, can_reprocess=auth.current_user().role == MANAGER)  # type: ignore[union-attr]


@bp.post("/feeds/messages/<int:entry_id>/reprocess")
@requires(MANAGER)
def reprocess(entry_id: int) -> Any:
    rt = runtime()
    ok, message, result = control(lambda: rt.control.call("feeds.reprocess", id=entry_id, actor=auth.actor()))
    if not ok or not isinstance(result, dict) or "code" not in result:
        notice("error", message or _("The core did not re-process the message."))
    elif result["code"] == "AA":
        notice("ok", _("Re-processed: %(status)s.", status=result["status"]))
    else:
        notice(
            "error",
            _("Still refused at %(field)s: %(reason)s", field=result["location"] or "-", reason=result["reason"]),
        )
    return redirect(url_for("feeds.feeds"))
