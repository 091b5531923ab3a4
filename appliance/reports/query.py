"""Reading the call log for the KPI report: a few indexed range queries.

Times are converted to epoch seconds inside SQLite (``julianday``), so
Python never parses timestamps; only the columns the KPIs need are read;
the heat map is grouped in SQL into 30-minute buckets. Runs in the web UI
or CLI process (never on the switchboard's PJSUA2 thread).

Example:
    >>> report = kpi_report_for(cfg, store, start, end)   # doctest: +SKIP
    >>> report.queue.service_level                         # doctest: +SKIP
    0.83
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from appliance.config import Config
from appliance.ivr.hours import BusinessHours
from appliance.reports.adherence import (
    AdherenceKpis,
    in_service,
    planned_on_worked_days,
    schedule_adherence,
    state_intervals,
)
from appliance.reports.heatmap import HeatMap, hour_of_week
from appliance.reports.kpis import ANONYMOUS, FCR_WINDOW_S, FcrKpis, QueueTally, ratio
from appliance.reports.report import KpiReport, build_report
from appliance.reports.rows import AbandonRow, AgentEventRow, CallbackRow, CallRow, ContactRow, ReminderAttemptRow
from appliance.reports.textback import textback_kpis
from appliance.reports.waitlist import waitlist_kpis
from appliance.store.connection import Store
from appliance.store.timefmt import to_db


def _epoch(column: str) -> str:
    """SQL for a stored time as epoch seconds, rounded to the stored millisecond."""
    return f"round((julianday({column}) - 2440587.5) * 86400.0, 3)"


# The first agent's answer (a transfer back into a queue moves agent_answered_at
# to the second agent; the caller's wait ended with the first), kept by the
# switchboard in first_answered_at (schema 6).
_FIRST_ANSWER = "coalesce(first_answered_at, agent_answered_at)"

# Per queue, the same counts and sums as QueueTally.add, for callers that
# started in the period and entered a queue; callback calls are left out as
# in CallRow.queued_caller (consistency is tested). The CTE
# is MATERIALIZED so each row's wait and talk are computed once, not once per
# aggregate that uses them.
_TALLIES = f"""
WITH q AS MATERIALIZED (
    SELECT coalesce(queue, '') AS queue, disposition, hold_seconds, wrap_seconds,
           agent_answered_at IS NOT NULL AS answered,
           round(max(0, {_epoch(f"CASE WHEN agent_answered_at IS NULL THEN ended_at ELSE {_FIRST_ANSWER} END")} - {_epoch("queued_at")}), 3) AS wait,
           CASE WHEN agent_answered_at IS NOT NULL AND ended_at IS NOT NULL
                THEN round(max(0, {_epoch("ended_at")} - {_epoch("agent_answered_at")} - hold_seconds), 3)
                ELSE 0 END AS talk
    FROM calls WHERE started_at >= :start AND started_at < :end AND queued_at IS NOT NULL
                     AND purpose != 'callback'
)
SELECT queue, count(*), sum(answered), sum(NOT answered AND disposition = 'abandoned'),
       sum(NOT answered AND disposition = 'abandoned' AND wait < :short),
       sum(NOT answered AND disposition = 'callback'), sum(NOT answered AND disposition = 'overflow'),
       sum(answered AND coalesce(wait, 0) <= :sl),
       total(CASE WHEN answered THEN coalesce(wait, 0) END), total(CASE WHEN answered THEN talk END),
       total(CASE WHEN answered THEN hold_seconds END), total(CASE WHEN answered THEN wrap_seconds END), max(wait)
