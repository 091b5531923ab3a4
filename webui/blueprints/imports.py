"""CSV import of patients and appointments, with a per-row error report.

By default a file with any bad row imports nothing (and says which rows
and why, never echoing their content); "skip bad rows" imports the good
ones. Re-importing the same file adds no duplicates (see
:mod:`appliance.store.importer`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from appliance.errors import DiskFullError, ImportFileError
from appliance.reminders.ics import IcsImporter, looks_like_ics
from appliance.store.importer import describe_columns
from webui import auth
from webui.auth import MANAGER, requires
from webui.i18n import gettext as _
from webui.runtime import runtime

bp = Blueprint("imports", __name__)

KINDS = ("patients", "appointments")


@bp.route("/import", methods=["GET", "POST"])
@requires(MANAGER)
def imports() -> Any:
    rt = runtime()
    context: dict[str, Any] = {"columns": describe_columns(), "kind": "patients", "report": None, "errors": []}
    if request.method == "GET":
        return render_template("import.html", **context)
    kind = request.form.get("kind", "")
    skip_bad = request.form.get("skip_bad") == "on"
    upload = request.files.get("file")
    context["kind"] = kind if kind in KINDS else "patients"
    context["skip_bad"] = skip_bad
    if kind not in KINDS:
        context["error"] = _("Choose what the file holds: patients or appointments.")
        return render_template("import.html", **context), 400
    if upload is None or not upload.filename:
        context["error"] = _("Choose a CSV file (or, for appointments, an iCalendar .ics file) to import.")
        return render_template("import.html", **context), 400
    data = upload.read()
    try:
        if kind == "patients":
            report = rt.repos.importer.patients(data, auth.actor(), skip_bad=skip_bad)
        elif upload.filename.lower().endswith(".ics") or looks_like_ics(data):  # a calendar export (RFC 5545)
            report = IcsImporter(rt.repos).run(data, auth.actor(), skip_bad=skip_bad)
        else:
            report = rt.repos.importer.appointments(data, auth.actor(), skip_bad=skip_bad)
    except ImportFileError as exc:
        context["errors"] = exc.errors
        context["committed"] = exc.committed
        context["error"] = _("Nothing was imported: fix these rows, or tick “skip bad rows” to import the others.")
        return render_template("import.html", **context), 400
    except DiskFullError as exc:
        context["error"] = str(exc)
        return render_template("import.html", **context), 507
    context["report"] = report
    context["errors"] = report.errors
    return render_template("import.html", **context)
