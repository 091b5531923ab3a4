"""KPIs on hand-made call rows; every expected number is worked out in the comments."""

from __future__ import annotations

import pytest

from appliance.reports.kpis import (
    abandons_of,
    callback_kpis,
    contacts_of,
    first_call_resolution,
    queue_kpis,
    reminder_kpis,
    tally_by_queue,
    total_tally,
)
from appliance.reports.rows import CallbackRow, CallRow, ReminderAttemptRow

DAY = 86400.0


def answered(started: float, wait: float, talk: float, hold: float = 0.0, wrap: float = 0.0, **kw: object) -> CallRow:
    queued = started + 10
    picked = queued + wait
    return CallRow(
        started=started,
        queued=queued,
        agent_answered=picked,
        ended=picked + talk + hold,
        hold=hold,
        wrap=wrap,
        disposition="answered",
        queue=str(kw.pop("queue", "front-desk")),
        caller=str(kw.pop("caller", "+48600000001")),
        **kw,  # type: ignore[arg-type]
    )


def left(
    started: float, wait: float, disposition: str, caller: str = "+48600000009", queue: str = "front-desk"
) -> CallRow:
    queued = started + 10
    return CallRow(
        started=started, queued=queued, ended=queued + wait, disposition=disposition, caller=caller, queue=queue
    )


# Ten queued calls:
#   answered after 5, 15, 20, 30, 60 s   talk 100/200/300/400/500, hold 0/20/0/0/30, wrap 10 each
#   abandoned after 2 and 40 s, one callback request after 50 s, one overflow after 600 s,
#   one abandoned with no end time recorded (wait unknown)
# plus one IVR-only call that never queued.
CALLS = [
    answered(0, 5, 100, wrap=10),
    answered(100, 15, 200, hold=20, wrap=10),
    answered(200, 20, 300, wrap=10),
    answered(300, 30, 400, wrap=10),
    answered(400, 60, 500, hold=30, wrap=10, queue="billing"),
    left(500, 2, "abandoned"),
    left(600, 40, "abandoned"),
    left(700, 50, "callback"),
    left(800, 600, "overflow"),
    CallRow(started=900, queued=910, disposition="abandoned", queue="front-desk"),
    CallRow(started=1000, ended=1030, disposition="ivr"),
]


def test_queue_kpis_match_hand_computed_values() -> None:
    k = queue_kpis(CALLS)
    assert (k.queued, k.answered, k.abandoned, k.short_abandoned, k.callback_requests, k.overflowed) == (
        10,
        5,
        3,
        1,
        1,
        1,
    )
    assert k.asa_s == pytest.approx((5 + 15 + 20 + 30 + 60) / 5)  # 26
    assert k.abandon_rate == pytest.approx(3 / 10)
    assert k.short_abandon_rate == pytest.approx(1 / 10)  # the 2 s one
    assert k.abandon_rate_excl_short == pytest.approx(2 / 9)
    assert k.service_level == pytest.approx(3 / 10)  # 5, 15 and exactly 20 s count; denominator all queued
    assert k.avg_talk_s == pytest.approx(300)  # (100+200+300+400+500)/5, hold not in talk
    assert k.avg_hold_s == pytest.approx(10)  # (20+30)/5
    assert k.aht_s == pytest.approx(300 + 10 + 10)  # talk + hold + wrap
    assert k.longest_wait_s == pytest.approx(600)


def test_queue_kpis_per_queue() -> None:
    by_queue = {q: t.kpis() for q, t in tally_by_queue(CALLS).items()}
    assert sorted(by_queue) == ["billing", "front-desk"]
    assert (by_queue["billing"].queued, by_queue["billing"].asa_s) == (1, 60)
    assert by_queue["front-desk"].queued == 9
    assert total_tally(tally_by_queue(CALLS).values()).kpis() == queue_kpis(CALLS)


def test_no_queued_calls_gives_no_data_not_zero() -> None:
    k = queue_kpis([CallRow(started=0, disposition="ivr")])
    assert k.queued == 0
    assert k.asa_s is None and k.service_level is None and k.abandon_rate is None and k.aht_s is None


def test_transferred_after_agent_answer_counts_as_answered() -> None:
    call = answered(0, 12, 60)._replace(disposition="transferred")
    assert queue_kpis([call]).answered == 1


def test_service_level_threshold_is_inclusive_and_configurable() -> None:
    calls = [answered(0, 20, 60), answered(100, 20.001, 60)]
    assert queue_kpis(calls).service_level == pytest.approx(0.5)
    assert queue_kpis(calls, service_level_s=30).service_level == pytest.approx(1.0)


