"""First-run setup (``/setup``): the first manager, the clinic, the trunk.

Open without a login, like the unlock page: the one-time setup code is the
credential, and it reaches only someone at the box (its screen,
``clinicbox setup-code`` as root, a USB provisioning report). Every page
here answers 404 as soon as a manager exists, whatever the request
carries, so on a set-up box a scanner finds nothing; before that, wrong
codes are throttled per address and ten in a row void every code.

The claim lives in the browser's server-side session; the answers too,
until the last step writes them all (:func:`webui.services.setup.finish`).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from appliance.errors import ConfigError, SetupCodeError, ValidationError
from webui import auth, i18n
from webui.auth import public
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import settings_forms as forms
from webui.services import setup as svc
from webui.views import control, notice, render_error

log = logging.getLogger(__name__)
bp = Blueprint("setup", __name__, url_prefix="/setup")


def _titles() -> dict[str, str]:
    return {
        "manager": _("The first manager"),
        "clinic": _("The clinic"),
        "trunk": _("The SIP trunk"),
        "finish": _("Check and finish"),
    }


def _state() -> dict[str, Any] | None:
    state = session.get("setup")
    return state if isinstance(state, dict) and state.get("claimed") else None


def _save_state(state: dict[str, Any]) -> None:
    session["setup"] = state


def _page(template: str, step: str, status: int = 200, **extra: Any) -> Any:
    return render_template(template, step=step, steps=svc.STEPS, titles=_titles(), **extra), status


@bp.before_request
def _gone_once_set_up() -> Any:
    """Every setup page is gone once a manager exists: 404, whatever was sent.

    (A POST without the CSRF token is refused before this, with the same
    400 that a POST to any address the box does not have gets.)
    """
    if not svc.is_open(runtime()):
        session.pop("setup", None)
        return render_error(404)
    return None


@bp.route("", methods=["GET", "POST"])
@public
def start() -> Any:
    rt = runtime()
    if _state() is not None and request.method == "GET":
        return redirect(url_for("setup.manager"))
    error = ""
    status = 200
    if request.method == "POST":
        where = "setup:" + auth.client_address()
        wait = rt.throttle.retry_after(where)
        code = request.form.get("code", "")[:64]
        if wait > 0:
            error = _(
                "Too many wrong setup codes from this computer. Wait %(minutes)s minutes.", minutes=int(wait // 60) + 1
            )
            status = 429
        elif not code.strip():
            error, status = _("Enter the setup code."), 400
        else:
            try:
                svc.claim(rt, code)
            except SetupCodeError:
                rt.throttle.failed(where)
                rt.repos.audit.record(f"web:{auth.client_address()}", "setup-code-refused", "box")
                error = _(
                    "That setup code is wrong or was already used. Nothing was changed. "
                    "Get a new code at the box: it is shown on the box's screen after a restart, "
                    "and printed by 'clinicbox setup-code' and in a USB provisioning report."
                )
                status = 401
            else:
                rt.throttle.succeeded(where)
                rt.repos.audit.record(f"web:{auth.client_address()}", "setup-claimed", "box")
                session.regenerate()  # type: ignore[attr-defined]
                _save_state({"claimed": True, "answers": {}})
                return redirect(url_for("setup.manager"))
    return _page("setup/code.html", "code", status, error=error)


def _claimed() -> dict[str, Any] | Any:
    state = _state()
    if state is None:
        notice("error", _("Enter the setup code first."))
        return redirect(url_for("setup.start"))
    return state


@bp.route("/manager", methods=["GET", "POST"])
@public
def manager() -> Any:
    state = _claimed()
    if not isinstance(state, dict):
        return state
    answers = state["answers"]
    previous = answers.get("manager", {})
    if request.method == "GET":
        return _page("setup/manager.html", "manager", answer=previous, errors={})
    answer = svc.check_manager(request.form)
    if answer.errors:
        shown = {"username": answer.username, "display_name": answer.display_name}
        return _page("setup/manager.html", "manager", 400, answer=shown, errors=answer.errors, failed=True)
    answers["manager"] = {
        "username": answer.username,
        "display_name": answer.display_name,
        "password_hash": answer.password_hash,
        "language": i18n.current_language(),
    }
    _save_state(state)
    return redirect(url_for("setup.section", section="clinic"))


@bp.route("/<any(clinic, trunk):section>", methods=["GET", "POST"])
@public
def section(section: str) -> Any:
    rt = runtime()
    state = _claimed()
    if not isinstance(state, dict):
        return state
    answers = state["answers"]
    if "manager" not in answers:
        return redirect(url_for("setup.manager"))
    specs = svc.section_specs(rt.cfg, section)
    if section in answers:
        for spec in specs:
            spec.value = answers[section].get(spec.name, spec.value)
    has_password = bool(state.get("trunk_password"))
    if request.method == "GET":
        return _page("setup/section.html", section, specs=specs, section=section, has_password=has_password)
    values, errors = forms.parse(request.form, specs)
    password = request.form.get("password", "")[:512] if section == "trunk" else ""
    if section == "trunk" and not password and has_password:
        password = str(state["trunk_password"])
    others: list[str] = []
    if not errors:
        errors, others = svc.check_section(rt, section, values, answers, password)
    if errors or others:
        forms.apply_errors(specs, errors, request.form)
        return _page(
            "setup/section.html",
            section,
            400,
            specs=specs,
            section=section,
            has_password=has_password,
            others=others,
            failed=True,
        )
    answers[section] = values
    if section == "trunk":
        state["trunk_password"] = password
    _save_state(state)
    return redirect(url_for("setup.section", section="trunk") if section == "clinic" else url_for("setup.finish"))


@bp.route("/finish", methods=["GET", "POST"])
@public
def finish() -> Any:
    rt = runtime()
    state = _claimed()
    if not isinstance(state, dict):
        return state
    answers = state["answers"]
    for step in ("manager", "clinic", "trunk"):
        if step not in answers:
            return redirect(url_for("setup.manager") if step == "manager" else url_for("setup.section", section=step))
    if request.method == "GET":
        return _page("setup/finish.html", "finish", answers=answers, has_password=bool(state.get("trunk_password")))
    try:
        done = svc.finish(rt, answers, str(state.get("trunk_password", "")), f"web:{auth.client_address()}")
    except svc.SetupClosedError:
        session.pop("setup", None)
        return render_error(404)
    except (ConfigError, ValidationError) as exc:
        problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
        has_password = bool(state.get("trunk_password"))
        return _page("setup/finish.html", "finish", 400, answers=answers, problems=problems, has_password=has_password)
    rt.reload_config()
    control(lambda: rt.control.call("config.reload"))
    auth.log_in(done.user)
    for warning in done.warnings:
        notice("error", warning)
    notice("ok", _("This box is set up. You are logged in as its first manager."))
    log.info("first-run setup finished from %s", auth.client_address())
    return redirect(url_for("dashboard.home"))
