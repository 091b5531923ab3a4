"""Helpers every blueprint uses: error pages, JSON replies, control calls.

Views stay thin: parse the request, call a service, render. Messages
shown to people are translated here; messages that come from the
foundation (validation errors, the core's refusals) are shown as they
are, since they name the field or the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, jsonify, render_template, request

from appliance.control import CommandRefused
from appliance.errors import ControlError
from webui.i18n import gettext as _


def error_text(code: int, message: str | None) -> tuple[str, str]:
    titles = {
        400: _("This request could not be handled"),
        403: _("You do not have access to this page"),
        404: _("Not found"),
        405: _("Not allowed"),
        413: _("The file is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
        503: _("Not available right now"),
    }
    details = {
        403: _("Your role does not include this screen. Ask a manager if you need it."),
        404: _("The page or record does not exist (it may have been erased)."),
        413: _("Uploads are limited in size; split the file or ask a technician to raise web.max_upload_mb."),
        500: _("The error was logged. Nothing was saved by this request; try again."),
    }
    if message == "csrf":
        message = _("This form has expired or came from another page. Reload the page and try again.")
    elif message == "cross-site request refused":
        message = _("A request from another web site was refused.")
    return titles.get(code, titles[400]), message or details.get(code, "")


def render_error(code: int, message: str | None = None) -> Any:
    title, detail = error_text(code, message)
    if request.headers.get("X-Requested-With") == "fetch" or request.path.startswith("/live/"):
        return jsonify(ok=False, error=code, message=detail or title), code
    return render_template("error.html", code=code, title=title, detail=detail), code


def json_ok(**data: Any) -> Any:
    return jsonify(ok=True, **data)


def json_error(message: str, status: int = 400, code: str = "refused") -> Any:
    return jsonify(ok=False, error=code, message=message), status


def core_down_message() -> str:
    return _("The ClinicBox core is not running: calls cannot be controlled from here until it is back.")


def control(action: Callable[[], Any]) -> tuple[bool, str, Any]:
    """Run a control-socket command: (ok, message for a person, result)."""
    try:
        return True, "", action()
    except CommandRefused as exc:
        return False, str(exc), None
    except ControlError:
        return False, core_down_message(), None


def control_json(action: Callable[[], Any]) -> Any:
    ok, message, result = control(action)
    if ok:
        return json_ok(result=result)
    return json_error(message, 409 if message != core_down_message() else 503)


def notice(kind: str, message: str) -> None:
    """A message shown once on the next page (kinds: ok, error, info)."""
    flash(message, kind)
