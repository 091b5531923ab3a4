"""The composition root of the core: read config, pick real or simulated
adapters, start the services in order, stop them in reverse.

A service is anything with ``name``, ``start()``, ``stop()`` and
``reconfigure(cfg) -> Applied``. The store may be passphrase-locked at
start: services that need it wait for the ``store.unlocked`` event while
calls keep flowing.

The core owns the control socket: it builds the server and its command
table, each service registers the commands it owns (the switchboard its
calls, agents and night mode; the reminders their pause), and the core
answers ``config.reload`` (every service's ``reconfigure`` in turn),
``store.unlock`` (it opened the store) and ``secrets.set`` /
``secrets.status`` (it alone reads and writes the secrets file, see
:mod:`appliance.config.secretfile`) and ``core.restart_when_idle`` (see
:mod:`appliance.idle_restart`) itself. The server starts after every
service and stops before them; it serves only the peers
:func:`control_peers` allows.

The core's modem fake is chosen here (:func:`modem_simulation`); the
short-lived probes of the CLI and the doctor pick theirs in
:mod:`appliance.doctor.modem_hardware`.
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from appliance import setup_code
from appliance.clock import Clock, SystemClock
from appliance.config import Applied, Config, load_config, register_check, secretfile
from appliance.control import CommandTable, ControlServer, PeerPolicy
from appliance.errors import ClinicBoxError, PanelError, SecretRefused, StoreError, ValidationError
from appliance.events import EventBus, StoreNotifier
from appliance.faults import Faults
from appliance.idle_restart import IdleRestart
from appliance.ivr import check_prompt_texts
from appliance.reminders import register_pause_commands, register_prompts
from appliance.sdnotify import notify, watchdog_interval
from appliance.store import Store
from appliance.store.appointments import AppointmentHook
from appliance.store.backup_job import run_backup, run_retention, set_backup_passphrase
from appliance.store.lockfile import StoreLock
from appliance.store.maintenance import recover_interrupted_rekey
from appliance.store.repos import Repos, make_repos

if TYPE_CHECKING:
    from appliance.modem import ModemSimulation

log = logging.getLogger(__name__)


def appointment_hooks(cfg: Config, store: Store) -> list[AppointmentHook]:
    """What runs in every transaction that changes an appointment: the reminder
    planner re-plans (or cancels) that visit's reminders, on the store's clock."""
    from appliance.reminders import ReminderPlanner

    return [ReminderPlanner(cfg, store.clock).on_appointment_change]


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reconfigure(self, cfg: Config) -> Applied: ...


#: What the core itself takes from the config, all at start: which services run,
#: where things live, the store, the clock, logging and the control socket.
CORE_RESTART = (
    "simulate",
    "paths",
    "store",
    "clock",
    "logging",
    "control",
    "modem.enabled",
    "reminders.enabled",
    "panel.enabled",
)


def reminder_dialer(cfg: Config, clock: Clock, switchboard: Any) -> Any:
    """What places the reminder calls: the switchboard, or the shipped simulator.

    ``reminders.dialer = "simulator"`` picks the simulator
    (:class:`~appliance.switchboard.fake.FakeSwitchboard`), which only a
    composition root may build.
    """
    if cfg.reminders.dialer != "simulator":
        return switchboard
    from appliance.switchboard.fake import FakeSwitchboard

    sim = cfg.reminders.simulator
    return FakeSwitchboard(
        clock,
        sim,
        lines=cfg.sip.max_calls,
        dial_log=sim.dial_log or None,
        seed=sim.seed,
        time_scale=sim.time_scale,
    )


class Core:
    """The running box. ``Core(cfg).run()`` blocks until SIGTERM/SIGINT."""

    def __init__(self, cfg: Config, config_path: Path | None = None) -> None:
        # A reload checks [prompts.texts] against every package's prompts.
        register_prompts()
        register_check(check_prompt_texts)
        self.cfg = cfg
        self.started_cfg = cfg  # what the running services were built from
        self.config_path = config_path
        self.clock = SystemClock(assume_synced=cfg.clock.assume_synced or cfg.simulate)
        self.bus = EventBus()
        self.lock = StoreLock(cfg.paths.state_dir)
        self.store: Store | None = None
        self.repos: Repos | None = None
        self.services: list[Service] = []
        self.modem: Any = None
        self.switchboard: Any = None
        self.edge: Any = None
        self._started: list[Service] = []
        self._stop = threading.Event()
        self.commands = CommandTable()
        #: Hardware the box goes on without (the status panel's GPIO), for the status snapshot.
        self.faults = Faults()
        self.commands.register("config.reload", lambda args: self.reload_config())
        self.commands.register("store.unlock", lambda args: self.unlock_store(str(args["passphrase"])))
        self.commands.register("store.backup", self.backup_store)
        self.commands.register("store.retention", self.retain_store)
        self.commands.register("store.backup_passphrase", self.set_backup_passphrase)
        # One long-lived thread for backups and retention: its store connection
        # is reused night after night, and two jobs never overlap.
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-jobs")
        self.commands.register("secrets.set", lambda args: self.set_secret(str(args["name"]), args["value"]))
        self.commands.register("secrets.status", lambda args: {"secrets": secretfile.status(self.cfg)})
        self.restart = IdleRestart(self.calls_in_progress)
        self.commands.register("core.restart_when_idle", self.restart.request)
        self.commands.register("core.restart_status", self.restart.status)
        self.commands.register("core.restart_cancel", self.restart.cancel)
        self.control = ControlServer(
            cfg.control_socket, self.commands, self.bus, cfg.control.socket_group, peers=control_peers(cfg)
        )
        self._control_started = False

    def open_store(self) -> None:
        self.lock.acquire_shared()
        recover_interrupted_rekey(self.cfg.db_path, self.cfg.paths.key_file)
        self.store = Store.open(
            self.cfg.db_path,
            self.cfg.paths.key_file,
            clock=self.clock,
            busy_timeout_ms=self.cfg.store.busy_timeout_ms,
            media_dir=self.cfg.media_dir,
            cache_mb=self.cfg.store.cache_mb,
        )
        self.repos = make_repos(self.cfg, self.store, appointment_hooks(self.cfg, self.store))
        if self.store.locked:
            StoreNotifier(self.bus.emit).locked()
        else:
            StoreNotifier(self.bus.emit).unlocked()

    def build_services(self) -> list[Service]:
        """The services of this box, in start order; stopped in reverse."""
        from appliance.switchboard import SwitchboardService

        services: list[Service] = []
        if self.cfg.modem.enabled:
            from appliance.modem import ModemService

            # Before the switchboard: the modem's failover must hear the first trunk.up/down.
            self.modem = ModemService(self.cfg, self.bus, self.store, self.clock, simulator=modem_simulation(self.cfg))
            services.append(self.modem)
        self.switchboard = SwitchboardService(self.cfg, self.clock, self.bus, self.store, self.modem, self.faults)
        self.switchboard.register_commands(self.commands)
        services.append(self.switchboard)
        if self.cfg.edge.enabled:
            from appliance.edge.link import EdgeLink

            # After the switchboard: it hands the desk phones' registrations to the switchboard's thread.
            self.edge = EdgeLink(self.cfg, self.switchboard.edge_registrations, calls=self.calls_in_progress)
            self.commands.register("edge.status", self.edge.edge_status)
            services.append(self.edge)
        if self.repos is not None and self.store is not None:
            from appliance.waitlist import WaitlistService

            # Before the reminders: a yes to an offer is the offer's, not the patient's reminder's.
            waitlist = WaitlistService(self.cfg, self.clock, self.bus, self.store, self.repos, self.modem)
            waitlist.register_commands(self.commands)
            services.append(waitlist)
        if self.cfg.reminders.enabled and self.store is not None:
            from appliance.reminders import ReminderService

            # After the switchboard and the modem: it dials through one and texts through the other.
            dialer = reminder_dialer(self.cfg, self.clock, self.switchboard)
            reminders = ReminderService.from_core(self.cfg, self.clock, self.bus, self.store, dialer, self.modem)
            reminders.register_commands(self.commands)
            services.append(reminders)
        else:  # the pause is still answered (and shown by the switchboard), as it always was
            register_pause_commands(self.commands, self.bus)
        if self.repos is not None:
            from appliance.feeds.service import FeedService

            # Listens only while feeds.hl7.enabled; built always so a reload can turn it on.
            feeds = FeedService(self.cfg, self.repos, self.clock)
            feeds.register_commands(self.commands)
            services.append(feeds)

        if self.store is not None:
            from appliance.textback import TextBackService

            # After the reminders: their reply hook reads a message first (a reply to a reminder is theirs).
            services.append(TextBackService(self.cfg, self.clock, self.bus, self.store, self.modem))
        if self.cfg.panel.enabled:
            panel = self.build_panel()
            if panel is not None:
                services.append(panel)
        return services

    def build_panel(self) -> Service | None:
        """The status panel, or None when its GPIO cannot be opened.

        The pins were checked with the config (range, none used twice), so
        what fails here is the board: no GPIO chip, a pin held by another
        program, the pin library missing. The box answers calls without its
        LEDs rather than not at all; the fault is logged and shown by
        ``clinicbox doctor`` and the web UI (``box.faults``) for as long as
        this core runs; a restart tries the panel again.
        """
        from appliance.panel import PanelService

        try:
            panel = PanelService.from_config(
                self.cfg, self.bus, self.clock, store_locked=bool(self.store and self.store.locked)
            )
        except PanelError as exc:
            log.error("the status panel is off, calls go on without it: %s", exc)
            self.faults.report("panel", str(exc))
            return None
        return panel

    def start(self) -> None:
        self.cfg.paths.run_dir.mkdir(parents=True, exist_ok=True)
        self.export_station_secrets()
        self.open_store()
        self.services = self.build_services()
        for service in self.services:
            log.info("starting %s", service.name)
            service.start()
            self._started.append(service)
        self.control.start()
        self._control_started = True
        notify("READY=1\nSTATUS=ClinicBox core running")
        log.info("core ready")
        self.announce_setup_code()

    def announce_setup_code(self) -> str | None:
        """While no manager exists, show a new one-time setup code on the box's screen.

        The journal is forwarded to an attached screen (the image's journald
        settings); the code never reaches the web UI. Returns the code.
        """
        if self.store is None or self.store.locked or self.repos is None or self.repos.users.has_manager():
            return None
        code = setup_code.new_code(self.cfg.paths.state_dir, "console")
        log.warning(
            "FIRST START: no manager account yet. Open the web UI's /setup page on this box "
            "(https://<the box's address>/setup) and enter the setup code %s",
            code,
        )
        return code

    def stop(self) -> None:
        notify("STOPPING=1")
        if self._control_started:  # never unlink the socket of a core that runs while this one failed
            self.control.stop()
            self._control_started = False
        for service in reversed(self._started):
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s failed", service.name)
        self._started.clear()
        self._jobs.shutdown(wait=True, cancel_futures=True)
        if self.store is not None:
            self.store.close()
        self.lock.release()

    # -- the core's own commands --------------------------------------------------------
    def reload_config(self) -> dict[str, Any]:
        """``config.reload``: read the config again and hand it to every service in turn.

        Calls in progress are untouched. The answer says which changed settings
        took effect and which wait for a restart.

        Raises:
            ConfigError: the file is invalid; nothing was applied.
        """
        return self._apply(load_config(self.config_path) if self.config_path else self.cfg)

    def _apply(self, new: Config) -> dict[str, Any]:
        """Every service checks ``new`` first (one may refuse: then nothing changed), then takes it."""
        for service in self._started:
            check = getattr(service, "check", None)
            if check is not None:
                check(new)
        results = [Applied.sort_out(self.cfg, new, restart=CORE_RESTART)]
        results += [service.reconfigure(new) for service in self._started]
        self.cfg = new
        self.export_station_secrets()  # a new station's program reads its password from its own file
        merged = Applied.combine(results)
        self.restart.note(merged.restart, self.started_cfg, new)
        return {"reloaded": True, **merged.reply()}

    def calls_in_progress(self) -> int:
        """Calls the switchboard has now (its last snapshot, at most a second old)."""
        if self.switchboard is None:
            return 0
        return len(self.switchboard.snapshot.get("calls", []))

    def set_secret(self, name: str, value: object) -> dict[str, Any]:
        """``secrets.set``: write one secret atomically, then apply it like a reload.

        The value is never logged nor answered back.

        Raises:
            SecretRefused: an unknown name or a value the config refuses; the
                file is unchanged.
        """
        if not isinstance(value, str):
            raise SecretRefused(f"{name}: a secret is text")
        new = secretfile.write_secret(self.cfg, name, value, config_path=self.config_path)
        return {"secret": name, "set": True, **self._apply(new)}

    def export_station_secrets(self) -> None:
        """Give each station its own password file (they cannot read the secrets file)."""
        try:
            written = secretfile.export_station_files(self.cfg)
            removed = secretfile.remove_stale_station_files(self.cfg)  # a removed station's password goes too
        except OSError as exc:
            log.warning("station password files not written or deleted: %s", exc)
            return
        if written:
            log.info("station password files written for %s", ", ".join(written))
        if removed:
            log.info("station password files deleted for %s (station removed)", ", ".join(removed))

    def unlock_store(self, passphrase: str) -> dict[str, Any]:
        """``store.unlock``: the manager's passphrase opens the store; the services hear ``store.unlocked``."""
        if self.store is None:
            raise StoreError("no store")
        self.store.unlock(passphrase)
        StoreNotifier(self.bus.emit).unlocked()
        return {"unlocked": True}

    def backup_store(self, args: dict[str, Any]) -> dict[str, Any]:
        """``store.backup``: an encrypted, verified backup to ``to``: the box's
        backup folder (default), ``"usb"`` (the backup stick plugged in) or an
        absolute path inside one of those (anything else is refused); each
        folder is pruned to ``store.backup_keep``. ``if_present``: with
        ``to = "usb"`` and no stick, answer ``skipped`` instead of failing.
        The outcome is recorded for the doctor.

        Raises:
            ValidationError: a destination that is not a place for backups.
            StoreLockedError: no manager has entered the passphrase since the start.
            StoreError: the backup failed (the message says why).
        """
        store = self.store
        if store is None:
            raise StoreError("no store")
        dest: Path | str | None = None
        if args.get("to"):
            to = str(args["to"])
            if to != "usb" and not Path(to).is_absolute():
                raise ValidationError(f"store.backup: 'to' must be an absolute path or usb, not {to}")
            dest = to if to == "usb" else Path(to)
        job = self._jobs.submit(run_backup, self.cfg, store, dest, "core", bool(args.get("if_present")))
        return job.result()  # type: ignore[no-any-return]

    def set_backup_passphrase(self, args: dict[str, Any]) -> dict[str, Any]:
        """``store.backup_passphrase``: seal the unlocked store key under a manager's
        backup passphrase, carried by every later backup (never logged nor answered)."""
        store = self.store
        if store is None:
            raise StoreError("no store")
        return self._jobs.submit(set_backup_passphrase, self.cfg, store, str(args["passphrase"])).result()  # type: ignore[no-any-return]

    def retain_store(self, args: dict[str, Any]) -> dict[str, Any]:
        """``store.retention``: delete what is past ``[retention]``, audited as ``actor``."""
        store = self.store
        if store is None:
            raise StoreError("no store")
        actor = str(args.get("actor") or "core")
        report = self._jobs.submit(run_retention, self.cfg, store, actor, "core").result()
        return {"report": report}

    def healthy(self) -> bool:
        """All services alive? A service may offer ``healthy()``; a stuck
        switchboard loop stops the watchdog pings and systemd restarts us."""
        for service in self._started:
            check = getattr(service, "healthy", None)
            if check is not None and not check():
                log.error("service %s is unhealthy; withholding the watchdog ping", service.name)
                return False
        return True

    def request_stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        try:
            self.start()
        except ClinicBoxError:
            self.stop()
            raise
        interval = watchdog_interval()
        try:
            while not self._stop.wait(min(0.5, interval or 0.5)):
                if interval and self.healthy():
                    notify("WATCHDOG=1")
                if self.restart.due():  # a manager's "restart when idle": systemd starts us again
                    notify("STATUS=ClinicBox core restarting (settings that wait for a restart)")
                    break
        finally:
            self.stop()
        return 0


def control_peers(cfg: Config) -> PeerPolicy:
    """Who may command the core: root, the core's own user (the web UI runs as
    it on the appliance), members of ``control.socket_group`` and the users in
    ``control.allowed_users``. A station runs as another user and is refused."""
    return PeerPolicy.for_config(cfg.control.socket_group, cfg.control.allowed_users)


def modem_simulation(cfg: Config) -> ModemSimulation | None:
    """The shipped fake modem for the core when config says simulate
    (``modem.simulate`` or the global ``simulate``), else ``None`` (the USB modem).

    The only place the core chooses the simulator: the modem service and
    its driver never import :mod:`appliance.modem.sim`.
    """
    if not (cfg.modem.simulate or cfg.simulate):
        return None
    from appliance.modem.sim import Simulation

    return Simulation.for_config(cfg)
