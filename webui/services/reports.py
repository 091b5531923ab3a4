"""Reports for the web UI: a period, its KPI report, and a CSV of it.

The figures come from :mod:`appliance.reports` (definitions of
shared/DOMAIN.md, Erlang C staffing); this module only picks the period in
the clinic's time zone and flattens the report for a CSV file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.errors import ValidationError
from appliance.reports import KpiReport, ReportRunner

PRESETS = ("7d", "30d", "this-month", "last-month", "custom")
MAX_DAYS = 400


@dataclass(frozen=True)
class Period:
    preset: str
    first: date  # first day, inclusive
    last: date  # last day, inclusive
    start: datetime
    end: datetime


def period(preset: str, first: str, last: str, today: date, tz: ZoneInfo) -> Period:
    """The report's days, as local dates and as the [start, end) instants.

    Raises:
        ValidationError: a custom period with bad or reversed dates, or too long.
    """
    if preset == "30d":
        a, b = today - timedelta(days=29), today
    elif preset == "this-month":
        a, b = today.replace(day=1), today
    elif preset == "last-month":
        b = today.replace(day=1) - timedelta(days=1)
        a = b.replace(day=1)
    elif preset == "custom":
        try:
            a, b = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise ValidationError("from/to: write dates as YYYY-MM-DD") from None
        if b < a:
            raise ValidationError("to: the last day is before the first")
        if (b - a).days >= MAX_DAYS:
            raise ValidationError(f"choose at most {MAX_DAYS} days")
    else:
        preset = "7d"
        a, b = today - timedelta(days=6), today
    start = datetime.combine(a, time(0), tz)
    end = datetime.combine(b + timedelta(days=1), time(0), tz)
    return Period(preset, a, b, start, end)


def report(cfg: Config, runner: ReportRunner, p: Period, now: datetime) -> KpiReport:
    """The KPI report for a period, on the report connection (see ReportRunner)."""
    return runner.report(cfg, p.start, p.end, now)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def to_csv(rep: KpiReport, p: Period) -> str:
    """Sections of (name, value) rows, then the heat map and staffing tables."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["period", p.first.isoformat(), p.last.isoformat(), rep.timezone])
    w.writerow([])
    w.writerow(["section", "metric", "value"])
    sections = {
        "queue": rep.queue,
        "first_call_resolution": rep.fcr,
        "callbacks": rep.callbacks,
        "reminders": rep.reminders,
    }
    for name, kpis in sections.items():
        for key, value in vars(kpis).items():
            w.writerow([name, key, _cell(value)])
    for key, value in (*vars(rep.textback).items(), ("recovery_rate", rep.textback.recovery_rate)):
        w.writerow(["textback", key, _cell(value)])
    for key, value in (*vars(rep.waitlist).items(), ("fill_rate", rep.waitlist.fill_rate)):
        w.writerow(["waitlist", key, _cell(value)])
    w.writerow(["adherence", "planned_s", _cell(rep.adherence.planned_s)])
    w.writerow(["adherence", "in_service_s", _cell(rep.adherence.in_service_s)])
    w.writerow(["adherence", "adherence", _cell(rep.adherence.adherence)])
    for agent in rep.adherence.agents:
        w.writerow(["adherence", f"{agent.agent}.adherence", _cell(agent.adherence)])
    for queue, kpis in sorted(rep.by_queue.items()):
        for key, value in vars(kpis).items():
            w.writerow([f"queue:{queue}", key, _cell(value)])
    w.writerow([])
    w.writerow(["calls per hour of week (average per week)", *[f"{h:02d}" for h in range(24)]])
    for day, row in zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), rep.heatmap.calls, strict=True):
        w.writerow([day, *[_cell(v) for v in row]])
    w.writerow([])
    w.writerow(["weekday", "hour", "calls_per_hour", "agents", "service_level", "asa_s", "occupancy"])
    for s in rep.staffing:
        w.writerow(
            [
                s.weekday,
                s.hour,
                _cell(s.calls_per_hour),
                s.agents,
                _cell(s.service_level),
                _cell(s.asa_s),
                _cell(s.occupancy),
            ]
        )
    return out.getvalue()
