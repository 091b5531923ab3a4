"""The reminders as a core service: APScheduler wakes, one worker thread acts.

APScheduler (3.11, ``BackgroundScheduler``) is only the alarm clock: an
interval job wakes the dispatcher every ``reminders.interval_s`` seconds
(``misfire_grace_time`` and ``coalesce`` set, so a box that was busy or
suspended runs one catch-up tick, not a burst) and a cron job runs the
nightly planning at ``reminders.plan_time`` in the clinic's time zone.
Both only queue work for the service's own worker thread, which is the
only thread that dispatches, so the rows never see two dispatchers.
Call results (PJSUA2 thread), SMS status events and bus events are
queued for the same thread.

The dialer is chosen in config: the switchboard, or the shipped
simulator (:class:`~appliance.switchboard.fake.FakeSwitchboard`) with
``reminders.dialer = "simulator"``; the composition root builds it
(:func:`appliance.app.reminder_dialer`) and hands it in. A reloaded config
comes through :meth:`ReminderService.reconfigure`, and the worker follows it
before its next job.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from appliance.clock import Clock
from appliance.config import Applied, Config
from appliance.control import CommandTable
from appliance.errors import ClinicBoxError
from appliance.events import Event, EventBus
from appliance.ivr.prompts import PromptRef
from appliance.reminders.commands import register_pause_commands
from appliance.reminders.dispatcher import Dialer, Dispatcher
from appliance.reminders.followup_replies import FollowUpReplies
from appliance.reminders.inbox import ReplyHandler
from appliance.reminders.outcomes import OutcomeWriter
from appliance.reminders.replanning import ReminderPlanner
from appliance.reminders.sms_delivery import SmsSender
from appliance.reminders.wording import refs as static_refs
from appliance.store.connection import Store
from appliance.store.repos import Repos, make_repos

log = logging.getLogger(__name__)

STATUS_FILE = "reminders-status.json"
PAUSED_KEY = "reminders.paused"
#: What a reload changes at once; the scheduler's time zone and grace, and the dialer, are set at start.
LIVE = ("reminders", "clinic", "modem.sms_per_minute", "followup", "contact.include_reason")
RESTART = (
    "reminders.enabled",
    "reminders.dialer",
    "reminders.simulator",
    "reminders.misfire_grace_s",
    "clinic.timezone",
)


class LibraryPrompts:
    """Makes sure a call's prompts exist before it is placed (espeak-ng; on the worker thread)."""

    def __init__(self, cfg: Config, library: Callable[[], Any]) -> None:
        self.library = library
        self.static = [*static_refs(cfg), PromptRef("invalid")]

    def prepare(self, refs: list[PromptRef], language: str) -> bool:
        lib = self.library()
        missing = [r for r in [*self.static, *refs] if not lib.ready(r, language)]
        return not missing or bool(lib.warm(missing, languages=[language], workers=1).ok)


