"""What every view shares: the config, the store, the control client, the live hub.

One :class:`Runtime` per web process, kept in ``app.extensions``. Views reach
it through :func:`runtime`. The config is reloaded here after a settings
screen writes the overlay, so the web process and the core see the same
settings.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from appliance.clock import Clock
from appliance.config import Config, load_config, register_check
from appliance.control import ControlClient
from appliance.ivr import check_prompt_texts
from appliance.reminders import register_prompts
from appliance.reports import ReportRunner
from appliance.store import Store
from appliance.store.repos import Repos, make_repos
from webui.live import LiveHub
from webui.sessions import LoginThrottle, SessionStore

log = logging.getLogger(__name__)

EXTENSION = "clinicbox"


@dataclass
class Runtime:
    """The web process's state. ``config_path`` is ``None`` when the config
    came from code (tests); settings screens then validate against defaults."""

    cfg: Config
    config_path: Path | None
    store: Store
    control: ControlClient
    hub: LiveHub
    sessions: SessionStore
    throttle: LoginThrottle
    clock: Clock
    repos: Repos = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        # A settings save reloads the config: check [prompts.texts] against every package's prompts.
        register_prompts()
        register_check(check_prompt_texts)
        self.repos = self._repos(self.cfg)
        self.reports = ReportRunner(self.store, self.cfg.store.report_cache_mb)

    def _repos(self, cfg: Config) -> Repos:
        """The store's aggregates, with the reminder planner as the appointment hook
        (a booking or import in the web UI re-plans that visit's reminders at once)."""
        from appliance.reminders import ReminderPlanner

        return make_repos(cfg, self.store, [ReminderPlanner(cfg, self.store.clock).on_appointment_change])

    @property
    def region(self) -> str:
        return self.cfg.clinic.country

    def reload_config(self) -> Config:
        """Re-read the config (file + overlay; never the secrets file) after a settings change.

        Raises:
            ConfigError: the files on disk are invalid (the old config stays).
        """
        with self._lock:
            cfg = load_config(self.config_path, use_secrets=False) if self.config_path else self.cfg
            self.cfg = cfg
            self.repos = self._repos(cfg)
            self.sessions.idle_s = cfg.web.idle_logout_min * 60
            log.info("web UI reloaded its configuration")
            return cfg


def runtime() -> Runtime:
    """The current app's runtime (inside a request or app context)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
