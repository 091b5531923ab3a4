"""Settings › Missed-call text: the text per language, its preview and SMS length (managers).

"Preview" shows the submitted texts filled in, with their encoding and
parts, without saving; "Save" writes ``textback.texts`` to the overlay like
every other settings screen (validated as the box loads it, then applied
by the core's ``config.reload``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from webui.auth import MANAGER, requires
from webui.blueprints.settings import overlay, save
from webui.runtime import runtime
from webui.services import textback as service

bp = Blueprint("settings_textback", __name__, url_prefix="/settings")


@bp.route("/textback-texts", methods=["GET", "POST"])
@requires(MANAGER)
def texts() -> Any:
    cfg = runtime().cfg
    if request.method == "GET":
        return render_template("settings/textback.html", rows=service.rows(cfg), version=overlay().version())
    form = {k: str(v) for k, v in request.form.items()}
    submitted = service.texts_from_form(cfg, form)
    version = request.form.get("version", "")
    problems: list[str] = []
    if request.form.get("action") == "save":
        ov = overlay()
        data, _v = ov.read()
        found = save(ov.with_section(data, "textback", {"texts": submitted}), version, "textback.texts")
        if found is None:
            return redirect(url_for("settings_textback.texts"))
        problems = found
    status = 400 if problems else 200
    return (
        render_template(
            "settings/textback.html",
            rows=service.rows(cfg, submitted),
            version=version,
            problems=problems,
            previewing=True,
        ),
        status,
    )
