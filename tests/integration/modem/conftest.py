"""Fixtures for modem integration tests: the simulator on a real pty, a real
SQLCipher store, the modem service on the event bus."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import SystemClock
from appliance.config import Config
from appliance.events import Event, EventBus
from appliance.modem import ModemHardware
from appliance.modem.service import ModemService
from appliance.modem.sim import ModemSimulator, PtySimulator, Simulation
from appliance.store import Store
from tests.conftest import clinic_config

FAST = {
    "enabled": True,
    "simulate": True,
    "health_interval_s": 1,
    "command_timeout_s": 1.0,
    "registration_lost_s": 2,
    "recovery_cooldown_s": 30,
    "sms_retry_base_s": 1,
    "sms_retry_max_s": 2,
    "partial_timeout_s": 1,
}


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Events:
    """Collects bus events; waits for the one a test expects."""

    def __init__(self, bus: EventBus) -> None:
        self.items: list[Event] = []
        self._lock = threading.Lock()
        bus.subscribe(self._add)

    def _add(self, event: Event) -> None:
        with self._lock:
            self.items.append(event)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e.data for e in self.items if e.kind == kind]

    def wait(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for data in self.of(kind):
                if all(data.get(k) == v for k, v in match.items()):
                    return data
            return None

        return wait_until(found, timeout, f"{kind} {match}")  # type: ignore[no-any-return]


TRUNK = {"enabled": True, "registrar": "sip:127.0.0.1:5099", "username": "clinic"}


def modem_config(tmp: Path, *, trunk: bool = False, **modem: Any) -> Config:
    """A clinic with the simulated modem (and a SIP trunk, whose state tests publish)."""
    settings = {**FAST, **modem}
    # The modem simulator runs only on a simulated (test) box.
    return clinic_config(
        tmp, simulate=bool(settings["simulate"]), modem=settings, **({"trunk": TRUNK} if trunk else {})
    )


class Rig:
    """A running modem service on a simulator, with its store and bus."""

    def __init__(
        self, cfg: Config, sim: PtySimulator, store: Store, clock: SystemClock, hardware: ModemHardware | None = None
    ) -> None:
        self.cfg, self.sim, self.store, self.clock = cfg, sim, store, clock
        self.bus = EventBus()
        self.events = Events(self.bus)
        self.svc = ModemService(
            cfg, self.bus, store, clock, simulator=Simulation.for_config(cfg, sim), hardware=hardware
        )

    @property
    def modem(self) -> ModemSimulator:
        return self.sim.modem

    def start(self, ready: bool = True) -> Rig:
        self.svc.start()
        if ready:
            wait_until(lambda: self.svc.status.state == "ready", 5, "the modem to be ready")
        return self

    def sms(self, sms_id: int) -> Any:
        assert self.svc.sms is not None
        return self.svc.sms.repo.get(sms_id)


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []
    stores: dict[Path, Store] = {}
    clock = SystemClock(assume_synced=True)

    def make(
        cfg: Config | None = None,
        sim: PtySimulator | None = None,
        start: bool = True,
        hardware: ModemHardware | None = None,
        **modem: Any,
    ) -> Rig:
        cfg = cfg or modem_config(tmp_path, **modem)
        if cfg.db_path not in stores:
            stores[cfg.db_path] = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock)
        sim = sim or PtySimulator(ModemSimulator(pin=cfg.modem.pin))
        rig = Rig(cfg, sim, stores[cfg.db_path], clock, hardware)
        rigs.append(rig)
        return rig.start() if start else rig

    yield make
    for rig in rigs:
        rig.svc.stop()
    for store in stores.values():
        store.close()


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()
