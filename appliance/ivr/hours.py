"""Business hours: is the clinic open at this moment?

Hours are wall-clock spans in the clinic's time zone, per weekday, so
"08:00-16:00" means 08:00 local time in winter and in summer alike: across a
DST change the UTC moment of opening moves, the local hour does not. On the
day clocks jump forward, local times that do not exist are simply never
reached; on the day they fall back, the repeated hour is inside or outside
the span both times. Holidays are local dates: ``YYYY-MM-DD`` once, or
``MM-DD`` every year (``02-29`` only in leap years). The manual night-mode
switch closes the clinic regardless of the hours.

Example:
    >>> from datetime import datetime, UTC
    >>> hours = BusinessHours({0: ["08:00-16:00"]}, [], "Europe/Warsaw")
    >>> hours.is_open(datetime(2026, 3, 30, 6, 30, tzinfo=UTC))  # 08:30 CEST, a Monday
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.config.callflow import HoursSettings
from appliance.errors import ConfigError


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class BusinessHours:
    """Opening spans per weekday (0 = Monday), holidays and the time zone.

    Raises:
        ConfigError: a span, a holiday or the time zone cannot be read.
    """

    def __init__(self, spans: Mapping[int, Iterable[str]], holidays: Iterable[str], timezone: str) -> None:
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError([f"clinic.timezone: unknown time zone {timezone!r}"]) from exc
        self._spans: dict[int, list[tuple[int, int]]] = {}
        for day in range(7):
            parsed = []
            for span in spans.get(day, ()):
                try:
                    start, end = span.split("-")
                    parsed.append((_minutes(start), _minutes(end)))
                except ValueError as exc:
                    raise ConfigError([f"hours: {span!r} is not a span like '08:00-16:00'"]) from exc
            self._spans[day] = sorted(parsed)
        self._once: set[date] = set()
        self._yearly: set[tuple[int, int]] = set()
        for item in holidays:
            try:
                if len(item) == 5:
                    month, day_of_month = (int(x) for x in item.split("-"))
                    date(2024, month, day_of_month)  # validates, leap year allows 02-29
                    self._yearly.add((month, day_of_month))
                else:
                    self._once.add(date.fromisoformat(item))
            except ValueError as exc:
                raise ConfigError([f"hours.holidays: {item!r} is not 'YYYY-MM-DD' or 'MM-DD'"]) from exc

    @classmethod
    def from_settings(cls, hours: HoursSettings, timezone: str) -> BusinessHours:
        return cls({day: hours.for_day(day) for day in range(7)}, hours.holidays, timezone)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to BusinessHours; pass an aware (UTC) time")
        return moment.astimezone(self.tz)

    def is_holiday(self, day: date) -> bool:
        return day in self._once or (day.month, day.day) in self._yearly

    def is_open(self, moment: datetime, night_mode: bool = False) -> bool:
        """Open at ``moment`` (aware), unless night mode or a holiday closes it."""
        if night_mode:
            return False
        local = self.local(moment)
        if self.is_holiday(local.date()):
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self._spans[local.weekday()])

    def spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Opening spans of a local date as aware datetimes (none on holidays).

        Used by the reports to know when agents were expected to be available.
        """
        if self.is_holiday(day):
            return []
        out = []
        for start, end in self._spans[day.weekday()]:
            opens = datetime.combine(day, time(start // 60, start % 60), self.tz)
            if end < 24 * 60:
                closes = datetime.combine(day, time(end // 60, end % 60), self.tz)
            else:
                closes = datetime.combine(day + timedelta(days=1), time(0), self.tz)
            out.append((opens, closes))
        return out
