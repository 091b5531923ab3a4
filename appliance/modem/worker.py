"""The modem worker thread: the only thread that sends AT commands.

It brings the modem up (find, identify, startup sequence), runs jobs
(voice commands first, then reading SMS, then the rest), polls the call
list during calls, sends due SMS, runs the health check and, when the
modem is hung or off the network, the recovery ladder of
:mod:`appliance.modem.health`. URCs arrive on the reader thread and are
turned into jobs here; nothing on the reader thread waits for the modem.

The worker calls back into the service that owns it only through
:class:`ModemHost` (status, events, the SMS service, clock, time offers,
the power line), the way the switchboard's legs use ``LegEvents``.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from appliance.errors import ModemError, ModemNotFoundError
from appliance.modem.calls import CallTracker
from appliance.modem.driver import Modem, ModemUnresponsiveError, SimProblem
from appliance.modem.health import FAILED, RecoveryPolicy
from appliance.modem.transport import PortBusyError
from appliance.modem.voiceline import VoiceSetup
from appliance.modem.wire import atparse

if TYPE_CHECKING:
    from appliance.clock import Clock
    from appliance.config.modem import ModemSettings
    from appliance.events import Event
    from appliance.modem.powerline import PowerLine
    from appliance.modem.smsservice import SmsService
    from appliance.modem.status import ModemStatus

log = logging.getLogger(__name__)

VOICE, SMS_IN, BACKGROUND = 0, 1, 2

_CALL_URCS = (
    "RING",
    "+CRING",
    "+CLIP",
    "+CCWA",
    "NO CARRIER",
    "BUSY",
    "NO ANSWER",
    "VOICE CALL: END",
    "^CEND",
    "MISSED_CALL",
)
_HELD_MAX = 200
_SIM_STATES = {
    "absent": "no-sim",
    "pin-required": "sim-locked",
    "last-try": "sim-locked",
    "puk": "sim-locked",
    "pin-rejected": "pin-rejected",
}
# What AT+CPIN? says while a SIM problem lasts (a refused PIN leaves the SIM asking for one).
_SIM_ANSWERS = {"pin-rejected": "pin-required", "last-try": "pin-required"}


class ModemHost(Protocol):
    """What the modem service offers its worker (called on the worker and reader threads).

    :class:`~appliance.modem.service.ModemService` is the one host.
    """

    settings: ModemSettings  # the [modem] section: intervals, timeouts, network time
    clock: Clock  # what the recovery policy is judged by
    status: ModemStatus  # as last set through set_status()
    sms: SmsService | None  # the SMS queue, reports and incoming messages (None without a store)
    power_line: PowerLine | None  # the GPIO line switching the modem's supply, when the box has one
    offer_time: Callable[[datetime], None] | None  # where network (NITZ) time goes, when the clock takes it

    def sms_ready(self) -> bool:
        """The SMS service exists and the store is unlocked."""
        ...

    def set_status(self, **changes: Any) -> None:
        """Update the status (and publish ``modem.status`` when users see a change)."""
        ...

    def recovery_event(self, *, step: str, reason: str, outcome: str) -> None:
        """Publish ``modem.recovery`` and remember it for the status."""
        ...

    def publish(self, events: list[Event]) -> None:
        """Publish the call tracker's events."""
        ...


