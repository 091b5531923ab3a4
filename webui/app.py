"""The app factory.

``create_app(cfg, config_path)`` builds the whole web UI around one
:class:`~webui.runtime.Runtime`. It opens the store itself when not given
one, and a passphrase-locked store is fine: every page then leads to the
unlock page until a manager unlocks it. The core may be down too: the
live hub keeps retrying and the pages say "core not running".

Example:
    >>> from appliance.config import load_config
    >>> app = create_app(load_config(path), path)       # doctest: +SKIP
    >>> app.test_client().get("/login").status_code      # doctest: +SKIP
    200
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException

from appliance.clock import Clock, SystemClock
from appliance.config import Config
from appliance.control import ControlClient
from appliance.errors import ClinicBoxError, StoreLockedError
from appliance.privacy import mask_phone
from appliance.store import Store
from appliance.store.phones import display as phone_display
from webui import auth, i18n, security, settings_labels, ui_text
from webui.blueprints import BLUEPRINTS
from webui.live import LiveHub
from webui.nav import nav_items
from webui.runtime import EXTENSION, Runtime, runtime
from webui.sessions import LoginThrottle, ServerSessionInterface, SessionStore
from webui.views import render_error

log = logging.getLogger(__name__)

#: What can be opened while the store is passphrase-locked.
OPEN_WHILE_LOCKED = frozenset({"unlock.unlock", "static", "auth.set_language", "health.health"})


def open_store(cfg: Config, clock: Clock) -> Store:
    """Open the clinic's store without a passphrase (it may stay locked)."""
    return Store.open(
        cfg.db_path,
        cfg.paths.key_file,
        clock=clock,
        busy_timeout_ms=cfg.store.busy_timeout_ms,
        media_dir=cfg.media_dir,
    )


def create_app(
    cfg: Config,
    config_path: Path | None = None,
    *,
    store: Store | None = None,
    control: ControlClient | None = None,
    clock: Clock | None = None,
    start_live: bool = True,
) -> Flask:
    """Build the web UI.

    Args:
        cfg: the validated configuration.
        config_path: the clinic's config file; the settings screens validate
            edits against it and write the overlay beside the database.
        store: an open store (tests); opened from ``cfg`` when omitted.
        control: the control client (default: ``cfg.control_socket``).
        clock: time source (default: the store's clock).
        start_live: follow the core's event stream in a background thread.

    Raises:
        StoreError: the database or key file cannot be used.
    """
    clock = clock or (store.clock if store else SystemClock(assume_synced=cfg.clock.assume_synced or cfg.simulate))
    store = store or open_store(cfg, clock)
    control = control or ControlClient(cfg.control_socket, timeout=5.0)
    sessions = SessionStore(cfg.web.idle_logout_min * 60, monotonic=clock.monotonic)
    rt = Runtime(
        cfg=cfg,
        config_path=Path(config_path) if config_path else None,
        store=store,
        control=control,
        hub=LiveHub(control),
        sessions=sessions,
        throttle=LoginThrottle(monotonic=clock.monotonic),
        clock=clock,
    )
    here = Path(__file__).parent
    app = Flask("webui", template_folder=str(here / "templates"), static_folder=str(here / "static"))
    app.secret_key = security.load_secret_key(cfg.paths.state_dir)
    app.config.update(
        MAX_CONTENT_LENGTH=cfg.web.max_upload_mb * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=cfg.web.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=cfg.web.behind_tls,
        TEMPLATES_AUTO_RELOAD=False,
        JSON_SORT_KEYS=False,
    )
    app.session_interface = ServerSessionInterface(sessions, secure=cfg.web.behind_tls)
    app.extensions[EXTENSION] = rt
    security.install(app, cfg.web.behind_tls)
    app.before_request(_gate)
    _setup_jinja(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _error_handlers(app)
    if start_live:
        rt.hub.start()
    return app


def _gate() -> Any:
    """Locked store -> unlock page; then the user and their language."""
    rt = runtime()
    g.lang = i18n.choose_language(None)
    if rt.store.locked:
        g.user = None
        if request.endpoint not in OPEN_WHILE_LOCKED:
            if auth.wants_json():
                return {"ok": False, "error": "locked", "message": "the store is locked"}, 503
            return redirect(url_for("unlock.unlock"))
        return None
    response = auth.load_user()
    user = auth.current_user()
    if user is not None:
        g.lang = i18n.choose_language(session.get("lang") or user.language)
    return response


def _setup_jinja(app: Flask) -> None:
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.gettext(s),
        lambda s, p, n: i18n.ngettext(s, p, n),
        newstyle=True,
    )
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True

    def tz() -> ZoneInfo:
        return ZoneInfo(runtime().cfg.clinic.timezone)

    env.filters["dt"] = lambda v, fmt="medium": i18n.fmt_datetime(v, tz(), fmt)
    env.filters["date"] = lambda v, fmt="medium": i18n.fmt_date(v, tz(), fmt)
    env.filters["time"] = lambda v: i18n.fmt_time(v, tz())
    env.filters["num"] = i18n.fmt_number
    env.filters["pct"] = i18n.fmt_percent
    env.filters["duration"] = i18n.fmt_duration
    env.filters["phone"] = lambda v: _phone(v)
    env.globals["languages"] = i18n.LANGUAGE_NAMES
    env.globals["js_strings"] = ui_text.js_strings
    env.globals["role_label"] = ui_text.role_label
    env.globals["labels"] = ui_text
    env.globals["setting_label"] = settings_labels.label
    env.globals["setting_choice"] = settings_labels.choice

    @app.context_processor
    def _globals() -> dict[str, Any]:
        rt = runtime()
        user = auth.current_user()
        lang = i18n.current_language()
        return {
            "user": user,
            "lang": lang,
            "html_lang": i18n.HTML_LANG.get(lang, "en"),
            "nav": nav_items(user),
            "clinic_name": rt.cfg.clinic.name,
            "core": rt.hub.core_state(),
            "store_locked": rt.store.locked,
        }


def _phone(value: str | None) -> str:
    if not value:
        return ""
    if value == "erased":
        return i18n.gettext("erased")
    user = auth.current_user()
    if auth.masks_callers(user):
        return mask_phone(value)
    if value.startswith("+"):
        return phone_display(value, runtime().region)
    return value


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return render_error(exc.code or 500, exc.description if exc.code in (400, 403) else None)

    @app.errorhandler(StoreLockedError)
    def locked(_: StoreLockedError) -> Any:
        return redirect(url_for("unlock.unlock"))

    @app.errorhandler(ClinicBoxError)
    def clinicbox_error(exc: ClinicBoxError) -> Any:
        return render_error(400, str(exc))

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Any:
        log.exception("web request %s %s failed", request.method, request.path)
        return render_error(500)
