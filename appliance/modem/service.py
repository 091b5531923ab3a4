"""The modem as a core service: start/stop, status, SMS and voice API.

The core adds :class:`ModemService` to its services when ``modem.enabled``
is set. Config picks the hardware: the shipped simulator on a pty when
``modem.simulate`` or the global ``simulate`` is true, else the USB modem
found by identity. The composition root builds the simulator
(:class:`appliance.modem.sim.Simulation`) and hands it in as
``simulator``, so this module and the driver never import simulator code.
Everything that talks to the modem runs on one worker thread
(:mod:`appliance.modem.worker`); the methods here only queue work, so the
switchboard thread may call them without blocking on serial I/O.

Example:
    >>> svc = ModemService(cfg, bus, store, clock)            # doctest: +SKIP
    >>> svc.start()                                            # doctest: +SKIP
    >>> svc.send_sms("+48601234567", "Wizyta jutro o 10:00")   # doctest: +SKIP
    17
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from appliance.clock import Clock
from appliance.config import Applied, Config
from appliance.errors import ModemBusyError, ModemError
from appliance.events import Event, EventBus, ModemNotifier
from appliance.modem import ModemHardware, ModemSimulation
from appliance.modem.calls import CallSnapshot
from appliance.modem.driver import Modem, PinGuard
from appliance.modem.failover import FailoverPolicy
from appliance.modem.hardware import UsbModemHardware
from appliance.modem.health import RecoveryPolicy
from appliance.modem.powerline import PowerLine
from appliance.modem.smsservice import IncomingHook, SmsService
from appliance.modem.status import ModemStatus, write_status
from appliance.modem.worker import BACKGROUND, VOICE, ModemWorker
from appliance.station.voiceroute import VoiceRoute
from appliance.store.connection import Store
from appliance.store.sms import SmsRepo

log = logging.getLogger(__name__)

#: What the modem takes only at the core's start: which hardware it runs on (the USB
#: modem or the simulator), its power line, the SMS region and the AT trace.
RESTART = (
    "modem.enabled",
    "modem.simulate",
    "modem.simulator_profile",
    "modem.power_gpio",
    "modem.power_gpio_active_high",
    "clinic.country",
    "logging.at_trace",
)
#: The rest of ``[modem]`` restarts the modem's worker with the new settings at once
#: (the port is closed and opened again), unless a GSM call is in progress.
LIVE = ("modem",)


class ModemService:
    """The GSM/LTE modem: health, SMS queue, voice line, failover policy.

    Args:
        cfg: the whole config (``[modem]``, ``paths``, ``clinic.country``).
        bus: where ``modem.*`` and ``failover.changed`` events go.
        store: the encrypted store (SMS persistence); may be locked at start.
        clock: time source; its ``offer_network_time`` (SystemClock) gets NITZ time.
        hardware: override the adapter (tests); default chosen by config.
        simulator: the shipped fake to run in simulate mode, built by the
            composition root (:meth:`appliance.modem.sim.Simulation.for_config`;
            tests wrap their own pty simulator to script faults).

    Raises:
        ModemError: config says simulate and no ``simulator`` was handed in.
    """

    name = "modem"

    def __init__(
        self,
        cfg: Config,
        bus: EventBus,
        store: Store | None,
        clock: Clock,
        *,
        hardware: ModemHardware | None = None,
        simulator: ModemSimulation | None = None,
    ) -> None:
        self.cfg = cfg
        self.settings = cfg.modem
        self.bus = bus
        self.notify = ModemNotifier(bus.emit)
        self.store = store
        self.clock = clock
        self.simulated = hardware is None and (self.settings.simulate or cfg.simulate)
        self.simulator = simulator if self.simulated else None
        if self.simulated and self.simulator is None:
            raise ModemError(
                "modem.simulate is on but no simulator was handed in; "
                "build one with appliance.modem.sim.Simulation.for_config(cfg)"
            )
        self.hardware: ModemHardware = hardware or (
            self.simulator.hardware
            if self.simulator is not None
            else UsbModemHardware(self.settings, run_dir=cfg.paths.run_dir)
        )
        offer = getattr(clock, "offer_network_time", None)
        self.offer_time: Callable[[datetime], None] | None = offer if callable(offer) else None
        self.failover = FailoverPolicy(bus, trunk_enabled=cfg.trunk.enabled)
        self.sms: SmsService | None = None
        if store is not None:
            self.sms = SmsService(SmsRepo(store, clock), self.settings, clock, bus, region=cfg.clinic.country)
        self.status = ModemStatus()
        self.last_recovery: dict[str, Any] | None = None
        self._status_lock = threading.Lock()
        skip: tuple[str, ...] = () if self.settings.usb_reset or self.simulated else ("usb-reset",)
        if not self.settings.power_gpio:
            skip += ("power-cut",)
        self.power_line: PowerLine | None = None
        policy = RecoveryPolicy(self.settings.registration_lost_s, self.settings.recovery_cooldown_s, skip)
        self._own_hardware = hardware is None and self.simulator is None
        self._skip = skip
        self.worker = self._worker(cfg, policy)
        self._unsubscribe = bus.subscribe(self._on_store_event, "store.")
        self._reloaded = cfg

    def _worker(self, cfg: Config, policy: RecoveryPolicy) -> ModemWorker:
        guard = PinGuard(cfg.paths.state_dir / "modem-pin.json")
        modem = Modem(self.settings, self.hardware, self._on_urc, pin_guard=guard, trace=cfg.logging.at_trace)
        worker = ModemWorker(self, modem, policy)
        if self.sms is not None:
            self.sms.wake = worker.wake
        return worker

    # -- service protocol ----------------------------------------------------------
    def start(self) -> None:
        if self.simulator is not None:
            self.simulator.start()  # with its control socket, unless it already runs
        self.set_status(state="starting")
        if self.settings.power_gpio and self.power_line is None:
            self.power_line = self._power_line()
        self.worker.start()

    def _power_line(self) -> PowerLine | None:
        """The GPIO line switching the modem's supply (``modem.power_gpio``)."""
        from appliance.board import make_pin_factory

        simulator = self.simulator
        pin = self.settings.power_gpio
        try:
            factory = make_pin_factory(self.cfg.panel.pin_factory, self.simulated)
            line = PowerLine(
                pin,
                active_high=self.settings.power_gpio_active_high,
                off_s=self.settings.power_off_s,
                pin_factory=factory,
                observer=simulator.set_power if simulator is not None else None,
            )
        except Exception as exc:  # a missing chip or a pin in use: the other steps still work
            log.error("modem power line not available: %s", exc)
            self.set_status(power_line=f"GPIO {pin} unavailable: {exc}")
            return None
        self.set_status(power_line=f"GPIO {pin}")
        return line

    def stop(self) -> None:
        self._unsubscribe()
        self.worker.stop()
        if self.power_line is not None:
            self.power_line.close()
            self.power_line = None
        if self.simulator is not None:
            self.simulator.stop()
        self.failover.close()
        self.set_status(state="stopped", registered=False, voice=False)

    def healthy(self) -> bool:
        """The worker thread runs. A missing or broken modem is *not*
        unhealthy: restarting the core would not fix it (doctor reports it)."""
        return self.worker.alive

    def reconfigure(self, cfg: Config) -> Applied:
        """Restart the modem's worker with a changed ``[modem]`` (never during a GSM call).

        What :data:`RESTART` names waits for the core's restart; so does every
        modem change while the GSM line is in a call (that call is not cut).
        """
        result = Applied.sort_out(self._reloaded, cfg, live=LIVE, restart=RESTART)
        self._reloaded = cfg
        if not result.applied:
            return result
        with self.worker.tracker_lock:
            busy = self.worker.tracker.busy
        if busy:
            log.warning("modem settings changed during a GSM call: they wait for a restart")
            return Applied(restart=[*result.applied, *result.restart])
        self._restart_worker(cfg)
        return result

    def _restart_worker(self, cfg: Config) -> None:
        log.info("modem: restarting with the new settings")
        self.set_status(state="starting")
        self.worker.stop()  # the port is closed; SMS waiting to be sent stay in the store
        self.settings = cfg.modem
        if self.sms is not None:
            self.sms.settings = cfg.modem
        if self._own_hardware:
            self.hardware = UsbModemHardware(self.settings, run_dir=cfg.paths.run_dir)
        policy = RecoveryPolicy(self.settings.registration_lost_s, self.settings.recovery_cooldown_s, self._skip)
        self.worker = self._worker(self.cfg, policy)
        self.worker.start()

    # -- SMS ---------------------------------------------------------------------------
    def send_sms(
        self, number: str, text: str, reminder_attempt_id: int | None = None, patient_id: int | None = None
    ) -> int:
        """Queue an SMS (see :meth:`SmsService.send_sms`); returns its ``sms_messages`` id."""
        return self._sms().send_sms(number, text, reminder_attempt_id, patient_id)

    def on_incoming(self, hook: IncomingHook) -> None:
        """Register a hook for received SMS (see :meth:`SmsService.on_incoming`)."""
        self._sms().on_incoming(hook)

    def _sms(self) -> SmsService:
        if self.sms is None:
            raise ModemError("SMS needs the store; the modem service was started without one")
        return self.sms

    def sms_ready(self) -> bool:
        return self.sms is not None and self.store is not None and not self.store.locked

    # -- voice -------------------------------------------------------------------------
    def dial(self, number: str) -> Future[None]:
        """Call ``number`` on the GSM line. The future resolves when the modem
        accepted the dial command; progress comes as ``modem.call.state``.

        Raises:
            ModemBusyError: the modem is not ready or its one line is in use.
        """
        if not self.worker.ready:
            raise ModemBusyError(f"the GSM modem is not ready ({self.status.state})")
        if not self.worker.voice_offered:
            raise ModemBusyError(f"GSM calls are not offered on this modem ({self._voice_text()})")
        if self.worker.tracker.busy:
            raise ModemBusyError("the GSM line is already in a call")

        def job() -> None:
            self.worker.modem.dial(number)
            with self.worker.tracker_lock:
                events = self.worker.tracker.dialed(number)
            self.publish(events)

        return self.worker.submit(job, VOICE)

    def answer(self) -> Future[None]:
        """Answer the ringing GSM call."""

        def job() -> None:
            self.worker.modem.answer()
            with self.worker.tracker_lock:
                events = self.worker.tracker.answered()
            self.publish(events)

        return self.worker.submit(job, VOICE)

    def hangup(self) -> Future[None]:
        """End the GSM call (or reject the ringing one)."""

        def job() -> None:
            self.worker.voice.ended()  # SIMCom: AT+CPCMREG=0 before the hang-up
            self.worker.modem.hangup()
            with self.worker.tracker_lock:
                events = self.worker.tracker.hung_up()
            self.publish(events)

        return self.worker.submit(job, VOICE)

    def send_dtmf(self, digits: str) -> Future[None]:
        """Send DTMF tones on the active GSM call."""
        return self.worker.submit(lambda: self.worker.modem.dtmf(digits), VOICE)

    def call_state(self) -> CallSnapshot:
        with self.worker.tracker_lock:
            return self.worker.tracker.snapshot()

    def voice_route(self) -> VoiceRoute:
        """How a call's voice reaches the GSM gateway (named on each INVITE to it)."""
        return self.worker.voice.route()

    def _voice_text(self) -> str:
        path = self.worker.voice.path
        return path.describe() if path is not None else "voice path not set up yet"

    # -- status and events ---------------------------------------------------------------
    def set_status(self, **changes: Any) -> None:
        """Update the status; publish ``modem.status`` when something users see changed."""
        with self._status_lock:
            old = self.status
            new = old.with_(**changes, last_recovery=self.last_recovery)
            self.status = new
            write_status(self.cfg.paths.run_dir, new)
        if new.key() != old.key():
            log.info(
                "modem %s (registered=%s, signal %d/5, %s)", new.state, new.registered, new.signal, new.operator or "-"
            )
            self.notify.status(**new.event_data())

    def recovery_event(self, *, step: str, reason: str, outcome: str) -> None:
        self.last_recovery = {"step": step, "reason": reason, "outcome": outcome, "at": time.time()}
        if outcome == "recovered":
            log.warning("modem recovered (%s)", reason)
        self.notify.recovery(step=step, reason=reason, outcome=outcome)
        self.set_status()

    def publish(self, events: list[Event]) -> None:
        for event in events:
            if event.kind == "modem.call.incoming" and not self.worker.voice_offered:
                # No voice path: the call could not be heard, so it is not offered (SMS still work).
                log.warning("GSM call refused: %s", self._voice_text())
                self.hangup()
                continue
            self.bus.publish(event)
            if event.kind == "modem.call.state":
                self.set_status(call=event.data["state"])
                # The family's PCM steps run on the worker (this may be the reader thread).
                if event.data["state"] == "active":
                    self.worker.submit(self.worker.voice.connected, VOICE)
                elif event.data["state"] == "idle":
                    self.worker.submit(self.worker.voice.ended, VOICE)

    def _on_urc(self, line: str, pdu: str | None) -> None:
        self.worker.on_urc(line, pdu)

    def _on_store_event(self, event: Event) -> None:
        if event.kind == "store.unlocked":
            self.worker.submit(self.worker.scan_stored, BACKGROUND)
