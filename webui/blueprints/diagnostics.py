"""Diagnostics for technicians and managers: line status, capacity, doctor checks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from webui import auth
from webui.auth import MANAGER, TECHNICIAN, requires
from webui.runtime import runtime
from webui.services.diagnostics import run_doctor

bp = Blueprint("diagnostics", __name__)


@bp.get("/diagnostics")
@requires(MANAGER, TECHNICIAN)
def diagnostics() -> Any:
    rt = runtime()
    return render_template("diagnostics.html", snap=rt.hub.snapshot(), run=None, web=rt.cfg.web)


@bp.post("/diagnostics/doctor")
@requires(MANAGER, TECHNICIAN)
def doctor() -> Any:
    rt = runtime()
    result = run_doctor(rt.cfg)
    rt.repos.audit.record(auth.actor(), "doctor", "box", "", "ok" if result.ok else "failures")
    return render_template("diagnostics.html", snap=rt.hub.snapshot(), run=result, web=rt.cfg.web)
