"""The recovery ladder: when to re-init, reset the radio, reset USB, give up, retry."""

from __future__ import annotations

from appliance.modem.health import DEGRADED, FAILED, OK, RECOVERING, RecoveryPolicy


def test_hung_modem_climbs_the_ladder_then_fails_then_retries_after_cooldown() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600)
    steps = [p.check(responsive=False, registered=None, now=t) for t in (0, 30, 60, 90, 120, 150)]
    assert [(v.state, v.action) for v in steps] == [
        (RECOVERING, "reinit"),
        (RECOVERING, "radio-reset"),
        (RECOVERING, "usb-reset"),
        (RECOVERING, "power-cut"),
        (FAILED, None),
        (FAILED, None),
    ]
    assert p.check(responsive=False, registered=None, now=750).action == "reinit"


def test_a_box_without_a_power_line_fails_after_the_usb_reset() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600, skip=("power-cut",))
    steps = [p.check(responsive=False, registered=None, now=t).action for t in (0, 30, 60, 90)]
    assert steps == ["reinit", "radio-reset", "usb-reset", None]


def test_a_passing_check_after_a_step_is_reported_as_recovered_once() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600)
    p.check(responsive=False, registered=None, now=0)
    v = p.check(responsive=True, registered=True, now=30)
    assert (v.state, v.recovered) == (OK, True)
    assert p.check(responsive=True, registered=True, now=60).recovered is False
    assert p.check(responsive=False, registered=None, now=90).action == "reinit"  # ladder starts over


def test_registration_lost_for_minutes_triggers_recovery() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600)
    assert p.check(responsive=True, registered=False, now=0).state == DEGRADED
    assert p.check(responsive=True, registered=False, now=179).action is None
    assert p.check(responsive=True, registered=False, now=180).action == "reinit"
    assert p.check(responsive=True, registered=False, now=210).action == "radio-reset"
    assert p.check(responsive=True, registered=True, now=240).recovered


def test_brief_registration_loss_is_forgiven() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600)
    p.check(responsive=True, registered=False, now=0)
    p.check(responsive=True, registered=True, now=100)
    assert p.check(responsive=True, registered=False, now=200).state == DEGRADED  # the clock restarted


def test_sim_problems_never_trigger_a_reset() -> None:
    p = RecoveryPolicy(registration_lost_s=1, cooldown_s=1)
    for t in range(0, 100, 10):
        v = p.check(responsive=True, registered=None, now=t)
        assert v.state == OK and v.action is None


def test_usb_reset_can_be_left_out() -> None:
    p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600, skip=("usb-reset", "power-cut"))
    actions = [p.check(responsive=False, registered=None, now=t).action for t in (0, 1, 2)]
    assert actions == ["reinit", "radio-reset", None]
