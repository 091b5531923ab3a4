"""Failover and failback with the running modem service, and the network clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from appliance.clock import SystemClock
from appliance.events import Event
from appliance.modem.sim import Simulation
from tests.integration.modem.conftest import Rig, modem_config, wait_until


def test_trunk_failure_sends_reminders_through_the_modem_and_failback_returns(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = make_rig(cfg=modem_config(tmp_path, trunk=True))
    rig.bus.emit("trunk.up")
    assert rig.svc.failover.route() == "trunk"
    sent_ids: list[int] = []

    def dispatcher(event: Event) -> None:  # stand-in for the reminder dispatcher
        if event.data["route"] == "gsm":
            sent_ids.append(rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00. Odpisz TAK lub NIE"))

    rig.bus.subscribe(dispatcher, "failover.changed")
    started = time.monotonic()
    rig.bus.emit("trunk.down", reason="SIP OPTIONS timeout")
    # At once when the modem is ready; on a loaded machine a slow health check may be
    # recovering it just then, and the route follows within the 10 s allowed.
    wait_until(lambda: rig.svc.failover.route() == "gsm", 10, "the GSM route")
    wait_until(lambda: rig.modem.sent, what="the reminder SMS at the modem")
    assert time.monotonic() - started < 10
    changed = rig.events.of("failover.changed")
    assert changed[-1]["route"] == "gsm" and "SIP OPTIONS timeout" in changed[-1]["reason"]
    rig.bus.emit("trunk.up")
    assert rig.svc.failover.route() == "trunk"
    assert [c["route"] for c in rig.events.of("failover.changed")][-2:] == ["gsm", "trunk"]


def test_gsm_voice_capacity_follows_the_line(rig: Rig) -> None:
    rig.bus.emit("trunk.down", reason="x")
    assert rig.svc.failover.voice_capacity() == 1
    rig.svc.dial("+48221234567").result(3)
    rig.events.wait("modem.call.state", state="dialing")
    assert rig.svc.failover.voice_capacity() == 0 and not rig.svc.failover.reserve_voice()
    rig.svc.hangup().result(3)
    rig.events.wait("modem.call.state", state="idle")
    assert rig.svc.failover.voice_capacity() == 1


class RecordingClock(SystemClock):
    def __init__(self) -> None:
        super().__init__(assume_synced=True)
        self.offered: list[datetime] = []

    def offer_network_time(self, network_now: datetime) -> None:
        self.offered.append(network_now)
        super().offer_network_time(network_now)


def test_network_time_is_offered_to_the_clock(make_rig: Callable[..., Rig], tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(cfg=modem_config(tmp_path), start=False)
    clock = RecordingClock()
    rig.svc = type(rig.svc)(rig.cfg, rig.bus, rig.store, clock, simulator=Simulation.for_config(rig.cfg, rig.sim))
    rig.start()
    wait_until(lambda: clock.offered, what="a network time offer")
    assert abs((clock.offered[0] - datetime.now(UTC)).total_seconds()) < 5
    assert clock.offered[0].tzinfo is not None


def test_a_modem_clock_never_set_by_the_network_is_not_offered(make_rig: Callable[..., Rig], tmp_path) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(cfg=modem_config(tmp_path), start=False)
    rig.sim.modem.state.nitz = False  # the modem answers "80/01/06,..."
    clock = RecordingClock()
    rig.svc = type(rig.svc)(rig.cfg, rig.bus, rig.store, clock, simulator=Simulation.for_config(rig.cfg, rig.sim))
    rig.start()
    time.sleep(0.5)
    assert clock.offered == []