class ModemWorker:
    """Owns the :class:`Modem`; the service talks to it through :meth:`submit`.

    Args:
        host: what the owning :class:`~appliance.modem.service.ModemService`
            offers (status, events, SMS service, clock, time offers).
    """

    def __init__(self, host: ModemHost, modem: Modem, policy: RecoveryPolicy) -> None:
        self.host = host
        self.modem = modem
        self.policy = policy
        self.tracker = CallTracker()
        self.tracker_lock = threading.Lock()
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any], Future[Any]]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_health = 0.0
        self._next_connect = 0.0
        self._connect_backoff = 1.0
        self._next_clcc = 0.0
        self._next_time = 0.0
        self._next_sms = 0.0
        self._sim = "unknown"
        self._last_step = ""  # the recovery step taken last (named when the modem is back)
        self._call_waiting_asked = True  # asked the network for call waiting since the last start-up
        self._sim_detail = ""  # what the last SimProblem said to do; shown while it lasts
        # Direct +CMT/+CDS (modems that cannot store them) that came while the store was locked.
        self._held: deque[tuple[str, int]] = deque(maxlen=_HELD_MAX)
        #: The call's voice path (set up at every start-up, run on this thread).
        self.voice = VoiceSetup(host, modem, self.tracker, self.tracker_lock)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="modem-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.modem.close()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Something is due now (an SMS was queued)."""
        self._next_sms = 0.0
        self._wake.set()

    def submit(self, fn: Callable[[], Any], priority: int = BACKGROUND) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((priority, next(self._seq), fn, future))
        self._wake.set()
        return future

    @property
    def ready(self) -> bool:
        return self.modem.connected and self.host.status.state == "ready"

    @property
    def voice_offered(self) -> bool:
        """The modem's calls have a voice path (else the box offers no GSM calls)."""
        return self.voice.offered

    def _sms(self) -> SmsService:
        """The host's SMS service; only called after ``sms_ready()`` said there is one."""
        sms = self.host.sms
        if sms is None:
            raise ModemError("SMS needs the store; the modem service was started without one")
        return sms

    # -- the loop ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._cycle()
            except Exception:  # the worker must outlive any bug in one cycle
                log.exception("modem worker cycle failed")
                time.sleep(1.0)
        log.info("modem worker stopped")

    def _cycle(self) -> None:
        now = time.monotonic()
        if not self.modem.connected and now >= self._next_connect:
            self._bring_up()
        self._run_jobs(timeout=0.2)
        now = time.monotonic()
        if self.modem.connected and self.tracker.busy and now >= self._next_clcc:
            self._next_clcc = now + 1.0
            self._guard(self._poll_calls)
        if now >= self._next_health:
            self._next_health = now + self.host.settings.health_interval_s
            self._health()
        if self.ready and not self._call_waiting_asked:
            self._call_waiting_asked = True  # once per start-up, on the network
            self.submit(self.modem.activate_call_waiting)
        if self.ready and self.host.sms_ready() and now >= self._next_sms:
            self._next_sms = now + 5.0
            self._guard(lambda: self._sms().send_due(self.modem))
            self._next_sms = now + self._sms().seconds_until_due(5.0)
        if self.ready and self.host.sms_ready() and self._sms().reassembler.pending():
            self._guard(lambda: self._sms().expire(self.modem))
        if self.ready and self.host.settings.network_time and now >= self._next_time:
            self._next_time = now + 3600
            self._offer_time()

    def _run_jobs(self, timeout: float) -> None:
        self._wake.wait(timeout)
        self._wake.clear()
        while not self._stop.is_set():
            try:
                _, _, fn, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)
                if isinstance(exc, ModemError) and not isinstance(exc, SimProblem):
                    self._next_health = min(self._next_health, time.monotonic() + 1.0)

    def _guard(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except ModemError as exc:
            log.warning("modem: %s", exc)
            self._next_health = min(self._next_health, time.monotonic() + 1.0)

    # -- bring-up -----------------------------------------------------------------------
    def _bring_up(self) -> bool:
        """Find, identify and initialise the modem; True when it answers."""
        host = self.host
        try:
            info = self.modem.connect()
        except PortBusyError as exc:
            host.set_status(state="busy", detail=str(exc))
            self._later_connect()
            return False
        except ModemNotFoundError as exc:
            state = "unresponsive" if isinstance(exc, ModemUnresponsiveError) else "absent"
            host.set_status(state=state, detail=str(exc), registered=False, voice=False)
            self._later_connect()
            return False
        host.set_status(
            state="starting", imei=info.imei, model=f"{info.manufacturer} {info.model}".strip(), port=info.port
        )
        self._connect_backoff = 1.0
        try:
            self.modem.initialize()
            self._sim, self._sim_detail = "ready", ""
            self._call_waiting_asked = False
        except SimProblem as exc:
            self._sim, self._sim_detail = exc.sim, str(exc)
            log.error("modem SIM problem: %s", exc)
            host.set_status(state=_SIM_STATES.get(exc.sim, "no-sim"), sim=exc.sim, detail=str(exc), registered=False)
            return True
        except ModemError as exc:
            log.warning("modem start-up failed: %s", exc)
            self.modem.close()
            host.set_status(state="unresponsive", detail=str(exc))
            self._later_connect()
            return False
        if self.voice.prepare(info):
            # It restarts (once) to switch its USB audio on: wait for it as a radio reset
            # is waited for, so the health check does not take the restart for a failure.
            return self._wait_and_reconnect(host.settings.reset_wait_s)
        self._guard(self._refresh)
        if host.sms_ready():
            self._guard(self._scan_stored)
        self._next_time = 0.0
        return True

    def _later_connect(self) -> None:
        self._next_connect = time.monotonic() + self._connect_backoff
        self._connect_backoff = min(30.0, self._connect_backoff * 2)

    def _refresh(self) -> None:
        """Ask the modem for SIM, registration, signal and operator; publish."""
        ns = self.modem.network_status()
        sim = self._sim if ns.sim == _SIM_ANSWERS.get(self._sim, self._sim) else ns.sim
        if sim != self._sim:
            self._sim_detail = ""  # that problem is over (or another one began)
        self._sim = sim
        reg = ns.registration
        registered = bool(reg and reg.registered)
        if sim != "ready":
            state = _SIM_STATES.get(sim, "no-sim")
        else:
            state = "ready" if registered else "searching"
        detail = self._sim_detail or (reg.name if reg else "")
        self.host.set_status(
            state=state,
            sim=sim,
            registered=registered,
            voice=bool(reg and reg.voice) and self.voice_offered,
            signal=ns.signal.bars if ns.signal else 0,
            dbm=ns.signal.dbm if ns.signal else None,
            operator=ns.operator,
            detail=detail,
        )

    # -- health and recovery --------------------------------------------------------------
    def _health(self) -> None:
        responsive = self.modem.connected and self.modem.ping(min(3.0, self.host.settings.command_timeout_s))
        registered: bool | None = None
        if responsive:
            try:
                if self._sim != "ready" and self.modem.sim_state() != _SIM_ANSWERS.get(self._sim, self._sim):
                    # A SIM was inserted or swapped, or turned READY after all: run the
                    # start-up again (it never resends a PIN that did not unlock the SIM).
                    self._bring_up()
                self._refresh()
                registered = self.host.status.registered if self._sim == "ready" else None
            except ModemError as exc:
                log.warning("modem health check failed: %s", exc)
                responsive = False
        verdict = self.policy.check(responsive=responsive, registered=registered, now=self.host.clock.monotonic())
        if verdict.recovered:
            self.host.recovery_event(step=self._last_step, reason=verdict.reason, outcome="recovered")
        if verdict.action:
            self._recover(verdict.action, verdict.reason)
        elif verdict.state == FAILED:
            self.host.set_status(state="failed", detail=verdict.reason)
        elif not responsive:
            self.host.set_status(state="unresponsive", detail=verdict.reason)

    def _recover(self, step: str, reason: str) -> None:
        if step == "radio-reset" and not self.modem.connected:
            # AT+CFUN needs a modem that answers: go straight to the next step.
            verdict = self.policy.check(responsive=False, registered=None, now=self.host.clock.monotonic())
            if verdict.action is None:
                self.host.set_status(state="failed", detail=verdict.reason)
                return
            step = verdict.action
        self._last_step = step
        log.warning("modem recovery: %s (%s)", step, reason)
        self.host.set_status(state="recovering", detail=f"{step}: {reason}")
        self.host.recovery_event(step=step, reason=reason, outcome="started")
        with self.tracker_lock:
            events = self.tracker.hung_up() if self.tracker.busy else []
        self.host.publish(events)
        up = False
        try:
            if step == "reinit":
                self.modem.close()
                up = self._bring_up()
            elif step == "radio-reset":
                self.modem.radio_reset()
                up = self._wait_and_reconnect(self.host.settings.reset_wait_s)
            elif step == "usb-reset":
                self.modem.close()
                self.modem.hardware.power_cycle()
                up = self._wait_and_reconnect(self.host.settings.reset_wait_s)
            else:  # power-cut
                self.modem.close()
                if self.host.power_line is None:
                    raise ModemError("the modem's power line (modem.power_gpio) could not be set up")
                self.host.power_line.cycle()
                up = self._wait_and_reconnect(self.host.settings.reset_wait_s)
        except ModemError as exc:
            log.warning("modem recovery step %s could not run: %s", step, exc)
        if not up:
            self.host.set_status(state="unresponsive", detail=f"{step} did not bring the modem back")
        # Judge the step soon: at once if it failed, after a short settling time if not.
        self._next_health = time.monotonic() + (1.0 if not up else min(5.0, self.host.settings.health_interval_s))

    def _wait_and_reconnect(self, limit: float) -> bool:
        """After a reset the port vanishes and comes back: try until it answers."""
        deadline = time.monotonic() + limit
        time.sleep(0.3)
        while not self._stop.is_set() and time.monotonic() < deadline:
            if self._bring_up():
                return True
            time.sleep(0.5)
        return False

    # -- jobs started by URCs ------------------------------------------------------------
    def on_urc(self, line: str, pdu: str | None) -> None:
        """Reader thread: route a URC (never waits for the modem)."""
        host = self.host
        if line.startswith(_CALL_URCS):
            with self.tracker_lock:
                events = self.tracker.on_urc(line)
            host.publish(events)
            if any(e.kind == "modem.call.waiting" for e in events):
                # One voice line: the second caller hears busy and goes on the callback list.
                self.submit(self._release_waiting, VOICE)
            self._next_clcc = 0.0
            self._wake.set()
        elif line.startswith(("+CMTI:", "+CDSI:")):
            ref = atparse.cmti(line)
            self.submit(lambda: self._read_stored(ref.index, ref.storage), SMS_IN)
        elif line.startswith(("+CMT:", "+CDS:")) and pdu is not None:
            length = atparse.pdu_header_length(line)
            self.submit(lambda: self._accept(pdu, length), SMS_IN)
        elif line.startswith("+CMGS:"):  # the answer to a send that timed out
            try:
                mr = atparse.cmgs(line)
            except atparse.AtParseError:
                log.warning("an unreadable late +CMGS was ignored; that SMS part stays unconfirmed")
                return
            self.submit(lambda: self._late_reference(mr), SMS_IN)
        elif line.startswith(("+CREG:", "+CEREG:", "+CGREG:")):
            self.submit(self._refresh)
        elif line.startswith(("+CTZV", "+CTZE", "+NITZ", "*PSUTTZ", "DST:")):
            self.submit(self._offer_time)
        elif line.startswith("+CUSD:"):
            log.info("USSD answer received (%d chars)", len(atparse.cusd(line).text))
        else:
            log.debug("URC %s", line.split(":")[0])

    def _read_stored(self, index: int, storage: str) -> None:
        if not self.host.sms_ready():
            return  # the store is locked: the message waits in the modem
        storage = "" if storage.upper() in ("", "MT") else storage.upper()
        if storage not in ("", "SM", "ME", "SR"):
            log.warning("a new-message notice named an unknown storage; reading every storage instead")
            self._scan_stored()
            return
        try:
            stored = self.modem.read_stored(index, storage)
        except atparse.AtParseError:
            return
        self._sms().accept_pdu(stored.pdu, stored.length, self.modem, index, storage)

    def _release_waiting(self) -> None:
        try:
            self.modem.release_waiting()
        except ModemError as exc:
            log.warning("could not turn the waiting GSM caller away (%s); they hear ringing until they hang up", exc)

    def _late_reference(self, ref: int) -> None:
        if self.host.sms is not None and self.host.sms_ready():
            self._sms().late_reference(ref)
        else:
            log.warning("a late +CMGS came while the store is locked; that SMS part stays unconfirmed")

    def _accept(self, pdu: str, length: int) -> None:
        if self.host.sms is not None and self.host.sms_ready():
            self._sms().accept_pdu(pdu, length, self.modem)
            return
        if len(self._held) == self._held.maxlen:
            log.warning("the store stayed locked for %d direct SMS/reports; the oldest is dropped", _HELD_MAX)
        self._held.append((pdu, length))
        log.info("an SMS or delivery report came while the store is locked; held until it unlocks")

    def _scan_stored(self) -> None:
        """Messages that arrived while the box was off or the store locked."""
        while self._held:
            pdu, length = self._held[0]
            self._sms().accept_pdu(pdu, length, self.modem)
            self._held.popleft()
        for storage in ("", *self.modem.extra_storages):
            for stored in self.modem.list_stored(storage):
                if stored.stat in (0, 1):
                    self._sms().accept_pdu(stored.pdu, stored.length, self.modem, stored.index, storage)

    def scan_stored(self) -> None:
        """The store unlocked: read what waited (the network need not be up for that)."""
        if self.modem.connected and self._sim == "ready" and self.host.sms_ready():
            self._scan_stored()

    def _poll_calls(self) -> None:
        calls = self.modem.calls()
        with self.tracker_lock:
            events = self.tracker.on_clcc(calls)
        self.host.publish(events)

    def _offer_time(self) -> None:
        if not self.host.settings.network_time or self.host.offer_time is None:
            return
        try:
            moment = self.modem.network_time()
        except ModemError as exc:
            log.info("no network time yet: %s", exc)
            return
        self.host.offer_time(moment)
        log.info("network time offered to the clock")
