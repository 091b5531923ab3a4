"""Logging in and out, the user's own account (password, language, station)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from appliance.errors import AuthError, ValidationError
from webui import auth
from webui.auth import ALL_ROLES, public, requires
from webui.i18n import LANGUAGES
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import setup
from webui.views import json_ok, notice

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not bounce the user to another site."""
    if not target:
        return url_for("dashboard.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.home")
    return target


def _auth_message(exc: AuthError) -> str:
    text = str(exc)
    if "locked" in text:
        return _("This account is locked after too many failed logins. Try again later or ask a manager.")
    if "disabled" in text:
        return _("This account is disabled. Ask a manager.")
    return _("Wrong user name or password.")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    rt = runtime()
    if auth.current_user() is not None and request.method == "GET":
        return redirect(url_for("dashboard.home"))
    ended = getattr(session, "ended", False)
    error = ""
    status = 200
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:512]
        where = auth.client_address()
        wait = rt.throttle.retry_after(where)
        if wait > 0:
            error = _(
                "Too many failed logins from this computer. Wait %(minutes)s minutes.", minutes=int(wait // 60) + 1
            )
            status = 429
        elif not username or not password:
            error = _("Enter your user name and password.")
            status = 400
        else:
            try:
                user = rt.repos.users.authenticate(username, password, source=f"web:{where}")
            except AuthError as exc:
                rt.throttle.failed(where)
                error = _auth_message(exc)
                status = 401
            else:
                rt.throttle.succeeded(where)
                auth.log_in(user)
                log.info("web login of user id %s", user.id)
                if user.must_change_password:
                    return redirect(url_for("auth.change_password"))
                return redirect(_safe_next(request.args.get("next")))
    return (
        render_template(
            "auth/login.html",
            error=error,
            username=username,
            ended=ended and request.method == "GET",
            setup_open=setup.is_open(rt),
        ),
        status,
    )


@bp.post("/logout")
@requires(*ALL_ROLES)
def logout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    notice("info", _("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def set_language() -> Any:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        user = auth.current_user()
        if user is not None:
            runtime().repos.users.update(user.username, user.username, language=lang)
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/session")
@requires(*ALL_ROLES)
def session_state() -> Any:
    """Polled by the page scripts to notice a logout (no activity counted)."""
    rt = runtime()
    left = rt.sessions.idle_s - rt.sessions.idle_seconds(getattr(session, "sid", ""))
    return json_ok(idle_left_s=max(0, int(left)))


@bp.route("/account", methods=["GET", "POST"])
@requires(*ALL_ROLES)
def account() -> Any:
    rt = runtime()
    user = auth.current_user()
    assert user is not None
    if request.method == "POST":
        lang = request.form.get("language", user.language)
        station = request.form.get("station", "")
        if lang not in LANGUAGES:
            notice("error", _("Choose one of the listed languages."))
        elif station and station not in rt.cfg.stations:
            notice("error", _("Choose one of the listed stations."))
        else:
            rt.repos.users.update(user.username, user.username, language=lang, station=station)
            session["lang"] = lang
            notice("ok", _("Saved"))
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", stations=rt.cfg.stations)


@bp.route("/account/password", methods=["GET", "POST"])
@requires(*ALL_ROLES)
def change_password() -> Any:
    rt = runtime()
    user = auth.current_user()
    assert user is not None
    error = ""
    status = 200
    if request.method == "POST":
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        repeat = request.form.get("repeat", "")
        if new != repeat:
            error, status = _("The two new passwords are not the same."), 400
        elif new == current:
            error, status = _("Choose a password different from the current one."), 400
        else:
            try:
                rt.repos.users.authenticate(user.username, current, source=f"web:{auth.client_address()}")
            except AuthError as exc:
                error, status = _auth_message(exc), 401
            else:
                try:
                    rt.repos.users.set_password(user.username, new, user.username, must_change=False)
                except ValidationError as exc:
                    if "too long" in str(exc):
                        error, status = _("The password is too long (256 characters at most)."), 400
                    else:
                        error, status = _("The password must have at least 10 characters."), 400
                else:
                    session.pop("must_change", None)
                    rt.sessions.drop_user(user.id, keep=getattr(session, "sid", None))
                    notice("ok", _("Your password was changed."))
                    return redirect(url_for("dashboard.home"))
    return render_template("auth/password.html", error=error, forced=bool(session.get("must_change"))), status
