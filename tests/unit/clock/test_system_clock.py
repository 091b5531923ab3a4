"""SystemClock after a power cut without internet: the mobile network's time
stands in for NTP, so reminders and business hours run on the real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.clock import SystemClock


def off_by(clock: SystemClock) -> float:
    return (clock.now() - datetime.now(UTC)).total_seconds()


def test_no_ntp_and_no_network_time_is_not_trusted() -> None:
    clock = SystemClock(ntp_synced=lambda: False)
    state = clock.sync_state()
    assert not state.trusted and state.source == "none"
    assert abs(off_by(clock)) < 1


def test_network_time_replaces_a_wrong_clock_when_ntp_is_unreachable() -> None:
    clock = SystemClock(ntp_synced=lambda: False)
    clock.offer_network_time(datetime.now(UTC) + timedelta(hours=3))  # the box's clock is 3 h behind
    state = clock.sync_state()
    assert state.trusted and state.source == "gsm"
    assert "following mobile network time" in state.detail
    assert abs(off_by(clock) - 3 * 3600) < 2  # now() is the network's time


def test_network_time_that_agrees_confirms_the_clock() -> None:
    clock = SystemClock(ntp_synced=lambda: False)
    clock.offer_network_time(datetime.now(UTC) + timedelta(seconds=20))
    state = clock.sync_state()
    assert state.trusted and "agrees within" in state.detail
    assert abs(off_by(clock)) < 1  # within a minute the system clock is kept


def test_ntp_wins_over_the_network() -> None:
    clock = SystemClock(ntp_synced=lambda: True)
    clock.offer_network_time(datetime.now(UTC) + timedelta(hours=3))
    assert clock.sync_state().source == "ntp"
    assert abs(off_by(clock)) < 1


def test_a_day_old_network_time_is_not_used() -> None:
    class Stale(SystemClock):
        NETWORK_TIME_MAX_AGE_S = -1.0  # every offer is already too old

    clock = Stale(ntp_synced=lambda: False)
    clock.offer_network_time(datetime.now(UTC) + timedelta(hours=3))
    assert not clock.sync_state().trusted
    assert abs(off_by(clock)) < 1


def test_simulated_clock_is_trusted_and_never_corrected() -> None:
    clock = SystemClock(assume_synced=True, ntp_synced=lambda: False)
    clock.offer_network_time(datetime.now(UTC) + timedelta(hours=3))
    assert clock.sync_state().source == "simulated"
    assert abs(off_by(clock)) < 1
