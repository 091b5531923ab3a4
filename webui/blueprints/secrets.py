"""Settings › Secrets (managers): the trunk password, the SIM PIN and the
station passwords.

The web UI never reads the secrets file and never shows a secret back:
it asks the core which secrets are set (``secrets.status``) and hands a
new value to the core (``secrets.set``), which writes the file
atomically and applies it. Every change is audited by who, which secret
and when; the value goes nowhere else (not the log, the audit row, the
page or an error page).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.config.secretfile import MAX_SECRET_CHARS, secret_names, value_problem
from webui import auth
from webui.auth import MANAGER, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.views import control, core_down_message, notice

bp = Blueprint("secrets", __name__, url_prefix="/settings/secrets")


def secret_label(name: str) -> str:
    if name == "trunk.password":
        return _("SIP trunk password")
    if name == "modem.pin":
        return _("SIM PIN of the GSM modem")
    if name == "feeds.calendar.password":
        return _("Password of the shared calendar (CalDAV)")
    station = name.split(".")[1]
    st = runtime().cfg.stations.get(station)
    return _("Password of station %(station)s", station=st.name if st and st.name else station)


def problem_text(code: str) -> str:
    return {
        "empty": _("Enter the new value."),
        "too-long": _("Too long: at most %(n)s characters.", n=MAX_SECRET_CHARS),
        "control": _("Control characters and line breaks are not allowed."),
        "pin": _("A SIM PIN is 4 to 8 digits."),
    }[code]


def _page(status: int = 200, error: str = "", failed: str = "") -> Any:
    rt = runtime()
    ok, message, result = control(lambda: rt.control.call("secrets.status"))
    known = (result or {}).get("secrets", {}) if ok else {}
    rows = [
        {"name": name, "label": secret_label(name), "set": known.get(name) if ok else None}
        for name in secret_names(rt.cfg)
    ]
    return (
        render_template(
            "settings/secrets.html",
            rows=rows,
            core_error="" if ok else message,
            error=error,
            failed=failed,
            max_chars=MAX_SECRET_CHARS,
        ),
        status,
    )


@bp.get("")
@requires(MANAGER)
def index() -> Any:
    return _page()


@bp.post("")
@requires(MANAGER)
def set_secret() -> Any:
    rt = runtime()
    name = request.form.get("name", "")
    value = request.form.get("value", "")
    if name not in secret_names(rt.cfg):
        return _page(400, _("There is no such secret on this box."))
    code = value_problem(name, value)
    if code:
        return _page(400, problem_text(code), failed=name)
    ok, message, result = control(lambda: rt.control.call("secrets.set", name=name, value=value))
    if not ok:
        if message == core_down_message():
            return _page(503, _("Not saved: the ClinicBox core is not running, and only it writes secrets."), name)
        return _page(400, _("Not saved: %(reason)s", reason=message), failed=name)
    rt.repos.audit.record(auth.actor(), "secret-set", "secret", name)
    if name in (result or {}).get("restart", []):  # the core says which settings wait for a restart
        notice(
            "info",
            _(
                "%(secret)s is set. It takes effect when the core restarts; it is never shown again.",
                secret=secret_label(name),
            ),
        )
    else:
        notice("ok", _("%(secret)s is set. It is never shown again.", secret=secret_label(name)))
    return redirect(url_for("secrets.index"))
