"""The KPI report: every figure for one period, assembled from plain rows.

:func:`build_report` is pure (rows in, report out); the store queries that
feed it are in :mod:`appliance.reports.query`. The Erlang C staffing rows
are computed for the busiest hours of the heat map, with the arrival rate
of that hour (queued calls per week) and the period's AHT (or 180 s when
nothing was answered yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from appliance.reports.adherence import AdherenceKpis
from appliance.reports.erlang import agents_for_service_level
from appliance.reports.heatmap import WEEKDAYS, HeatMap
from appliance.reports.kpis import (
    CallbackKpis,
    FcrKpis,
    QueueKpis,
    QueueTally,
    ReminderKpis,
    abandons_of,
    callback_kpis,
    contacts_of,
    first_call_resolution,
    reminder_kpis,
    tally_by_queue,
    total_tally,
)
from appliance.reports.rows import AbandonRow, CallbackRow, CallRow, ReminderAttemptRow
from appliance.reports.textback import TextBackKpis
from appliance.reports.waitlist import WaitlistKpis

DEFAULT_AHT_S = 180.0


@dataclass(frozen=True)
class StaffingRow:
    weekday: str
    hour: int
    calls_per_hour: float
    agents: int
    service_level: float
    asa_s: float
    occupancy: float


@dataclass(frozen=True)
class KpiReport:
    start: float
    end: float
    timezone: str
    queue: QueueKpis
    by_queue: dict[str, QueueKpis]
    fcr: FcrKpis
    callbacks: CallbackKpis
    adherence: AdherenceKpis
    reminders: ReminderKpis
    heatmap: HeatMap
    staffing_target: float
    staffing_target_s: float
    staffing_aht_s: float
    staffing: tuple[StaffingRow, ...]
    textback: TextBackKpis = field(default_factory=TextBackKpis)
    waitlist: WaitlistKpis = field(default_factory=WaitlistKpis)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def staffing_for(
    heatmap: HeatMap, aht_s: float, target: float, target_s: float, busiest: int = 5
) -> tuple[StaffingRow, ...]:
    rows = []
    for day, hour, per_hour in heatmap.busiest(busiest):
        need = agents_for_service_level(per_hour, aht_s, target, target_s)
        rows.append(
            StaffingRow(WEEKDAYS[day], hour, per_hour, need.agents, need.service_level, need.asa_s, need.occupancy)
        )
    return tuple(rows)


def build_report(
    *,
    start: float,
    end: float,
    now: float,
    timezone: str,
    tallies: Mapping[str, QueueTally],
    fcr: FcrKpis,
    abandons: Sequence[AbandonRow],
    callbacks: Sequence[CallbackRow],
    reminder_attempts: Sequence[ReminderAttemptRow],
    adherence: AdherenceKpis,
    heatmap: HeatMap,
    service_level_s: float = 20.0,
    staffing_target: float = 0.8,
    busiest: int = 5,
    textback: TextBackKpis | None = None,
    waitlist: WaitlistKpis | None = None,
) -> KpiReport:
    """All KPIs for [start, end).

    Args:
        tallies: queue tally per queue for calls that started in the period.
        fcr: the first-call-resolution proxy for the period (from
            :func:`first_call_resolution`, or computed in SQL by the store query).
        abandons: the period's abandoned queued calls.
        now: FCR leaves out calls younger than 7 days at ``now``.
    """
    queue = total_tally(tallies.values()).kpis(service_level_s)
    aht = queue.aht_s or DEFAULT_AHT_S
    return KpiReport(
        start=start,
        end=end,
        timezone=timezone,
        queue=queue,
        by_queue={name: tally.kpis(service_level_s) for name, tally in sorted(tallies.items())},
        fcr=fcr,
        callbacks=callback_kpis(abandons, callbacks),
        adherence=adherence,
        reminders=reminder_kpis(reminder_attempts),
        heatmap=heatmap,
        staffing_target=staffing_target,
        staffing_target_s=service_level_s,
        staffing_aht_s=aht,
        staffing=staffing_for(heatmap, aht, staffing_target, service_level_s, busiest),
        textback=textback or TextBackKpis(),
        waitlist=waitlist or WaitlistKpis(),
    )


def report_from_calls(
    calls: Sequence[CallRow],
    *,
    start: float,
    end: float,
    now: float,
    timezone: str,
    callbacks: Sequence[CallbackRow] = (),
    reminder_attempts: Sequence[ReminderAttemptRow] = (),
    adherence: AdherenceKpis | None = None,
    heatmap: HeatMap | None = None,
    service_level_s: float = 20.0,
) -> KpiReport:
    """:func:`build_report` from whole call rows (tests, small exports)."""
    period = [c for c in calls if start <= c.started < end]
    return build_report(
        start=start,
        end=end,
        now=now,
        timezone=timezone,
        tallies=tally_by_queue(period, service_level_s),
        fcr=first_call_resolution(contacts_of(calls), start, end, now),
        abandons=abandons_of(period),
        callbacks=callbacks,
        reminder_attempts=reminder_attempts,
        adherence=adherence or AdherenceKpis((), 0.0, 0.0, None),
        heatmap=heatmap or HeatMap(0, ((0.0,) * 24,) * 7, ((0.0,) * 24,) * 7),
        service_level_s=service_level_s,
    )
