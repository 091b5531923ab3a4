"""Who is logged in, and what each role may open.

Every view is declared with :func:`requires` (the roles allowed) or
:func:`public`; a test walks the URL map and fails if one is neither, so a
new route cannot be added without deciding who may use it.

Roles (see :mod:`appliance.store.users`): ``manager`` everything;
``front-desk`` console, dashboard, callbacks, patients, schedule,
voicemail, reminders; ``technician`` diagnostics and the dashboard with
caller numbers masked, never patient data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.errors import NotFoundError, StoreLockedError
from appliance.store.users import User
from webui.runtime import runtime

F = TypeVar("F", bound=Callable[..., Any])

MANAGER = "manager"
FRONT_DESK = "front-desk"
TECHNICIAN = "technician"
ALL_ROLES = (MANAGER, FRONT_DESK, TECHNICIAN)
STAFF = (MANAGER, FRONT_DESK)  # may see patient data

#: Endpoints that do not count as activity for idle logout: what the page
#: scripts fetch on their own (live stream, snapshot polls, the session check,
#: the dashboard's and wallboard's "today" figures every minute), so a page
#: left open still lets its session time out.
PASSIVE_ENDPOINTS = frozenset({"dashboard.stream", "dashboard.snapshot_json", "dashboard.today", "auth.session_state"})
#: Endpoints reachable while a password change is pending.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "auth.session_state", "static"})


def public(fn: F) -> F:
    """Reachable without logging in (login, unlock, static)."""
    fn._cbx_roles = ("*",)  # type: ignore[attr-defined]
    return fn


def requires(*roles: str) -> Callable[[F], F]:
    """Only users with one of ``roles`` may open this view."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return login_redirect()
            if user.role not in roles:
                return forbidden()
            return fn(*args, **kwargs)

        wrapper._cbx_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def wants_json() -> bool:
    return (
        request.headers.get("X-Requested-With") == "fetch"
        or request.accept_mimetypes.best == "application/json"
        or request.path.startswith("/live/")
    )


def login_redirect() -> Any:
    if wants_json():
        return jsonify(ok=False, error="login", message="log in again"), 401
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def forbidden() -> Any:
    from webui.views import render_error

    return render_error(403)


def current_user() -> User | None:
    return g.get("user")


def actor() -> str:
    """Who is acting, for the audit log."""
    user = current_user()
    return user.username if user else f"web:{client_address()}"


def client_address() -> str:
    """The computer making the request (login throttle, audit log).

    Behind nginx this is the forwarded client address: ``clinicbox web``
    has waitress take it from ``X-Forwarded-For`` sent by the loopback
    proxy only (see :func:`appliance.cli.web.proxy_options`).
    """
    return request.remote_addr or "unknown"


def load_user() -> WerkzeugResponse | None:
    """``before_request``: find the session's user; end idle sessions."""
    g.user = None
    uid = session.get("uid")
    if not uid:
        return None
    rt = runtime()
    sid = getattr(session, "sid", "")
    try:
        user = rt.repos.users.get_by_id(int(uid))
    except (NotFoundError, StoreLockedError):
        session.clear()
        return None
    if user.disabled or user.role != session.get("role"):
        session.clear()
        return None
    g.user = user
    if request.endpoint not in PASSIVE_ENDPOINTS:
        rt.sessions.touch(sid)
    if session.get("must_change") and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    return None


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` (new id: no session fixation)."""
    lang = session.get("lang")
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    session["uid"] = user.id
    session["role"] = user.role
    session["lang"] = user.language or lang
    if user.must_change_password:
        session["must_change"] = True


def masks_callers(user: User | None) -> bool:
    """Technicians see no patient data: caller numbers are masked for them."""
    return user is None or user.role == TECHNICIAN
