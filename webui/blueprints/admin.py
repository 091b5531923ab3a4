"""Users and the audit log (managers only)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for

from appliance.errors import NotFoundError, ValidationError
from appliance.store.users import ROLES, USERNAME
from webui import auth
from webui.auth import MANAGER, requires
from webui.forms import parse_date
from webui.i18n import LANGUAGES
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.views import notice

bp = Blueprint("admin", __name__)

AUDIT_PAGE = 100


@bp.get("/users")
@requires(MANAGER)
def users() -> Any:
    rt = runtime()
    return render_template(
        "admin/users.html", users=rt.repos.users.list(), roles=ROLES, stations=rt.cfg.stations, new_password=None
    )


@bp.post("/users")
@requires(MANAGER)
def add_user() -> Any:
    rt = runtime()
    form = request.form
    station = form.get("station") or None
    language = form.get("language", "en")
    username = form.get("username", "").strip()
    try:
        # Checked here too, so the manager reads why in their own language.
        if not USERNAME.fullmatch(username):
            raise ValidationError(
                _("User names are 2 to 32 letters, digits, '.', '_' or '-', starting with a letter or a digit.")
            )
        if form.get("role", "") not in ROLES:
            raise ValidationError(_("Choose one of the listed roles."))
        if any(u.username == username for u in rt.repos.users.list()):
            raise ValidationError(_("That user name is already taken."))
        if station and station not in rt.cfg.stations:
            raise ValidationError(_("Choose one of the listed stations."))
        if language not in LANGUAGES:
            raise ValidationError(_("Choose one of the listed languages."))
        password = rt.repos.users.add(
            username,
            form.get("role", ""),
            auth.actor(),
            None,
            form.get("display_name", "").strip()[:100],
            language,
            station,
        )
    except ValidationError as exc:
        notice("error", str(exc))
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        users=rt.repos.users.list(),
        roles=ROLES,
        stations=rt.cfg.stations,
        new_password=(username, password),
    )


@bp.post("/users/<username>")
@requires(MANAGER)
def update_user(username: str) -> Any:
    rt = runtime()
    form = request.form
    role = form.get("role")
    station = form.get("station", "")
    language = form.get("language")
    try:
        target = rt.repos.users.get(username)
        if role and role not in ROLES:
            raise ValidationError(_("Choose one of the listed roles."))
        if station and station not in rt.cfg.stations:
            raise ValidationError(_("Choose one of the listed stations."))
        if language is not None and language not in LANGUAGES:
            raise ValidationError(_("Choose one of the listed languages."))
        rt.repos.users.update(
            username,
            auth.actor(),
            role=role or None,
            disabled=form.get("disabled") == "on",
            language=language,
            station=station,
            display_name=form.get("display_name", "").strip()[:100] or None,
        )
    except NotFoundError:
        notice("error", _("No such user."))
    except ValidationError as exc:
        notice("error", str(exc))
    else:
        changed = target.role != (role or target.role) or (form.get("disabled") == "on") != target.disabled
        if changed:
            rt.sessions.drop_user(target.id)
        notice("ok", _("Saved"))
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/password")
@requires(MANAGER)
def reset_password(username: str) -> Any:
    rt = runtime()
    try:
        target = rt.repos.users.get(username)
        password = rt.repos.users.set_password(username, None, auth.actor())
    except NotFoundError:
        notice("error", _("No such user."))
        return redirect(url_for("admin.users"))
    rt.sessions.drop_user(target.id)
    return render_template(
        "admin/users.html",
        users=rt.repos.users.list(),
        roles=ROLES,
        stations=rt.cfg.stations,
        new_password=(username, password),
    )


def _day_start(value: str, tz: ZoneInfo, label: str) -> datetime | None:
    if not value:
        return None
    return datetime.combine(parse_date(value, label), time(0), tz)


@bp.get("/audit")
@requires(MANAGER)
def audit() -> Any:
    rt = runtime()
    args = request.args
    tz = ZoneInfo(rt.cfg.clinic.timezone)
    filters = {
        k: args.get(k, "").strip()[:100] for k in ("actor", "action", "object_type", "object_id", "since", "until")
    }
    try:
        since = _day_start(filters["since"], tz, _("From"))
        until_day = _day_start(filters["until"], tz, _("To"))
        until = until_day + timedelta(days=1) if until_day else None
    except ValidationError as exc:
        notice("error", str(exc))
        since = until = None
    before = args.get("before_id", "")
    entries = rt.repos.audit.search(
        actor=filters["actor"] or None,
        action=filters["action"] or None,
        object_type=filters["object_type"] or None,
        object_id=filters["object_id"] or None,
        since=since,
        until=until,
        limit=AUDIT_PAGE,
        before_id=int(before) if before.isdigit() else None,
    )
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render_template("admin/audit.html", entries=entries, f=filters, older=older, report=None)


@bp.post("/audit/verify")
@requires(MANAGER)
def verify() -> Any:
    rt = runtime()
    report = rt.repos.audit.verify()
    rt.repos.audit.record(auth.actor(), "audit-verify", "audit", "", "intact" if report.ok else "broken")
    filters = dict.fromkeys(("actor", "action", "object_type", "object_id", "since", "until"), "")
    entries = rt.repos.audit.search(limit=AUDIT_PAGE)
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render_template("admin/audit.html", entries=entries, f=filters, older=older, report=report)
