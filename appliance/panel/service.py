"""The panel service: events in, LED patterns out, button presses back onto the bus.

One thread ticks every :data:`TICK_S`: it folds queued bus events into the
panel state, re-checks disk and clock every ``health_interval_s``, looks
for a new provisioning result, renders every LED's pattern onto the pins,
and reads the buttons. Subscribing only queues events (never blocks the
publisher, which may be the PJSUA2 thread).

Buttons publish:

* ``panel.night_mode`` ``{on}``: after holding the night-mode button for
  ``panel.hold_s`` (it toggles; the switchboard forces after-hours routing);
* ``panel.answer_next`` ``{station}``: a press of that station's button.

It also publishes ``panel.leds`` ``{green, amber, red, blue}`` (pattern
names) whenever the patterns change, so a web page can draw the panel of a
simulated box.

Example (what ``appliance.app`` does):
    >>> service = PanelService.from_config(cfg, bus, clock)   # doctest: +SKIP
    >>> service.start()                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from appliance.board import make_pin_factory
from appliance.clock import Clock
from appliance.config import Applied, Config, changed_settings
from appliance.config.panel import PanelSettings
from appliance.errors import PanelError
from appliance.events import Collector, Event, EventBus, EventPrefix, PanelNotifier, StoreNotifier
from appliance.panel import state as panel_state
from appliance.panel.buttons import ButtonSpec, ButtonTracker
from appliance.panel.gpio import GpioPanel
from appliance.panel.health import HealthProbe, ProvisioningWatcher
from appliance.panel.patterns import LEDS, Pattern, Snapshot, lit, show

log = logging.getLogger(__name__)

TICK_S = 0.02
#: How often the provisioning status file is looked at (a stat, normally).
WATCH_S = 0.5
#: Panel settings that wait for the core's restart: the service itself comes and goes
#: with ``enabled``, and the pin library is chosen once per process.
RESTART_KEYS = ("panel.enabled", "panel.pin_factory")
#: Events the panel consumes (prefixes).
CONSUMED: tuple[EventPrefix, ...] = ("trunk.", "failover.", "modem.", "queue.", "store.", "provisioning.")


def open_gpio(settings: PanelSettings, factory: Any) -> GpioPanel:
    """The panel's LEDs and buttons on ``settings``' pins.

    Raises:
        PanelError: a pin cannot be used.
    """
    leds = {
        "green": settings.green_pin,
        "amber": settings.amber_pin,
        "red": settings.red_pin,
        "blue": settings.blue_pin,
    }
    buttons = {spec.name: spec.pin for spec in button_specs(settings)}
    return GpioPanel(leds, buttons, factory, settings.active_high)


def button_specs(settings: PanelSettings) -> list[ButtonSpec]:
    specs = []
    if settings.night_mode_pin:
        specs.append(ButtonSpec("night-mode", settings.night_mode_pin, settings.hold_s))
    for station, pin in sorted(settings.answer_next_pins.items()):
        specs.append(ButtonSpec(f"answer-next:{station}", pin, 0.0))
    return specs


class PanelService:
    """Drives the status LEDs from bus events and publishes button presses.

    Args:
        settings: the ``[panel]`` section.
        bus: the core's event bus.
        clock: monotonic time for blinking, wall time for provisioning results.
        gpio: the pin adapter (:class:`GpioPanel` on the injected pin factory).
        health: disk and clock probe for the red fault blink.
        watcher: provisioning status-file watcher.
        trunk_enabled: whether a missing trunk counts as "no line".
    """

    name = "panel"

    def __init__(
        self,
        settings: PanelSettings,
        bus: EventBus,
        clock: Clock,
        gpio: GpioPanel,
        health: HealthProbe,
        watcher: ProvisioningWatcher,
        trunk_enabled: bool,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.notify = PanelNotifier(bus.emit)
        self.clock = clock
        self.gpio = gpio
        self.health = health
        self.watcher = watcher
        self._state = panel_state.initial(trunk_enabled)
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._unsubscribe: list[Callable[[], None]] = []
        self._trackers = [ButtonTracker(spec, settings.debounce_ms / 1000) for spec in button_specs(settings)]
        self._night_mode = False
        self._next_health = 0.0
        self._next_watch = 0.0
        self._patterns: dict[str, Pattern] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_tick = 0.0
        self._reloaded = settings
        #: The pin factory the pins were opened on (set by from_config): a reload re-opens pins on it.
        self.pin_factory: Any = None
        #: Held for a whole tick, and while a reload swaps the pins.
        self._io = threading.RLock()

    @classmethod
    def from_config(
        cls, cfg: Config, bus: EventBus, clock: Clock, pin_factory: Any = None, store_locked: bool = False
    ) -> PanelService:
        """Build the panel of this box; ``pin_factory`` overrides ``panel.pin_factory``.

        ``store_locked``: the store's state when the panel starts (the core
        announces ``store.locked`` before its services subscribe).

        Raises:
            PanelError: the GPIO library or pins cannot be used.
        """
        settings = cfg.panel
        factory = pin_factory if pin_factory is not None else make_pin_factory(settings.pin_factory, cfg.simulate)
        gpio = open_gpio(settings, factory)
        health = HealthProbe(clock, cfg.paths.state_dir, cfg.store.min_free_mb, settings.disk_fault_percent)
        watcher = ProvisioningWatcher(cfg.paths.state_dir, clock, settings.result_flash_s)
        service = cls(settings, bus, clock, gpio, health, watcher, trunk_enabled=cfg.trunk.enabled)
        service.pin_factory = factory
        if store_locked:
            early = Collector()
            StoreNotifier(early).locked()
            for event in early.take():
                service._events.put(event)
        return service

    # -- what others may read ---------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._state.snapshot

    def patterns(self) -> dict[str, Pattern]:
        with self._lock:
            return dict(self._patterns)

    @property
    def night_mode(self) -> bool:
        return self._night_mode

    def set_night_mode(self, on: bool) -> None:
        """Keep the toggle in step when night mode is switched elsewhere (web UI)."""
        self._night_mode = on

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        for prefix in CONSUMED:
            self._unsubscribe.append(self.bus.subscribe(self._events.put, prefix))
        self._unsubscribe.append(self.bus.subscribe(self._on_night_mode, "box.night_mode"))
        self.step()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="panel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.gpio.set_leds(dict.fromkeys(LEDS, False))
        self.gpio.close()

    def reconfigure(self, cfg: Config) -> Applied:
        """Pins, polarity, buttons, thresholds and timings apply at once (the pins are re-opened
        between two ticks); ``enabled`` and ``pin_factory`` wait for a restart. A pin that
        cannot be opened leaves the panel on its old pins and names the keys as waiting."""
        changed = changed_settings(self._reloaded, cfg.panel, "panel.", depth=1)
        self._reloaded = cfg.panel
        restart = [k for k in changed if k in RESTART_KEYS]
        live = [k for k in changed if k not in RESTART_KEYS]
        if live:
            try:
                self._apply(cfg)
            except PanelError as exc:
                log.error("panel settings %s not applied, the panel keeps its pins: %s", ", ".join(live), exc)
                restart, live = [*restart, *live], []
        if live:
            log.info("panel settings applied: %s", ", ".join(live))
        return Applied(applied=live, restart=restart)

    def _apply(self, cfg: Config) -> None:
        settings = cfg.panel
        if self.pin_factory is None:
            raise PanelError("the panel was built without a pin factory; its pins change at the next start")
        with self._io:
            lit_now = self.gpio.leds()
            self.gpio.close()
            try:
                gpio = open_gpio(settings, self.pin_factory)
            except PanelError:
                self.gpio = open_gpio(self.settings, self.pin_factory)
                self.gpio.set_leds(lit_now)
                raise
            self.gpio = gpio
            self.settings = settings
            self.health = HealthProbe(
                self.clock, cfg.paths.state_dir, cfg.store.min_free_mb, settings.disk_fault_percent
            )
            self.watcher.flash_s = settings.result_flash_s
            self._trackers = [ButtonTracker(spec, settings.debounce_ms / 1000) for spec in button_specs(settings)]
            self._next_health = 0.0
            with self._lock:
                self._patterns = {}  # render every LED on its new pin at the next tick

    def healthy(self) -> bool:
        """A panel thread stuck for 5 s withholds the watchdog ping."""
        if self._thread is None:
            return True
        return self._thread.is_alive() and self.clock.monotonic() - self._last_tick < 5.0

    def _on_night_mode(self, event: Event) -> None:
        if "on" in event.data:
            self._night_mode = bool(event.data["on"])

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.step()
            except Exception:  # the LEDs must keep running whatever one tick hit
                log.exception("panel tick failed")

    # -- one tick ------------------------------------------------------------------
    def step(self) -> None:
        """Fold events, probe health when due, render LEDs, read buttons."""
        with self._io:
            self._step()

    def _step(self) -> None:
        now = self.clock.monotonic()
        self._last_tick = now
        pending = []
        while True:
            try:
                pending.append(self._events.get_nowait())
            except queue.Empty:
                break
        faults = None
        if now >= self._next_health:
            self._next_health = now + self.settings.health_interval_s
            faults = self.health.faults()
        if now >= self._next_watch:
            self._next_watch = now + WATCH_S
            # Published, not folded here: the subscription brings them back next tick,
            # and every other consumer on the bus sees the run too.
            for event in self.watcher.poll():
                self.bus.publish(event)
        with self._lock:
            current = self._state
            for event in pending:
                current = panel_state.apply(current, event, now)
            if faults is not None:
                current = panel_state.with_faults(current, faults)
            self._state = current
            patterns = show(
                current.snapshot, now, tuple(self.settings.wait_thresholds_s), float(self.settings.result_flash_s)
            )
            changed = patterns != self._patterns
            self._patterns = patterns
        self.gpio.set_leds({led: lit(pattern, now) for led, pattern in patterns.items()})
        if changed:
            name = {led: p.name for led, p in patterns.items()}
            self.notify.leds(green=name["green"], amber=name["amber"], red=name["red"], blue=name["blue"])
        self._read_buttons(now)

    def _read_buttons(self, now: float) -> None:
        if not self._trackers:
            return
        levels = self.gpio.pressed()
        for tracker in self._trackers:
            if not tracker.update(levels.get(tracker.spec.name, False), now):
                continue
            if tracker.spec.name == "night-mode":
                self._night_mode = not self._night_mode
                log.info("night-mode button held: night mode %s", "on" if self._night_mode else "off")
                self.notify.night_mode(on=self._night_mode)
            else:
                log.info("answer-next button pressed for station %s", tracker.spec.station)
                self.notify.answer_next(station=tracker.spec.station)