def test_fcr_proxy() -> None:
    a, b, c = "+48600000001", "+48600000002", "+48600000003"
    calls = [
        answered(0, 5, 60, caller=a),  # a calls again 3 days later: not resolved
        answered(3 * DAY, 5, 60, caller=a),  # a's second call: no further call: resolved
        answered(1 * DAY, 5, 60, caller=b),  # b calls again after 8 days: resolved
        left(9 * DAY, 3, "abandoned", caller=b),
        answered(2 * DAY, 5, 60, caller=""),  # anonymous: left out
        answered(25 * DAY, 5, 60, caller=c),  # younger than 7 days at "now": pending
        answered(4 * DAY, 5, 60, caller=c, direction="outbound"),  # a reminder call: not a contact
    ]
    fcr = first_call_resolution(contacts_of(calls), 0, 30 * DAY, now=30 * DAY)
    assert (fcr.eligible, fcr.resolved, fcr.pending) == (3, 2, 1)
    assert fcr.rate == pytest.approx(2 / 3)


def test_fcr_follow_up_may_fall_after_the_period() -> None:
    a = "+48600000001"
    calls = [answered(0, 5, 60, caller=a), left(10 * DAY - 1, 2, "abandoned", caller=a)]
    # Period is the first 5 days; the follow-up on day 10 is outside the 7-day window.
    fcr = first_call_resolution(contacts_of(calls), 0, 5 * DAY, now=20 * DAY)
    assert (fcr.eligible, fcr.resolved) == (1, 1)
    calls = [answered(0, 5, 60, caller=a), left(6 * DAY, 2, "abandoned", caller=a)]
    assert first_call_resolution(contacts_of(calls), 0, 5 * DAY, now=20 * DAY).resolved == 0


def test_callback_rate_and_time_to_callback() -> None:
    a, b, c = "+48600000001", "+48600000002", "+48600000003"
    calls = [
        left(0, 30, "abandoned", caller=a),  # abandons at 40
        left(500, 30, "abandoned", caller=a),  # a again: still one caller
        left(1000, 20, "abandoned", caller=b),  # abandons at 1030, never called back
        left(2000, 5, "abandoned", caller=c),  # abandons at 2015
        left(3000, 5, "abandoned", caller="anonymous"),
    ]
    callbacks = [
        CallbackRow(a, "abandoned", "done", requested=40, completed=640),  # 600 s after a's first abandon
        CallbackRow(b, "abandoned", "failed", requested=1030, completed=1200),
        CallbackRow(c, "abandoned", "done", requested=2015, completed=3815),  # 1800 s
        CallbackRow("+48600000004", "requested", "done", requested=100, completed=400),
        CallbackRow("+48600000005", "requested", "open", requested=200),
        CallbackRow("+48600000006", "overflow", "failed", requested=300, completed=900),
    ]
    k = callback_kpis(abandons_of(calls), callbacks)
    assert (k.abandoned_callers, k.anonymous_abandons, k.called_back) == (3, 1, 2)
    assert k.callback_rate == pytest.approx(2 / 3)
    assert k.avg_time_to_callback_s == pytest.approx((600 + 1800) / 2)
    assert k.median_time_to_callback_s == pytest.approx(1200)
    assert (k.requested, k.requested_done, k.requested_failed, k.requested_open) == (3, 1, 1, 1)
    assert k.avg_time_to_requested_callback_s == pytest.approx(300)


def test_callback_done_before_the_abandon_does_not_count() -> None:
    calls = [left(1000, 10, "abandoned", caller="+48600000001")]
    callbacks = [CallbackRow("+48600000001", "abandoned", "done", requested=0, completed=500)]
    assert callback_kpis(abandons_of(calls), callbacks).called_back == 0


def test_reminder_confirmation_rate_counts_reminders_not_attempts() -> None:
    attempts = [
        ReminderAttemptRow(1, "no-answer"),
        ReminderAttemptRow(1, "confirmed"),  # confirmed on the second try
        ReminderAttemptRow(2, "cancelled"),
        ReminderAttemptRow(3, "no-answer"),
        ReminderAttemptRow(4, "confirmed"),
    ]
    k = reminder_kpis(attempts)
    assert (k.reminders, k.confirmed, k.cancelled) == (4, 2, 1)
    assert k.confirmation_rate == pytest.approx(0.5)
    assert reminder_kpis([]).confirmation_rate is None
