"""Calling windows: when a patient may be called or texted.

Windows are wall-clock spans per weekday in the clinic's time zone
("09:00-19:00" is 09:00 local in winter and in summer), closed on the
clinic's holidays. Everything here is computed on aware datetimes and
returned in UTC, so the dispatcher compares instants, never local times.
Across a DST change a span that starts or ends at a local time that does
not exist (02:30 on the night clocks jump forward) starts or ends at the
same instant as one hour later; repeated local times (the night clocks
fall back) count once, at their first occurrence.

Example:
    >>> from datetime import datetime, UTC
    >>> w = Windows({0: ["09:00-19:00"]}, [], "Europe/Warsaw")
    >>> w.next_open(datetime(2026, 3, 30, 5, 0, tzinfo=UTC))   # Monday 07:00 local
    datetime.datetime(2026, 3, 30, 7, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta

from appliance.config import Config
from appliance.ivr.hours import BusinessHours

#: How far ahead or back a search for an open window looks.
SEARCH_DAYS = 21


class Windows:
    """Calling windows per weekday (0 = Monday), holidays, time zone.

    Raises:
        ConfigError: a span, a holiday or the time zone cannot be read.
    """

    def __init__(self, spans: Mapping[int, Iterable[str]], holidays: Iterable[str], timezone: str) -> None:
        self._hours = BusinessHours(spans, holidays, timezone)
        self.tz = self._hours.tz
        self._cache: dict[date, list[tuple[datetime, datetime]]] = {}

    @classmethod
    def from_config(cls, cfg: Config) -> Windows:
        w = cfg.reminders.windows
        return cls({day: w.for_day(day) for day in range(7)}, cfg.hours.holidays, cfg.clinic.timezone)

    def is_holiday(self, day: date) -> bool:
        return self._hours.is_holiday(day)

    def spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The windows of a local date as UTC instants (none on holidays)."""
        spans = self._cache.get(day)
        if spans is None:
            spans = []
            for opens, closes in self._hours.spans_on(day):
                a, b = opens.astimezone(UTC), closes.astimezone(UTC)
                if b > a:
                    spans.append((a, b))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[day] = spans
        return spans

    def _days(self, moment: datetime, step: int) -> Iterator[date]:
        day = moment.astimezone(self.tz).date() - timedelta(days=step)
        for _ in range(SEARCH_DAYS + 2):
            yield day
            day += timedelta(days=step)

    def is_open(self, moment: datetime) -> bool:
        day = moment.astimezone(self.tz).date()
        return any(a <= moment < b for a, b in self.spans_on(day))

    def next_open(self, moment: datetime, until: datetime | None = None) -> datetime | None:
        """The first instant at or after ``moment`` inside a window (before ``until``)."""
        for day in self._days(moment, 1):
            for a, b in self.spans_on(day):
                if b <= moment:
                    continue
                found = max(a, moment.astimezone(UTC))
                if until is not None and found >= until:
                    return None
                return found
            if until is not None and datetime.combine(day, datetime.min.time(), self.tz) >= until:
                return None
        return None

    def window_start_before(self, moment: datetime, not_before: datetime | None = None) -> datetime | None:
        """The start of the last window that opens before ``moment`` (not before ``not_before``).

        Used when a reminder's nominal time falls where no window follows
        before the visit: it then goes out at the start of the previous window.
        """
        for day in self._days(moment, -1):
            for a, _ in reversed(self.spans_on(day)):
                if a < moment:
                    if not_before is not None and a < not_before:
                        return None
                    return a
        return None

    def close_of(self, moment: datetime) -> datetime | None:
        """When the window containing ``moment`` closes (None when closed)."""
        day = moment.astimezone(self.tz).date()
        for a, b in self.spans_on(day):
            if a <= moment < b:
                return b
        return None
