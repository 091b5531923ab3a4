"""What the receptionist sees: the LED pattern table, and blinking over time."""

from __future__ import annotations

import pytest

from appliance.events import Event
from appliance.panel import state as panel_state
from appliance.panel.patterns import (
    FAULT_BLINK,
    FLASH,
    OFF,
    SLOW_BLINK,
    STEADY,
    WAIT_BLINKS,
    Pattern,
    Snapshot,
    chase,
    lit,
    show,
)

T = (30, 60, 120)
IDLE = Snapshot(trunk="up")

# (why, snapshot, green, amber, red, blue)
TABLE = [
    ("ready and idle", IDLE, STEADY, OFF, OFF, OFF),
    ("idle on the modem alone", Snapshot(trunk="disabled", modem="up"), STEADY, OFF, OFF, OFF),
    ("calls in progress", Snapshot(trunk="up", calls_in_progress=3), SLOW_BLINK, OFF, OFF, OFF),
    ("a caller waiting briefly", Snapshot(trunk="up", waiting=1, longest_wait_s=5), OFF, STEADY, OFF, OFF),
    (
        "waiting past 30 s, calls going",
        Snapshot(trunk="up", waiting=2, longest_wait_s=31, calls_in_progress=1),
        SLOW_BLINK,
        WAIT_BLINKS[0],
        OFF,
        OFF,
    ),
    ("waiting past 60 s", Snapshot(trunk="up", waiting=2, longest_wait_s=60), OFF, WAIT_BLINKS[1], OFF, OFF),
    ("waiting past 120 s", Snapshot(trunk="up", waiting=4, longest_wait_s=500), OFF, WAIT_BLINKS[2], OFF, OFF),
    ("no line: trunk and modem down", Snapshot(trunk="down", modem="down"), OFF, OFF, STEADY, OFF),
    ("no line: trunk disabled, no modem", Snapshot(trunk="disabled", modem="absent"), OFF, OFF, STEADY, OFF),
    (
        "no line beats a fault",
        Snapshot(trunk="down", modem="down", store_locked=True),
        OFF,
        OFF,
        STEADY,
        OFF,
    ),
    ("store locked", Snapshot(trunk="up", store_locked=True), STEADY, OFF, FAULT_BLINK, OFF),
    ("disk nearly full", Snapshot(trunk="up", faults=frozenset({"disk-full"})), STEADY, OFF, FAULT_BLINK, OFF),
    ("clock unsynced", Snapshot(trunk="up", faults=frozenset({"clock-unsynced"})), STEADY, OFF, FAULT_BLINK, OFF),
    ("on GSM fallback", Snapshot(trunk="down", modem="up", route="gsm"), STEADY, OFF, OFF, STEADY),
    (
        "GSM fallback with a call",
        Snapshot(trunk="down", modem="up", route="gsm", calls_in_progress=1),
        SLOW_BLINK,
        OFF,
        OFF,
        STEADY,
    ),
    ("route gsm but no line at all", Snapshot(trunk="down", modem="down", route="gsm"), OFF, OFF, STEADY, OFF),
]


@pytest.mark.parametrize(("why", "snap", "green", "amber", "red", "blue"), TABLE, ids=[row[0] for row in TABLE])
def test_pattern_table(why: str, snap: Snapshot, green: Pattern, amber: Pattern, red: Pattern, blue: Pattern) -> None:
    assert show(snap, now=1000.0, thresholds=T) == {"green": green, "amber": amber, "red": red, "blue": blue}


def test_amber_blinks_faster_as_the_wait_grows() -> None:
    periods = [show(Snapshot(trunk="up", waiting=1, longest_wait_s=w), 0.0, T)["amber"].period for w in (31, 61, 121)]
    assert periods == sorted(periods, reverse=True)
    assert len(set(periods)) == 3


def test_provisioning_chases_then_flashes_the_result_then_returns_to_normal() -> None:
    running = Snapshot(trunk="up", provisioning="running", provisioning_at=100.0)
    pats = show(running, 101.0, T)
    assert [p.name for p in pats.values()] == ["chase"] * 4
    assert pats == {"green": chase(0), "amber": chase(1), "red": chase(2), "blue": chase(3)}

    ok = Snapshot(trunk="up", provisioning="succeeded", provisioning_at=200.0)
    assert show(ok, 205.0, T, result_flash_s=15) == {"green": FLASH, "amber": OFF, "red": OFF, "blue": OFF}
    assert show(ok, 216.0, T, result_flash_s=15)["green"] == STEADY

    bad = Snapshot(trunk="up", provisioning="failed", provisioning_at=200.0)
    assert show(bad, 201.0, T) == {"green": OFF, "amber": OFF, "red": FLASH, "blue": OFF}


