"""The schedule: a day or a week of appointments in the clinic's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appliance.store.appointments import Appointment
from appliance.store.repos import Repos


@dataclass(frozen=True)
class Day:
    day: date
    items: list[tuple[Appointment, str]]


@dataclass(frozen=True)
class Schedule:
    view: str  # "day" or "week"
    start: date
    days: list[Day]

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=1 if self.view == "day" else 7)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=1 if self.view == "day" else 7)

    @property
    def count(self) -> int:
        return sum(len(d.items) for d in self.days)


def load(repos: Repos, view: str, anchor: date, actor: str) -> Schedule:
    """Appointments of the day, or of the week (Monday first) holding ``anchor``."""
    tz = ZoneInfo(repos.cfg.clinic.timezone)
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        length = 7
    else:
        view, start, length = "day", anchor, 1
    begin = datetime.combine(start, time(0), tz)
    end = datetime.combine(start + timedelta(days=length), time(0), tz)
    rows = repos.appointments.between(begin, end, actor)
    days = [Day(start + timedelta(days=i), []) for i in range(length)]
    for appt, name in rows:
        local = appt.starts_at.astimezone(tz).date()
        index = (local - start).days
        if 0 <= index < length:
            days[index].items.append((appt, name))
    return Schedule(view, start, days)
