"""The failover policy: routes from trunk and modem events, one GSM voice call at a time."""

from __future__ import annotations

from appliance.events import Event, EventBus
from appliance.modem.failover import FailoverPolicy

READY = {"state": "ready", "registered": True, "voice": True}


def setup(trunk_enabled: bool = True) -> tuple[EventBus, FailoverPolicy, list[Event]]:
    bus = EventBus()
    changes: list[Event] = []
    bus.subscribe(changes.append, "failover.")
    return bus, FailoverPolicy(bus, trunk_enabled=trunk_enabled), changes


def test_failover_and_failback() -> None:
    bus, policy, changes = setup()
    assert policy.route() == "none"
    bus.emit("modem.status", **READY)
    assert policy.route() == "gsm"  # trunk not reported yet
    bus.emit("trunk.up")
    assert policy.route() == "trunk"
    bus.emit("trunk.down", reason="registration timed out")
    assert policy.route() == "gsm"
    assert "registration timed out" in policy.state().reason
    bus.emit("trunk.up")
    assert policy.route() == "trunk"
    assert [e.data["route"] for e in changes] == ["gsm", "trunk", "gsm", "trunk"]
    assert all(e.data["reason"] for e in changes)


def test_no_route_when_both_are_down() -> None:
    bus, policy, changes = setup()
    bus.emit("modem.status", **READY)
    bus.emit("trunk.down", reason="no internet")
    bus.emit("modem.status", state="searching", registered=False)
    assert policy.route() == "none"
    assert "modem searching" in policy.state().reason
    assert changes[-1].data["route"] == "none"


def test_repeated_events_do_not_repeat_the_change() -> None:
    bus, _, changes = setup()
    bus.emit("modem.status", **READY)
    bus.emit("modem.status", **READY)
    bus.emit("trunk.down", reason="x")
    bus.emit("trunk.down", reason="y")
    assert [e.data["route"] for e in changes] == ["gsm"]


def test_clinic_without_trunk_uses_gsm() -> None:
    bus, policy, _ = setup(trunk_enabled=False)
    bus.emit("modem.status", **READY)
    bus.emit("trunk.up")  # ignored: no trunk configured
    assert policy.route() == "gsm"


def test_one_gsm_voice_call_at_a_time() -> None:
    bus, policy, _ = setup()
    assert policy.voice_capacity() == 0
    bus.emit("modem.status", **READY)
    assert policy.voice_capacity() == 1
    assert policy.reserve_voice() is True
    assert policy.reserve_voice() is False and policy.voice_capacity() == 0
    bus.emit("modem.call.state", state="dialing")
    policy.release_voice()
    assert policy.voice_capacity() == 0  # the call is still up
    bus.emit("modem.call.state", state="idle")
    assert policy.voice_capacity() == 1
    bus.emit("modem.call.state", state="ringing")  # an incoming call takes the line too
    assert policy.reserve_voice() is False


def test_sms_only_registration_has_no_voice_capacity() -> None:
    bus, policy, _ = setup()
    bus.emit("modem.status", state="ready", registered=True, voice=False)
    assert policy.route() == "gsm" and policy.voice_capacity() == 0


def test_close_stops_listening() -> None:
    bus, policy, _ = setup()
    policy.close()
    bus.emit("modem.status", **READY)
    assert policy.route() == "none"
