"""The live dashboard, the wallboard, and the live-update stream behind them.

``/live/stream`` is a server-sent-event stream fed by the live hub: a
``snapshot`` whenever the core's state changes (within a fraction of a
second), the individual events the console needs (``agent.ringing``...),
``core`` when the core goes away or comes back, and ``session`` when the
user's session ends. Streams do not count as activity for idle logout and
end every few minutes so the browser reconnects and its login is checked
again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from webui import auth
from webui.auth import ALL_ROLES, FRONT_DESK, MANAGER, requires
from webui.i18n import gettext as _
from webui.runtime import runtime
from webui.services import dashboard as dashboard_service
from webui.services import feeds as feeds_service
from webui.services.live import shape_event, shape_snapshot, sse
from webui.views import control, control_json, json_error, json_ok

bp = Blueprint("dashboard", __name__)

STREAM_MAX_S = 300
HEARTBEAT_S = 10


@bp.get("/")
@requires(*ALL_ROLES)
def home() -> Any:
    user = auth.current_user()
    if user is not None and user.role == FRONT_DESK:
        return redirect(url_for("console.console"))
    return redirect(url_for("dashboard.dashboard"))


@bp.get("/dashboard")
@requires(*ALL_ROLES)
def dashboard() -> Any:
    return render_template("dashboard/dashboard.html", view="dashboard")


@bp.get("/wallboard")
@requires(*ALL_ROLES)
def wallboard() -> Any:
    return render_template("dashboard/wallboard.html", view="wallboard")


@bp.get("/dashboard/today")
@requires(*ALL_ROLES)
def today() -> Any:
    """Today's figures as an HTML fragment (refreshed by the page script)."""
    rt = runtime()
    figures = dashboard_service.today(rt.store, rt.clock.now(), ZoneInfo(rt.cfg.clinic.timezone))
    feed = feeds_service.summary(rt.repos, rt.clock.now()) if rt.cfg.feeds.hl7.enabled else None
    edge = None
    if rt.cfg.edge.enabled:  # the SIP edge's figures, read by the core from the edge's RPC
        ok, _message, edge = control(lambda: rt.control.call("edge.status"))
        edge = edge if ok else {"reachable": False, "counters": {}, "registered": []}
    return render_template("dashboard/today.html", t=figures, feed=feed, edge=edge)


@bp.get("/live/snapshot")
@requires(*ALL_ROLES)
def snapshot_json() -> Any:
    """The latest snapshot (for scripts that cannot keep a stream open)."""
    rt = runtime()
    mask = auth.masks_callers(auth.current_user()) or request.args.get("view") == "wallboard"
    return json_ok(core=rt.hub.core_state(), snapshot=shape_snapshot(rt.hub.snapshot(), mask))


@bp.get("/live/stream")
@requires(*ALL_ROLES)
def stream() -> Any:
    rt = runtime()
    if rt.hub.listener_count() >= rt.cfg.web.live_streams:
        return json_error(_("Too many live screens are open; this one refreshes every few seconds."), 503, "busy")
    mask = auth.masks_callers(auth.current_user()) or request.args.get("view") == "wallboard"
    sid = getattr(session, "sid", "")
    sessions = rt.sessions
    hub = rt.hub
    listener = hub.listen()

    def events() -> Iterator[str]:
        with listener:
            yield "retry: 1000\n\n"
            yield sse("core", hub.core_state())
            snap = hub.snapshot()
            if snap is not None:
                yield sse("snapshot", shape_snapshot(snap, mask))
            opened = time.monotonic()
            while True:
                message = listener.get(timeout=HEARTBEAT_S)
                if not sessions.alive(sid):
                    yield sse("session", {"ended": True})
                    return
                if message is None:
                    if time.monotonic() - opened > STREAM_MAX_S:
                        return
                    yield ": keep-alive\n\n"
                    continue
                if message.kind == "snapshot":
                    yield sse("snapshot", shape_snapshot(message.data, mask))
                else:
                    yield sse(message.kind, shape_event(message.data, mask))

    return Response(
        events(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@bp.post("/box/night-mode")
@requires(MANAGER)
def night_mode() -> Any:
    on = request.form.get("on") == "1"
    rt = runtime()
    rt.repos.audit.record(auth.actor(), "night-mode-on" if on else "night-mode-off", "box")
    return control_json(lambda: rt.control.night_mode(on))


@bp.post("/box/reminders")
@requires(MANAGER)
def reminders_pause() -> Any:
    paused = request.form.get("paused") == "1"
    rt = runtime()
    rt.repos.audit.record(auth.actor(), "reminders-pause" if paused else "reminders-resume", "box")
    return control_json(lambda: rt.control.call("reminders.pause" if paused else "reminders.resume"))
