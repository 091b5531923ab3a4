"""Reminders: upcoming and past attempts, confirmation and no-show rates, freed slots."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from webui import auth
from webui.auth import STAFF, requires
from webui.runtime import runtime
from webui.services import reminders as service

bp = Blueprint("reminders", __name__)

PERIODS = (7, 30, 90, 365)


@bp.get("/reminders")
@requires(*STAFF)
def reminders() -> Any:
    rt = runtime()
    try:
        days = int(request.args.get("days", "30"))
    except ValueError:
        days = 30
    if days not in PERIODS:
        days = 30
    view = service.load(rt.repos, rt.clock.now(), auth.actor(), days=days)
    paused = (rt.hub.snapshot() or {}).get("box", {}).get("reminders_paused")
    return render_template("reminders.html", v=view, days=days, periods=PERIODS, paused=paused)