class ReminderService:
    """Runs reminders in the core. ``from_core`` builds it from the other services."""

    name = "reminders"

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        bus: EventBus,
        store: Store,
        dialer: Dialer | None,
        *,
        sms: SmsSender | None = None,
        incoming: Callable[[Any], None] | None = None,
        prompts: Any = None,
        gsm_voice_free: Callable[[], bool] | None = None,
        repos: Repos | None = None,
        status_dir: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.bus = bus
        self.store = store
        self.dialer = dialer
        # Without the core's aggregates (tests, bench), wire the planner's hook as the roots do.
        self.repos = repos or make_repos(cfg, store, [ReminderPlanner(cfg, store.clock).on_appointment_change])
        self.planner = ReminderPlanner(cfg, clock)
        self.writer = OutcomeWriter(self.planner.policy, self.repos.audit, self.repos.appointments)
        self.dispatcher = Dispatcher(
            cfg,
            clock,
            store,
            self.writer,
            dialer,
            sms=sms,
            prompts=prompts,
            gsm_voice_free=gsm_voice_free,
            wake=self.wake,
        )
        self.replies = ReplyHandler(cfg, clock, store, self.writer, self.repos.patients, sms)
        self.followup_replies = FollowUpReplies(cfg, clock, store, self.repos.audit)
        self._register_incoming = incoming
        self.status_path = (status_dir or cfg.paths.run_dir) / STATUS_FILE
        self.scheduler = BackgroundScheduler(
            timezone=self.planner.policy.windows.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.reminders.misfire_grace_s},
        )
        self._jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._tick_pending = threading.Event()
        self._thread = threading.Thread(target=self._work, name="reminders", daemon=True)
        self._unsubscribe: list[Callable[[], None]] = []
        self._recovered = False
        self._reloaded: Config | None = None
        self._last_status: dict[str, Any] = {}
        self.last_plan = ""

    @classmethod
    def from_core(
        cls, cfg: Config, clock: Clock, bus: EventBus, store: Store, dialer: Any, modem: Any = None
    ) -> ReminderService:
        """The service as the core runs it, the modem used as config says.

        Args:
            dialer: what places the calls, as ``reminders.dialer`` chose it
                (:func:`appliance.app.reminder_dialer`): the switchboard, whose
                prompt library the reminder prompts come from, or the simulator.
        """
        prompts = None
        if cfg.reminders.dialer != "simulator" and dialer is not None:
            switchboard = dialer
            prompts = LibraryPrompts(cfg, lambda: switchboard.library)
        sms = modem if modem is not None and cfg.modem.enabled else None
        free = (lambda: modem.failover.voice_capacity() > 0) if sms is not None else None
        return cls(
            cfg,
            clock,
            bus,
            store,
            dialer,
            sms=sms,
            incoming=sms.on_incoming if sms is not None else None,
            prompts=prompts,
            gsm_voice_free=free,
        )

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        start = getattr(self.dialer, "start", None)
        if self.cfg.reminders.dialer == "simulator" and start is not None:
            start()
        if self._register_incoming is not None:
            self._register_incoming(self.replies)
            self._register_incoming(self.followup_replies)
        self._unsubscribe = [
            self.bus.subscribe(self._on_event, "reminders."),
            self.bus.subscribe(self._on_event, "store.unlocked"),
            self.bus.subscribe(self._on_event, "modem.sms.status"),
            self.bus.subscribe(self._on_event, "failover.changed"),
            self.bus.subscribe(self._on_event, "trunk."),
        ]
        self._thread.start()
        if not self.store.locked:
            self._jobs.put("startup")
        r = self.cfg.reminders
        hh, mm = (int(x) for x in r.plan_time.split(":"))
        self.scheduler.add_job(self.wake, "interval", seconds=r.interval_s, id="reminders-dispatch")
        self.scheduler.add_job(
            lambda: self._jobs.put("plan"), "cron", hour=hh, minute=mm, id="reminders-plan", misfire_grace_time=3600
        )
        self.scheduler.start()
        log.info("reminders running (dialer: %s)", r.dialer)

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        stop = getattr(self.dialer, "stop", None)
        if self.cfg.reminders.dialer == "simulator" and stop is not None:
            stop()
        with contextlib.suppress(OSError):
            self.status_path.unlink()

    def healthy(self) -> bool:
        return self._thread.is_alive() and self.scheduler.running

    def register_commands(self, table: CommandTable) -> None:
        """``reminders.pause`` and ``reminders.resume`` (the worker hears them on the bus)."""
        register_pause_commands(table, self.bus)

    def reconfigure(self, cfg: Config) -> Applied:
        """Take a reloaded config (any thread): the worker follows it before its next job."""
        applied = Applied.sort_out(self._reloaded or self.cfg, cfg, live=LIVE, restart=RESTART)
        self._reloaded = cfg
        self._jobs.put("config")
        return applied

    def wake(self) -> None:
        """Ask the worker for a dispatcher tick (any thread; ticks never pile up)."""
        if not self._tick_pending.is_set():
            self._tick_pending.set()
            self._jobs.put("tick")

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.kind == "modem.sms.status":
            self.dispatcher.on_sms_status(int(event.data.get("sms_id", 0)), str(event.data.get("status", "")))
        elif event.kind == "reminders.paused" or event.kind == "reminders.resumed":
            self._jobs.put(event.kind)
        elif event.kind == "store.unlocked":
            self._jobs.put("startup")
        else:
            self.wake()

    # -- the worker thread --------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._run(job)
            except ClinicBoxError as exc:
                log.error("reminders: %s failed: %s", job, exc)
            except Exception:
                log.exception("reminders: %s crashed", job)
            self._write_status()

    def _follow_config(self) -> None:
        """Follow the config :meth:`reconfigure` handed in (``config.reload``: web UI settings)."""
        new = self._reloaded
        if new is None or new is self.cfg:
            return
        old, self.cfg = self.cfg, new
        self.planner.reconfigure(new)
        self.writer.policy = self.planner.policy
        self.dispatcher.reconfigure(new)
        self.replies.cfg = new
        self.followup_replies.cfg = new
        for hook in [*self.repos.appointments.hooks, *self.repos.importer.hooks]:
            owner = getattr(hook, "__self__", None)
            if isinstance(owner, ReminderPlanner):
                owner.reconfigure(new)
        r = new.reminders
        if self.scheduler.running and (r.interval_s, r.plan_time) != (
            old.reminders.interval_s,
            old.reminders.plan_time,
        ):
            hh, mm = (int(x) for x in r.plan_time.split(":"))
            self.scheduler.reschedule_job("reminders-dispatch", trigger="interval", seconds=r.interval_s)
            self.scheduler.reschedule_job("reminders-plan", trigger="cron", hour=hh, minute=mm)
        log.info("reminders follow the reloaded configuration")
        self._plan()

    def _run(self, job: str) -> None:
        self._follow_config()
        if job == "tick":
            self._tick_pending.clear()
            if self._recovered:
                self.dispatcher.tick()
        elif job == "startup" and not self._recovered and not self.store.locked:
            self.dispatcher.paused = bool(self.repos.settings.get(PAUSED_KEY, False))
            if self.dispatcher.paused:
                mirror = getattr(self.dialer, "set_reminders_paused", None)
                if mirror is not None:
                    mirror(True)
            self.dispatcher.recover()
            self._recovered = True
            self._plan()
            self.dispatcher.tick()
        elif job == "plan":
            self._plan()
        elif job in ("reminders.paused", "reminders.resumed"):
            paused = job == "reminders.paused"
            self.dispatcher.paused = paused
            if not self.store.locked and bool(self.repos.settings.get(PAUSED_KEY, False)) != paused:
                self.repos.settings.set(PAUSED_KEY, paused, "control")
            log.info("reminders %s", "paused" if paused else "resumed")
            if not paused:
                self.wake()

    def _plan(self) -> None:
        if self.store.locked:
            return
        if not self.clock.sync_state().trusted:
            log.warning("nightly reminder planning skipped: the clock is not trusted yet")
            return
        self.last_plan = str(self.planner.plan_horizon(self.store))

    def _write_status(self) -> None:
        status = {**self.dispatcher.status(), "last_plan": self.last_plan}
        if status == self._last_status:
            return
        self._last_status = status
        data = {**status, "pid": os.getpid(), "at": self.clock.now().isoformat()}
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.status_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.status_path)
        except OSError as exc:
            log.debug("reminder status not written: %s", exc)


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """The running core's reminder status (doctor, CLI); None when it does not run."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid = int(data.get("pid", 0) or 0)
    return data if pid > 0 and _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True
