"""The switchboard as a service of the core: builds and wires every part.

Start order: store writer, caller-ID lookup, prompt warm-up (background),
the PJSUA2 thread (endpoint, capacity probe, accounts, stations, stored
callbacks), trunk monitor, event publisher. Stop in reverse.
``healthy()`` feeds systemd's watchdog: a stuck PJSUA2 loop stops the
pings and systemd restarts the core. Its control commands: :mod:`.handler`.

Any: 10, a pjsua2 AccountConfig and 9 JSON views, replies and event payloads.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pjsua2 as pj

from appliance.acd import Acd
from appliance.clock import Clock
from appliance.config import Applied, Config
from appliance.control import CommandTable
from appliance.errors import StoreLockedError, SwitchboardError
from appliance.events import Collector, Event, EventBus, EventKind, ModemNotifier, SwitchboardNotifiers
from appliance.events.kinds import QueueChanged
from appliance.faults import Faults
from appliance.ivr import Ivr, PromptLibrary
from appliance.store import Store, callbacks
from appliance.store.audit import AuditLog
from appliance.store.settings import NIGHT_MODE, RuntimeSettings
from appliance.store.timefmt import from_db
from appliance.switchboard import live, trunk_live
from appliance.switchboard import snapshot as snap
from appliance.switchboard.agents import GATEWAY_STATION
from appliance.switchboard.capacity import Capacity
from appliance.switchboard.controller import Controller
from appliance.switchboard.gsm import ModemPort
from appliance.switchboard.handler import ControlHandler
from appliance.switchboard.legs import SbAccount
from appliance.switchboard.lookup import CallerLookup
from appliance.switchboard.loop import PjLoop
from appliance.switchboard.provider import ProviderResolver
from appliance.switchboard.scripts import CallResult, CallScript
from appliance.switchboard.siptls import certificate_problem, trunk_host
from appliance.switchboard.trunk import TrunkMonitor
from appliance.switchboard.writer import StoreWriter

log = logging.getLogger(__name__)


def agents_config(cfg: Config) -> Config:
    """The config the ACD sees: every station but the GSM gateway, which is a line, not an agent."""
    return dataclasses.replace(cfg, stations={k: v for k, v in cfg.stations.items() if k != GATEWAY_STATION})


class SwitchboardService:
    name = "switchboard"

    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        bus: EventBus,
        store: Store | None,
        modem: ModemPort | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.cfg = cfg
        #: Parts of the box that failed while it went on (shown in the status snapshot).
        self.faults = faults if faults is not None else Faults()
        self.clock = clock
        self.bus = bus
        self.store = store
        self.started_at = datetime.now(UTC).isoformat()
        self.reminders_paused = False
        self.modem_view: dict[str, Any] = {
            "state": "disabled",
            "registered": False,
            "rssi": None,
            "bars": 0,
            "operator": "",
        }
        self.snapshot: dict[str, Any] = {}
        self._events: queue.Queue[tuple[EventKind, dict[str, Any]] | None] = queue.Queue()
        self._publisher = threading.Thread(target=self._publish_loop, name="sb-events", daemon=True)
        self.notify = SwitchboardNotifiers(self.emit)
        self.loop = PjLoop(cfg)
        self.capacity: Capacity = Capacity(cfg.sip.max_calls, 0, 0, False, False, 0, "")
        self.writer = StoreWriter(store) if store is not None else None
        self.lookup = CallerLookup(cfg, clock)
        self.library = PromptLibrary.from_config(cfg)
        self.trunk = TrunkMonitor(cfg, self.emit)
        self.controller = Controller(
            cfg,
            self.loop,
            clock,
            acd=Acd.from_config(agents_config(cfg), clock),
            ivr=Ivr.from_config(cfg, clock),
            library=self.library,
            writer=self.writer,
            lookup=self.lookup,
            emit=self.emit,
            store=store,
            modem=modem,
            route_for=self.route,  # outgoing calls: the trunk, or the modem's when failover says so
        )
        c = self.controller
        c.on_registration = self.trunk.on_registration
        self.provider = ProviderResolver(  # the provider's address from DNS, re-resolved off this thread
            lambda: self.controller.admission.resolve_target(),
            lambda host, nets: self.loop.submit(self.controller.admission.set_resolved, host, nets),
        )
        self.trunk.on_registered.append(self.provider.kick)
        c.acd.free_lines = c.free_lines  # the ACD rings agents only on a line that is free
        c.acd.can_dial = c.outbound.can_dial  # and calls patients back only when a route is up
        self._free_lines = c.free_lines()
        self._could_dial = False
        self.modem = modem
        self.loop.on_rejected = self.controller.on_rejected
        self.loop.on_tls_checked = lambda rej: self.trunk.on_certificate(
            "" if rej is None else certificate_problem(rej, trunk_host(self.cfg))
        )
        self.loop.on_started.append(self._on_loop_started)
        self.loop.on_tick.append(self._tick)
        self.loop.on_stopping.append(self._on_loop_stopping)
        self._last_second = 0.0
        self._last_summary: QueueChanged | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self.writer is None:
            raise SwitchboardError("the switchboard needs the store")
        self._publisher.start()
        self.writer.start()
        self.lookup.start()
        threading.Thread(target=self._warm_prompts, name="prompt-warm", daemon=True).start()
        self.capacity = self.loop.start()
        self.controller.capacity_allowed = self.capacity.allowed
        self.trunk.start()
        self.provider.start()
        self._unsubscribe = self.bus.subscribe(self._on_bus)
        if self.modem is not None:  # it started first; its status events came before we listened
            replay = Collector()
            ModemNotifier(replay).status(**self.modem.status.event_data())
            for event in replay.take():
                self._on_bus(event)
        self.loop.call(self._rebuild_snapshot)
        log.info("switchboard running: %s", self.capacity.describe())

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.trunk.stop()
        self.provider.stop()
        self.loop.stop()
        self.lookup.stop()
        if self.writer is not None:
            self.writer.stop()
        self._events.put(None)
        self._publisher.join(timeout=3)

    def healthy(self) -> bool:
        return self.loop.healthy() and (self.writer is None or self.writer.healthy())

    def _warm_prompts(self) -> None:
        try:
            report = self.library.warm()
            log.info("prompts ready: %s", report)
        except Exception:
            log.exception("preparing prompts failed; callers hear fallbacks until fixed")

    # -- on the PJSUA2 thread --------------------------------------------------------------
    def _on_loop_started(self) -> None:
        c = self.controller
        cfg = self.cfg
        if self.loop.capacity is not None:  # measured by now: TLS and SRTP are known before start() returns
            self.capacity = self.loop.capacity
        local = SbAccount(c, "local")
        acc = pj.AccountConfig()
        host = cfg.sip.public_address or cfg.sip.bind_address
        acc.idUri = f"sip:clinicbox@{host}:{cfg.sip.port}"
        self._media_config(acc)
        if self.loop.tls_transport is not None and self.loop.udp_transport is not None:
            acc.sipConfig.transportId = self.loop.udp_transport  # calls over TLS go to the trunk (siptls)
        local.create(acc, True)
        c.local = local
        trunk_live.create(self, cfg)
        c.agents.start()
        self._restore_from_store()

    def _restore_from_store(self) -> None:
        """What must survive a restart (loop thread): night mode and callback requests.

        Runs at start-up, or after a manager unlocks a store that was locked then.
        """
        if self.store is None or self.store.locked:
            return
        stored = self._settings(self.store).get(NIGHT_MODE)
        if stored is not None and bool(stored) != self.controller.ivr.night_mode:
            on = bool(stored)
            self.controller.ivr.night_mode = on
            self.controller.dirty = True
            self.notify.box.night_mode(on=on)
            log.info("night mode %s (as it was before the restart)", "on" if on else "off")
        self._requeue_callbacks()

    def _media_config(self, acc: Any) -> None:
        cfg = self.cfg
        tc = acc.mediaConfig.transportConfig
        tc.port = cfg.sip.rtp_port_start
        tc.portRange = cfg.sip.rtp_port_range
        tc.boundAddress = cfg.sip.bind_address if cfg.sip.bind_address != "0.0.0.0" else ""
        if cfg.sip.public_address or cfg.sip.bind_address != "0.0.0.0":
            tc.publicAddress = cfg.sip.public_address or cfg.sip.bind_address
        acc.mediaConfig.lockCodecEnabled = False  # its re-INVITE delays the far end's audio
        acc.natConfig.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
        acc.natConfig.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
        # SRTP: the TLS trunk's accounts only (siptls.secure_trunk_account).

    def _requeue_callbacks(self) -> None:
        """Callback requests survive a restart: back in line at their place."""
        if self.store is None or self.store.locked:
            return
        for req in callbacks.pending_requests(self.store):
            request = req.call_uuid or f"cb{req.id}"
            try:
                self.controller.run(
                    self.controller.acd.add_callback(
                        request,
                        req.queue,
                        req.number,
                        from_db(req.place_at) or self.clock.now(),
                        language=req.language or self.cfg.clinic.default_language,
                        source=req.source,
                    ),
                    "acd",
                )
            except Exception as exc:
                log.warning("callback %s not re-queued: %s", req.id, exc)

    def _tick(self) -> None:
        c = self.controller
        now = time.monotonic()
        if now - self._last_second >= 1.0:
            self._last_second = now
            c.agents.tick()
            live.forget_retired(c.agents)
            self._check_rtp(now)
            could, self._could_dial = self._could_dial, c.outbound.can_dial()
            if self._could_dial and not could:
                c.run(c.acd.lines_freed(), "acd")  # a route came up: callbacks that waited for one go now
            c.dirty = True
        if c.dirty:
            free = c.free_lines()
            if free > self._free_lines:
                c.run(c.acd.lines_freed(), "acd")
            self._free_lines = free
            c.dirty = False
            self._rebuild_snapshot()

    def _check_rtp(self, now: float) -> None:
        limit = self.cfg.sip.rtp_timeout_s
        for call in list(self.controller.calls.values()):
            leg = call.leg
            if call.ended or leg.gone or leg.media is None or not call.answered:
                continue
            count = leg.rx_count()
            if count is None:
                continue
            if count != leg.rx_packets:
                leg.rx_packets, leg.rx_changed_at = count, now
            elif now - leg.rx_changed_at > limit:
                log.warning("call %s: no audio for %d s, hanging up", call.id[:8], limit)
                self.controller.end_call(call, "rtp-timeout")

    def _rebuild_snapshot(self) -> None:
        started = time.perf_counter()
        self.snapshot = snap.build(self)
        self.controller.metrics.snapshot_build.add((time.perf_counter() - started) * 1000)
        summary = snap.panel_summary(self.snapshot)
        if summary != self._last_summary:
            self._last_summary = summary
            self.notify.queue.changed(**summary)

    def _on_loop_stopping(self) -> None:
        c = self.controller
        for call in list(c.calls.values()):
            c.sounds.stop(call)
            c.sounds.music_off(call)
        self.loop.ep.hangupAllCalls()
        self.loop.pump(0.5)
        c.calls.clear()
        c.legs.clear()
        c.music.close()
        for st in c.agents.stations.values():
            st.messenger = None
            st.leg = None
        if c.trunk is not None and self.cfg.trunk.register:
            try:
                c.trunk.setRegistration(False)
                self.loop.pump(0.5)
            except pj.Error:
                pass
        self.loop.keepalive += [a for a in (c.trunk, c.trunk_caller, c.local) if a is not None]
        c.trunk = c.trunk_caller = c.local = None

    # -- events --------------------------------------------------------------------------
    def emit(self, kind: EventKind, /, **data: Any) -> None:
        """Thread-safe; subscribers run on the publisher thread, never on PJSUA2's."""
        self._events.put((kind, data))

    def _publish_loop(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            self.bus.emit(item[0], **item[1])

    def _on_bus(self, event: Event) -> None:
        if event.kind == "modem.status":
            data = dict(event.data)
            if "signal" in data:
                data["bars"] = data["signal"]  # the snapshot's name for 0-5 bars
            self.modem_view = {**self.modem_view, **data}
            self.controller.dirty = True
        elif event.kind == "failover.changed":
            self.controller.dirty = True
        elif event.kind == "modem.call.incoming":
            number = str(event.data.get("number", ""))
            self.loop.submit(self.controller.gsm.incoming, number)
        elif event.kind == "modem.call.waiting":
            self.loop.submit(self.controller.gsm.waiting, str(event.data.get("number", "")))
        elif event.kind == "modem.call.state":
            state, reason = str(event.data.get("state", "")), str(event.data.get("reason", ""))
            self.loop.submit(self.controller.gsm.modem_state, state, reason)
        elif event.kind == "panel.night_mode":
            self.loop.submit(self.set_night_mode, bool(event.data.get("on")))
        elif event.kind in ("reminders.paused", "reminders.resumed"):  # the reminders' own commands
            self.reminders_paused = event.kind == "reminders.paused"
            self.controller.dirty = True
        elif event.kind == "store.unlocked":  # a manager unlocked it (the core's store.unlock)
            self.controller.dirty = True
            self.loop.submit(self._restore_from_store)
        elif event.kind == "panel.answer_next":
            station = str(event.data.get("station", ""))
            self.loop.submit(self._answer_next, station)

    def _answer_next(self, station: str) -> None:
        try:
            self.controller.console.answer(station)
        except SwitchboardError as exc:
            log.info("answer-next button: %s", exc)

    def route(self) -> str:
        """Where outgoing calls go: the failover policy's choice when a modem exists."""
        if self.modem is not None:
            return str(self.modem.failover.route())
        if self.trunk.state in ("disabled", "down"):
            return "none"
        return "trunk"

    # -- the API other services use (any thread) -----------------------------------------------
    def place_call(
        self,
        number: str,
        script: CallScript,
        on_result: Callable[[CallResult], None],
        *,
        purpose: str = "reminder",
        language: str | None = None,
        patient_id: int | None = None,
        ring_s: float = 45.0,
        timeout: float = 5.0,
    ) -> str:
        """Dial ``number`` and run ``script`` on the answered call; returns the call id.

        Raises:
            CapacityError: no line free. SwitchboardError: no route, bad number, not running.
        """
        runner = self.controller.reminders
        return str(
            self.loop.call(
                lambda: runner.place(
                    number, script, on_result, purpose=purpose, language=language, patient_id=patient_id, ring_s=ring_s
                ),
                timeout=timeout,
            )
        )

    def lines(self) -> dict[str, int]:
        """For the reminder dialer's line budget: what is in use and who waits, now.

        Read on the PJSUA2 thread rather than from the last snapshot: a
        reminder's result wakes the dispatcher right after its line frees,
        before the snapshot catches up, and the next patient should be
        dialled on that line at once, not at the next tick.
        """
        try:
            return self.loop.call(self._lines_now)  # type: ignore[no-any-return]
        except Exception:
            snapshot = self.snapshot  # the switchboard is stopping: the last picture will do
            return {
                "allowed": self.capacity.allowed,
                "in_use": snapshot.get("capacity", {}).get("in_use", 0),
                "waiting": sum(1 for q in snapshot.get("queues", []) for w in q["waiting"] if not w["virtual"]),
                "reminder_calls": sum(1 for c in snapshot.get("calls", []) if c.get("purpose") == "reminder"),
            }

    def _lines_now(self) -> dict[str, int]:
        c = self.controller
        waiting = sum(1 for q in c.acd.snapshot().queues for w in q.callers if w.state not in ("callback", "dialing"))
        return {
            "allowed": self.capacity.allowed,
            "in_use": c.legs_in_use(),
            "waiting": waiting,
            "reminder_calls": sum(1 for call in c.calls.values() if call.purpose == "reminder" and not call.ended),
        }

    # -- commands ----------------------------------------------------------------------------
    def set_night_mode(self, on: bool) -> dict[str, Any]:
        self.controller.ivr.night_mode = on
        self.controller.dirty = True
        self.notify.box.night_mode(on=on)
        if self.writer is not None and self.store is not None:
            settings = self._settings(self.store)
            self.writer.db(lambda conn: settings.set_in(conn, NIGHT_MODE, on, "console"))
        return {"night_mode": on}

    @staticmethod
    def _settings(store: Store) -> RuntimeSettings:
        """The audited runtime settings (night mode survives a restart through them)."""
        return RuntimeSettings(store, AuditLog(store))

    def set_reminders_paused(self, paused: bool) -> dict[str, Any]:
        self.reminders_paused = paused
        if paused:
            self.notify.reminders.paused()
        else:
            self.notify.reminders.resumed()
        self.controller.dirty = True
        return {"reminders_paused": paused}

    def edge_registrations(self, registered: dict[str, list[str]]) -> None:
        """From the edge's poller thread: which desk phones are registered (applied on the PJSUA2 thread)."""
        edge_uri = f"127.0.0.1:{self.cfg.sip.port}"
        self.loop.submit(self.controller.agents.edge_registrations, sorted(registered), edge_uri)

    def register_commands(self, table: CommandTable) -> None:
        """The switchboard's control commands (calls, agents, callbacks, night mode) and its snapshot."""
        ControlHandler(self).register(table)

    def reconfigure(self, cfg: Config) -> Applied:
        """Apply a reloaded config; calls in progress are untouched (see :mod:`.live`).

        Raises:
            ValidationError: a change the running switchboard cannot take (a
                URI PJSIP refuses, an agent of an unknown queue); nothing changed.
        """
        old = self.cfg
        self.check(cfg)
        # The monitor first: the new registration's answer may come before loop.call returns.
        self.trunk.reconfigure(cfg, reregister=trunk_live.reregisters(old, cfg))
        self.loop.call(lambda: live.apply(self, old, cfg), timeout=10.0)
        self.provider.kick()
        self.library = PromptLibrary.from_config(cfg)
        self.controller.library = self.library
        threading.Thread(target=self._warm_prompts, name="prompt-warm", daemon=True).start()
        return live.sort_out(old, cfg)

    def check(self, cfg: Config) -> None:
        """Could ``cfg`` apply live? (The core asks every service before any applies.)"""
        self.loop.call(lambda: live.refuse(self, cfg))

    def require_store(self) -> Store:
        if self.store is None or self.store.locked:
            raise StoreLockedError("the store is locked; a manager must unlock it first")
        return self.store

    def store_locked(self) -> bool:
        return self.store is None or self.store.locked