FROM q GROUP BY queue ORDER BY queue
"""


_CALLS = (
    f"SELECT {_epoch('started_at')}, caller, direction, purpose, disposition, queue, {_epoch('queued_at')}, agent,"
    f" {_epoch('agent_answered_at')}, {_epoch('ended_at')}, hold_seconds, wrap_seconds,"
    f" CASE WHEN queued_at IS NOT NULL AND agent_answered_at IS NOT NULL THEN {_epoch(_FIRST_ANSWER)} END"
    " FROM calls WHERE started_at >= ? AND started_at < ?"
)


def _tuples(store: Store, sql: str, params: tuple[object, ...] | dict[str, object]) -> list[tuple[Any, ...]]:
    """Plain tuples (no Row objects): several times cheaper for big reads."""
    return store.query_tuples(sql, params)


def load_calls(store: Store, start: datetime, end: datetime) -> list[CallRow]:
    make = CallRow._make
    return [make(row) for row in _tuples(store, _CALLS, (to_db(start), to_db(end)))]


def load_queue_tallies(
    store: Store, start: datetime, end: datetime, *, service_level_s: float = 20.0, short_s: float = 5.0
) -> dict[str, QueueTally]:
    """One :class:`QueueTally` per queue, added up by SQLite."""
    params = {"start": to_db(start), "end": to_db(end), "sl": service_level_s, "short": short_s}
    tallies = {}
    for row in _tuples(store, _TALLIES, params):
        counts = [int(v or 0) for v in row[1:8]]
        tallies[row[0]] = QueueTally(
            queued=counts[0],
            answered=counts[1],
            abandoned=counts[2],
            short_abandoned=counts[3],
            callback_requests=counts[4],
            overflowed=counts[5],
            answered_within=counts[6],
            wait_s=float(row[8]),
            talk_s=float(row[9]),
            hold_s=float(row[10]),
            wrap_s=float(row[11]),
            longest_wait_s=None if row[12] is None else float(row[12]),
        )
    return tallies


def load_contacts(store: Store, start: datetime, end: datetime) -> list[ContactRow]:
    """Inbound calls for the FCR proxy: caller, start, answered by an agent."""
    rows = _tuples(
        store,
        f"SELECT caller, {_epoch('started_at')}, queued_at IS NOT NULL AND agent_answered_at IS NOT NULL FROM calls"
        " WHERE started_at >= ? AND started_at < ? AND direction = 'inbound'",
        (to_db(start), to_db(end)),
    )
    return [ContactRow(r[0], r[1], bool(r[2])) for r in rows]


def load_fcr(store: Store, start: datetime, end: datetime, now: datetime, window_s: float = FCR_WINDOW_S) -> FcrKpis:
    """:func:`~appliance.reports.kpis.first_call_resolution` computed in SQL.

    Each inbound call carries the time of the same caller's next inbound
    call (``next_inbound_at``, kept by triggers as calls are written; see
    migration 0004), so this is one range scan and only three numbers leave
    the database. The integration tests hold it equal to the pure definition.
    """
    names = {f"a{i}": value for i, value in enumerate(sorted(ANONYMOUS))}
    days = window_s / 86400.0
    # Stored times are fixed-width UTC text, so "7 days later" compares as text.
    sql = f"""
        SELECT coalesce(sum(due), 0),
               coalesce(sum(due AND (next_inbound_at IS NULL
                                     OR next_inbound_at > strftime('%Y-%m-%dT%H:%M:%fZ', started_at, :plus))), 0),
               coalesce(sum(NOT due), 0)
        FROM (
            SELECT started_at, next_inbound_at, started_at <= :due AS due
            FROM calls
            WHERE direction = 'inbound' AND started_at >= :start AND started_at < :end
              AND queued_at IS NOT NULL AND agent_answered_at IS NOT NULL
              AND lower(caller) NOT IN ({", ".join(":" + n for n in names)})
        )"""
    params = {
        "due": to_db(now - timedelta(seconds=window_s)),
        "plus": f"+{days:.6f} days",
        "start": to_db(start),
        "end": to_db(end),
    }
    row = store.query_one(sql, {**params, **names})
    eligible, resolved, pending = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
    return FcrKpis(eligible, resolved, pending, ratio(resolved, eligible))


def load_abandons(store: Store, start: datetime, end: datetime) -> list[AbandonRow]:
    rows = _tuples(
        store,
        f"SELECT caller, {_epoch('coalesce(ended_at, started_at)')} FROM calls WHERE started_at >= ?"
        " AND started_at < ? AND queued_at IS NOT NULL AND agent_answered_at IS NULL AND disposition = 'abandoned'"
        " AND purpose != 'callback'",
        (to_db(start), to_db(end)),
    )
    return [AbandonRow._make(r) for r in rows]


def load_callbacks(store: Store, start: datetime, end: datetime) -> list[CallbackRow]:
    rows = _tuples(
        store,
        f"SELECT number, source, status, {_epoch('requested_at')}, {_epoch('completed_at')} FROM callbacks"
        " WHERE requested_at >= ? AND requested_at < ?",
        (to_db(start), to_db(end)),
    )
    return [CallbackRow._make(row) for row in rows]


def load_reminder_attempts(store: Store, start: datetime, end: datetime) -> list[ReminderAttemptRow]:
    rows = store.query(
        "SELECT reminder_id, outcome FROM reminder_attempts WHERE started_at >= ? AND started_at < ?",
        (to_db(start), to_db(end)),
    )
    return [ReminderAttemptRow(int(r[0]), r[1]) for r in rows]


def load_heat_buckets(store: Store, start: datetime, end: datetime) -> list[tuple[float, int, int]]:
    rows = store.query(
        f"SELECT {_epoch('bucket')}, n, q FROM ("
        " SELECT substr(started_at, 1, 14) || CASE WHEN substr(started_at, 15, 2) < '30' THEN '00' ELSE '30' END"
        "   AS bucket, sum(direction = 'inbound') AS n, sum(queued_at IS NOT NULL AND purpose != 'callback') AS q"
        " FROM calls WHERE started_at >= ? AND started_at < ? GROUP BY bucket)",
        (to_db(start), to_db(end)),
    )
    return [(float(r[0]), int(r[1]), int(r[2])) for r in rows]


def load_agent_states(
    store: Store, agents: Iterable[str], start: datetime, end: datetime
) -> dict[str, list[tuple[float, float, str]]]:
    """Each agent's ``(from, to, state)`` intervals covering [start, end)."""
    lo, hi = to_db(start), to_db(end)
    out = {}
    for agent in agents:
        before = store.query_one(
            "SELECT state FROM agent_events WHERE agent = ? AND at < ? ORDER BY at DESC LIMIT 1", (agent, lo)
        )
        rows = store.query(
            f"SELECT {_epoch('at')}, state FROM agent_events WHERE agent = ? AND at >= ? AND at < ? ORDER BY at",
            (agent, lo, hi),
        )
        events = [AgentEventRow(agent, float(r[0]), r[1]) for r in rows]
        out[agent] = state_intervals(events, start.timestamp(), end.timestamp(), before[0] if before else "logged-out")
    return out


