"""Callback list: oldest first, one click to call back, an outcome to close."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from webui import auth
from webui.auth import STAFF, requires
from webui.blueprints.console import my_station
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import callbacks as service
from webui.ui_text import callback_outcomes, callback_results
from webui.views import control_json, json_error

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


@bp.get("")
@requires(*STAFF)
def callbacks() -> Any:
    rt = runtime()
    actor = auth.actor()
    return render_template(
        "callbacks.html",
        items=service.open_callbacks(rt.repos, actor),
        closed=service.recently_closed(rt.repos, rt.clock.now()),
        station=my_station(),
        stations=rt.cfg.stations,
        outcomes=callback_outcomes(),
        results=callback_results(),
    )


@bp.post("/<int:callback_id>/call")
@requires(*STAFF)
def call_back(callback_id: int) -> Any:
    rt = runtime()
    station = request.form.get("station") or my_station()
    if station not in rt.cfg.stations:
        return json_error(_("Choose one of the listed stations."))
    return control_json(lambda: rt.control.originate_callback(callback_id, station))


@bp.post("/<int:callback_id>/close")
@requires(*STAFF)
def close(callback_id: int) -> Any:
    rt = runtime()
    outcome = request.form.get("outcome", "")
    if outcome not in callback_outcomes():
        return json_error(_("Choose an outcome from the list."))
    return control_json(
        lambda: rt.control.call("callback.close", callback_id=callback_id, outcome=outcome, actor=auth.actor())
    )