def test_a_run_that_died_does_not_chase_forever() -> None:
    stale = Snapshot(trunk="up", provisioning="running", provisioning_at=0.0)
    assert show(stale, 31 * 60.0, T)["green"] == STEADY


def test_chase_lights_exactly_one_led_at_a_time_in_order() -> None:
    order = []
    for step in range(8):
        t = step * 0.15 + 0.01
        on = [i for i in range(4) if lit(chase(i), t)]
        assert len(on) == 1
        order.append(on[0])
    assert order == [0, 1, 2, 3, 0, 1, 2, 3]


@pytest.mark.parametrize(
    ("pattern", "t", "expected"),
    [
        (OFF, 0.0, False),
        (STEADY, 12.3, True),
        (SLOW_BLINK, 0.5, True),
        (SLOW_BLINK, 1.5, False),
        (SLOW_BLINK, 2.2, True),
        (FLASH, 0.05, True),
        (FLASH, 0.15, False),
    ],
)
def test_lit_over_time(pattern: Pattern, t: float, expected: bool) -> None:
    assert lit(pattern, t) is expected


def _fold(*events: Event, trunk_enabled: bool = True, now: float = 10.0) -> panel_state.PanelState:
    st = panel_state.initial(trunk_enabled)
    for event in events:
        st = panel_state.apply(st, event, now)
    return st


def test_events_build_the_snapshot() -> None:
    st = _fold(
        Event("trunk.up"),
        Event("modem.status", {"present": True, "registered": True, "signal": 20}),
        Event("queue.changed", {"waiting": 2, "longest_wait_s": 45.5, "calls_in_progress": 1}),
        Event("store.locked"),
    )
    snap = st.snapshot
    assert (snap.trunk, snap.modem, snap.waiting, snap.longest_wait_s, snap.calls_in_progress) == (
        "up",
        "up",
        2,
        45.5,
        1,
    )
    assert snap.store_locked
    assert _fold(Event("store.locked"), Event("store.unlocked")).snapshot.store_locked is False


def test_trunk_down_and_failover() -> None:
    st = _fold(Event("trunk.up"), Event("trunk.down"), Event("failover.changed", {"route": "gsm"}))
    assert (st.snapshot.trunk, st.snapshot.route) == ("down", "gsm")
    back = panel_state.apply(st, Event("failover.changed", {"route": "trunk"}), 11.0)
    assert back.snapshot.route == "trunk"


def test_a_disabled_trunk_stays_disabled() -> None:
    st = _fold(Event("trunk.down"), trunk_enabled=False)
    assert st.snapshot.trunk == "disabled"


def test_modem_states() -> None:
    assert _fold(Event("modem.status", {"registered": False})).snapshot.modem == "down"
    assert _fold(Event("modem.status", {"present": False})).snapshot.modem == "absent"
    assert _fold(Event("modem.status", {"state": "registered"})).snapshot.modem == "up"


def test_per_queue_figures_are_summed_and_the_longest_wait_wins() -> None:
    st = _fold(
        Event("queue.changed", {"queue": "front-desk", "waiting": 1, "longest_wait_s": 70, "calls_in_progress": 1}),
        Event("queue.changed", {"queue": "billing", "waiting": 2, "longest_wait_s": 20, "calls_in_progress": 0}),
    )
    assert (st.snapshot.waiting, st.snapshot.longest_wait_s, st.snapshot.calls_in_progress) == (3, 70.0, 1)
    st = panel_state.apply(st, Event("queue.changed", {"queue": "front-desk", "waiting": 0}), 11.0)
    assert (st.snapshot.waiting, st.snapshot.longest_wait_s) == (2, 20.0)


def test_malformed_events_change_nothing() -> None:
    st = _fold(Event("queue.changed", {"waiting": 1, "longest_wait_s": 3}))
    for bad in ({"waiting": "many"}, {"waiting": -1}, {"longest_wait_s": None}):
        assert panel_state.apply(st, Event("queue.changed", bad), 11.0) == st
    assert panel_state.apply(st, Event("call.answered", {"x": 1}), 11.0) == st


def test_provisioning_events_record_phase_and_time() -> None:
    st = _fold(Event("provisioning.started"), now=50.0)
    assert (st.snapshot.provisioning, st.snapshot.provisioning_at) == ("running", 50.0)
    st = panel_state.apply(st, Event("provisioning.failed", {"reason": "unsigned"}), 60.0)
    assert (st.snapshot.provisioning, st.snapshot.provisioning_at) == ("failed", 60.0)