def known_agents(store: Store) -> list[str]:
    return [r[0] for r in store.query("SELECT DISTINCT agent FROM agent_events ORDER BY agent")]


def adherence_report(
    store: Store, hours: BusinessHours, agents: Iterable[str], start: datetime, end: datetime
) -> AdherenceKpis:
    states = load_agent_states(store, agents, start, end)
    served = {agent: in_service(intervals) for agent, intervals in states.items()}
    planned = {
        agent: planned_on_worked_days(hours, worked, start.timestamp(), end.timestamp())
        for agent, worked in served.items()
    }
    return schedule_adherence(served, planned)


def heatmap_report(store: Store, timezone: str, end: datetime, weeks: int = 4) -> HeatMap:
    return hour_of_week(load_heat_buckets(store, end - timedelta(weeks=weeks), end), timezone, weeks)


def kpi_report(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    hours: BusinessHours,
    agents: Iterable[str] | None = None,
    now: datetime | None = None,
    service_level_s: float = 20.0,
    staffing_target: float = 0.8,
    busiest: int = 5,
    heat_weeks: int = 4,
) -> KpiReport:
    """Every KPI for calls that started in [start, end) (aware datetimes).

    Args:
        hours: business hours and time zone (heat map, adherence plan).
        agents: stations to rate for adherence; ``None`` = all seen in agent_events.
        now: the report's "now" (default: the store's clock); the last
            agent state lasts until then, FCR waits 7 days after a call.
    """
    now = now or store.clock.now()
    stop = min(end, now) if now > start else end
    timezone = str(hours.tz.key)
    fcr_end = end + timedelta(seconds=FCR_WINDOW_S)
    return build_report(
        start=start.timestamp(),
        end=end.timestamp(),
        now=now.timestamp(),
        timezone=timezone,
        tallies=load_queue_tallies(store, start, end, service_level_s=service_level_s),
        fcr=load_fcr(store, start, end, now),
        abandons=load_abandons(store, start, end),
        callbacks=load_callbacks(store, start, fcr_end),
        reminder_attempts=load_reminder_attempts(store, start, end),
        adherence=adherence_report(store, hours, known_agents(store) if agents is None else agents, start, stop),
        heatmap=heatmap_report(store, timezone, end, heat_weeks),
        service_level_s=service_level_s,
        staffing_target=staffing_target,
        busiest=busiest,
        textback=textback_kpis(store, start, end),
        waitlist=waitlist_kpis(store, start, end),
    )


def kpi_report_for(
    cfg: Config,
    store: Store,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    *,
    service_level_s: float = 20.0,
    staffing_target: float = 0.8,
) -> KpiReport:
    """:func:`kpi_report` with the clinic's hours, time zone and stations."""
    return kpi_report(
        store,
        start,
        end,
        hours=BusinessHours.from_settings(cfg.hours, cfg.clinic.timezone),
        agents=sorted(cfg.stations) or None,
        now=now,
        service_level_s=service_level_s,
        staffing_target=staffing_target,
    )
