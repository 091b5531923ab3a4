"""Schedule adherence, the hour-of-week heat map and the assembled report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.ivr.hours import BusinessHours
from appliance.reports.adherence import (
    in_service,
    overlap,
    planned_on_worked_days,
    schedule_adherence,
    state_intervals,
)
from appliance.reports.heatmap import hour_of_week
from appliance.reports.report import report_from_calls
from appliance.reports.rows import AgentEventRow, CallRow

H = 3600.0


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_state_intervals_start_from_the_state_before_the_period() -> None:
    events = [AgentEventRow("d1", 10, "paused"), AgentEventRow("d1", 30, "available"), AgentEventRow("d1", 99, "x")]
    assert state_intervals(events, 0, 50, initial="available") == [
        (0, 10, "available"),
        (10, 30, "paused"),
        (30, 50, "available"),
    ]


def test_in_service_merges_touching_service_states() -> None:
    intervals = [
        (0, 10, "available"),
        (10, 20, "on-call"),
        (20, 25, "wrap-up"),
        (25, 40, "paused"),
        (40, 50, "ringing"),
    ]
    assert in_service(intervals) == [(0, 25), (40, 50)]
    assert overlap([(0, 25), (40, 50)], [(5, 45)]) == 25


def test_adherence_for_one_agent_on_one_day() -> None:
    # Warsaw Monday 2026-03-02, open 08:00-16:00 CET = 07:00-15:00 UTC (8 h planned).
    hours = BusinessHours({0: ["08:00-16:00"]}, [], "Europe/Warsaw")
    day_start, day_end = ts(2026, 3, 2, 0, 0), ts(2026, 3, 3, 0, 0)
    events = [
        AgentEventRow("d1", ts(2026, 3, 2, 7, 30), "available"),  # 30 min late
        AgentEventRow("d1", ts(2026, 3, 2, 11, 0), "paused"),  # 1 h lunch
        AgentEventRow("d1", ts(2026, 3, 2, 12, 0), "on-call"),
        AgentEventRow("d1", ts(2026, 3, 2, 12, 10), "available"),
        AgentEventRow("d1", ts(2026, 3, 2, 16, 0), "logged-out"),  # an hour after closing: not counted
    ]
    served = in_service(state_intervals(events, day_start, day_end))
    plan = planned_on_worked_days(hours, served, day_start, day_end)
    assert plan == [(ts(2026, 3, 2, 7, 0), ts(2026, 3, 2, 15, 0))]
    result = schedule_adherence({"d1": served}, {"d1": plan})
    # In plan: 07:30-11:00 (3.5 h) + 12:00-15:00 (3 h) = 6.5 h of 8 h.
    assert result.agents[0].in_service_s == pytest.approx(6.5 * H)
    assert result.adherence == pytest.approx(6.5 / 8)


def test_day_off_is_not_counted_against_the_agent() -> None:
    hours = BusinessHours({d: ["08:00-16:00"] for d in range(5)}, [], "UTC")
    start, end = ts(2026, 3, 2, 0, 0), ts(2026, 3, 4, 0, 0)  # Monday and Tuesday
    events = [
        AgentEventRow("d1", ts(2026, 3, 3, 8, 0), "available"),
        AgentEventRow("d1", ts(2026, 3, 3, 16, 0), "logged-out"),
    ]
    served = in_service(state_intervals(events, start, end))
    plan = planned_on_worked_days(hours, served, start, end)
    assert schedule_adherence({"d1": served}, {"d1": plan}).adherence == pytest.approx(1.0)


def test_holiday_has_no_plan() -> None:
    hours = BusinessHours({d: ["08:00-16:00"] for d in range(7)}, ["2026-03-02"], "UTC")
    start, end = ts(2026, 3, 2, 0, 0), ts(2026, 3, 3, 0, 0)
    served = [(ts(2026, 3, 2, 8, 0), ts(2026, 3, 2, 12, 0))]
    assert planned_on_worked_days(hours, served, start, end) == []
    assert schedule_adherence({"d1": served}, {"d1": []}).adherence is None


def test_heatmap_places_calls_in_local_hour_of_week_across_dst() -> None:
    # New York: Monday 09:xx local is 14:xx UTC in winter and 13:xx UTC in summer.
    buckets = [
        (ts(2026, 3, 2, 14, 0), 3, 2),  # Mon 09:00 EST
        (ts(2026, 3, 2, 14, 30), 1, 1),  # Mon 09:30 EST, same hour
        (ts(2026, 3, 9, 13, 0), 4, 4),  # Mon 09:00 EDT (after the change)
        (ts(2026, 3, 7, 17, 0), 2, 0),  # Sat 12:00 EST
    ]
    heat = hour_of_week(buckets, "America/New_York", weeks=2)
    assert heat.calls[0][9] == pytest.approx((3 + 1 + 4) / 2)
    assert heat.queued[0][9] == pytest.approx((2 + 1 + 4) / 2)
    assert heat.calls[5][12] == pytest.approx(1.0)
    assert heat.busiest(2) == [(0, 9, 3.5)]  # Saturday had no queued calls


def test_report_from_calls_builds_staffing_for_busiest_hours() -> None:
    # Four weeks, Monday 09:00-10:00 UTC: 12 queued calls of 4 minutes each week (0.8 Erlang).
    calls = []
    for week in range(4):
        base = ts(2026, 3, 2, 9, 0) + week * 7 * 86400
        for i in range(12):
            start = base + i * 300
            calls.append(
                CallRow(
                    started=start,
                    caller=f"+4860000{week}{i:03d}",
                    queue="front-desk",
                    queued=start + 10,
                    agent_answered=start + 20,
                    ended=start + 20 + 240,
                    disposition="answered",
                )
            )
    buckets = [(c.started - c.started % 1800, 1, 1) for c in calls]
    report = report_from_calls(
        calls,
        start=ts(2026, 3, 2),
        end=ts(2026, 3, 30),
        now=ts(2026, 4, 30),
        timezone="UTC",
        heatmap=hour_of_week(buckets, "UTC", 4),
    )
    assert report.queue.queued == 48 and report.queue.asa_s == pytest.approx(10)
    assert report.staffing_aht_s == pytest.approx(240)
    (row, *_) = report.staffing
    assert (row.weekday, row.hour, row.calls_per_hour, row.agents) == ("Mon", 9, 12.0, 3)
    assert report.fcr.rate == pytest.approx(1.0)  # every caller called once
    data = report.as_dict()
    assert data["queue"]["queued"] == 48 and data["staffing"][0]["agents"] == 3
