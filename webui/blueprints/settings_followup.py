"""Settings › No-show follow-up text: the SMS per language, its preview and SMS length (managers).

Like the missed-call text's page: "Preview" fills in the submitted texts
without saving; "Save" writes ``followup.texts`` to the overlay (validated
as the box loads it, then applied by the core's ``config.reload``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from webui.auth import MANAGER, requires
from webui.blueprints.settings import overlay, save
from webui.runtime import runtime
from webui.services import followup as service

bp = Blueprint("settings_followup", __name__, url_prefix="/settings")


@bp.route("/followup-texts", methods=["GET", "POST"])
@requires(MANAGER)
def texts() -> Any:
    rt = runtime()
    cfg, now = rt.cfg, rt.clock.now()
    if request.method == "GET":
        return render_template("settings/followup.html", rows=service.rows(cfg, now), version=overlay().version())
    submitted = service.texts_from_form(cfg, {k: str(v) for k, v in request.form.items()})
    version = request.form.get("version", "")
    problems: list[str] = []
    if request.form.get("action") == "save":
        ov = overlay()
        data, _v = ov.read()
        found = save(ov.with_section(data, "followup", {"texts": submitted}), version, "followup.texts")
        if found is None:
            return redirect(url_for("settings_followup.texts"))
        problems = found
    return (
        render_template(
            "settings/followup.html",
            rows=service.rows(cfg, now, submitted),
            version=version,
            problems=problems,
            previewing=True,
        ),
        400 if problems else 200,
    )
