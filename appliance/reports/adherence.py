"""Schedule adherence: the share of planned time agents were in service.

In service means available, ringing, on a call or in wrap-up (paused,
logged out and unavailable are not). An agent's state holds from one
``agent_events`` row to the next. Centres aim for 85-90 %.

The plan: ClinicBox has no staff roster, so an agent is planned for the
clinic's opening hours on every local day it logged in at all
(:func:`planned_on_worked_days`). A day off is not counted against anyone;
coming late, leaving early and long pauses are. :func:`schedule_adherence`
takes any plan, so a roster can replace this proxy later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from appliance.ivr.hours import BusinessHours
from appliance.reports.kpis import ratio
from appliance.reports.rows import AgentEventRow

IN_SERVICE = frozenset({"available", "ringing", "on-call", "wrap-up"})
Interval = tuple[float, float]


def state_intervals(
    events: Sequence[AgentEventRow], start: float, end: float, initial: str = "logged-out"
) -> list[tuple[float, float, str]]:
    """``(from, to, state)`` covering [start, end) for one agent's sorted events.

    ``initial`` is the state at ``start`` (the last event before it).
    """
    out = []
    state, since = initial, start
    for event in events:
        if event.at >= end:
            break
        if event.at > since:
            out.append((since, event.at, state))
            since = event.at
        state = event.state
    if end > since:
        out.append((since, end, state))
    return out


def in_service(intervals: Iterable[tuple[float, float, str]]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, finish, state in intervals:
        if state not in IN_SERVICE:
            continue
        if merged and merged[-1][1] >= begin:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    """Total length of the intersection of two sorted, disjoint interval lists."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def planned_on_worked_days(
    hours: BusinessHours, worked: Sequence[Interval], start: float, end: float
) -> list[Interval]:
    """Opening hours of each local day on which the agent was in service at all."""
    days = set()
    for begin, finish in worked:
        day = hours.local(datetime.fromtimestamp(begin, UTC)).date()
        last = hours.local(datetime.fromtimestamp(max(begin, finish - 1e-6), UTC)).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    plan = []
    for day in sorted(days):
        for opens, closes in hours.spans_on(day):
            lo, hi = max(opens.timestamp(), start), min(closes.timestamp(), end)
            if hi > lo:
                plan.append((lo, hi))
    return plan


@dataclass(frozen=True)
class AgentAdherence:
    agent: str
    planned_s: float
    in_service_s: float  # within the plan
    adherence: float | None


@dataclass(frozen=True)
class AdherenceKpis:
    agents: tuple[AgentAdherence, ...]
    planned_s: float
    in_service_s: float
    adherence: float | None


def schedule_adherence(
    in_service_by_agent: Mapping[str, Sequence[Interval]], planned: Mapping[str, Sequence[Interval]]
) -> AdherenceKpis:
    """Adherence per agent and overall (time-weighted)."""
    rows = []
    for agent in sorted(planned):
        plan = planned[agent]
        planned_s = sum(hi - lo for lo, hi in plan)
        served = overlap(in_service_by_agent.get(agent, ()), plan)
        rows.append(AgentAdherence(agent, planned_s, served, ratio(served, planned_s)))
    total_planned = sum(r.planned_s for r in rows)
    total_served = sum(r.in_service_s for r in rows)
    return AdherenceKpis(tuple(rows), total_planned, total_served, ratio(total_served, total_planned))
