"""ASA, service level and abandon rate count callers who entered a queue, and only their wait.

A virtual-hold callback call is answered by an agent a second after the box
rang the patient back; counting it as a queued call would add a fast answer
for every callback. A caller transferred back into a queue waited only until
the first agent answered.
"""

from __future__ import annotations

import pytest

from appliance.reports.kpis import abandons_of, queue_kpis
from appliance.reports.report import report_from_calls
from appliance.reports.rows import CallRow

PATIENT = "+48600000001"
OTHER = "+48600000002"


def callback_day() -> list[CallRow]:
    """Two callers: one answered after 40 s, one who pressed 'call me back' after 30 s and was called back."""
    return [
        CallRow(0, OTHER, disposition="answered", queue="desk", queued=10, agent_answered=50, ended=200),
        CallRow(100, PATIENT, disposition="callback", queue="desk", queued=110, ended=140),
        # The box calls the patient back at 400; they hear the greeting and reach the agent a second later.
        CallRow(
            400,
            PATIENT,
            direction="outbound",
            purpose="callback",
            disposition="answered",
            queue="desk",
            queued=405,
            agent_answered=406,
            ended=600,
        ),
    ]


def test_a_callback_call_is_not_a_fast_answered_queued_call() -> None:
    kpis = queue_kpis(callback_day())
    assert kpis.queued == 2
    assert kpis.answered == 1
    assert kpis.callback_requests == 1
    assert kpis.asa_s == pytest.approx(40.0)
    assert kpis.service_level == pytest.approx(0.0)  # nobody got an agent within 20 s of joining the queue
    assert kpis.abandon_rate == pytest.approx(0.0)


def test_a_callback_call_does_not_dilute_the_abandon_rate() -> None:
    abandoned = CallRow(0, OTHER, disposition="abandoned", queue="desk", queued=5, ended=65)
    calls = [abandoned, *callback_day()[1:]]  # the callback request and the box's callback call
    assert queue_kpis(calls).abandon_rate == pytest.approx(1 / 2)


def test_a_patient_who_hangs_up_on_their_callback_is_not_an_abandoned_caller() -> None:
    call = CallRow(
        400, PATIENT, direction="outbound", purpose="callback", disposition="abandoned", queue="desk", queued=405
    )
    call = call._replace(ended=420)
    assert abandons_of([call]) == []
    assert queue_kpis([call]).queued == 0


def test_a_reminder_patient_who_pressed_for_the_desk_still_counts() -> None:
    call = CallRow(
        0,
        PATIENT,
        direction="outbound",
        purpose="reminder",
        disposition="answered",
        queue="desk",
        queued=30,
        agent_answered=45,
        ended=100,
    )
    kpis = queue_kpis([call])
    assert (kpis.queued, kpis.asa_s, kpis.service_level) == (1, pytest.approx(15.0), pytest.approx(1.0))


def test_a_transfer_back_into_a_queue_does_not_count_the_first_talk_as_wait() -> None:
    # Queued at 10, the first agent answered at 25 and talked until 205, then transferred the caller to
    # the billing queue; a second agent answered at 215. The CDR's agent_answered is the second answer.
    call = CallRow(
        0,
        PATIENT,
        disposition="answered",
        queue="desk",
        queued=10,
        agent="billing1",
        agent_answered=215,
        ended=400,
        first_answered=25,
    )
    kpis = queue_kpis([call])
    assert kpis.asa_s == pytest.approx(15.0)
    assert kpis.service_level == pytest.approx(1.0)
    assert kpis.longest_wait_s == pytest.approx(15.0)


def test_the_report_shows_the_callers_figures() -> None:
    report = report_from_calls(callback_day(), start=0, end=1000, now=10**7, timezone="UTC")
    assert report.queue.queued == 2
    assert report.queue.asa_s == pytest.approx(40.0)
    assert report.by_queue["desk"].service_level == pytest.approx(0.0)
