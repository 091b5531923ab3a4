"""Business hours in the clinic's time zone: DST changes, holidays, night mode."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from appliance.errors import ConfigError
from appliance.ivr.hours import BusinessHours

WEEKDAYS_8_16 = {d: ["08:00-16:00"] for d in range(5)}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "moment", "expected", "why"),
    [
        # Europe/Warsaw: CET (UTC+1) until Sun 2026-03-29 02:00, then CEST (UTC+2).
        ("Europe/Warsaw", utc(2026, 3, 23, 6, 30), False, "Mon before DST: 07:30 CET, not open yet"),
        ("Europe/Warsaw", utc(2026, 3, 23, 7, 0), True, "Mon before DST: 08:00 CET opens"),
        ("Europe/Warsaw", utc(2026, 3, 30, 6, 0), True, "Mon after DST: 08:00 CEST opens an hour earlier in UTC"),
        ("Europe/Warsaw", utc(2026, 3, 30, 5, 59), False, "Mon after DST: 07:59 CEST"),
        ("Europe/Warsaw", utc(2026, 3, 30, 14, 0), False, "Mon after DST: 16:00 CEST closes"),
        ("Europe/Warsaw", utc(2026, 3, 23, 14, 30), True, "Mon before DST: 15:30 CET"),
        # Back to CET on Sun 2026-10-25 03:00 CEST.
        ("Europe/Warsaw", utc(2026, 10, 23, 6, 0), True, "Fri before fall-back: 08:00 CEST"),
        ("Europe/Warsaw", utc(2026, 10, 26, 6, 0), False, "Mon after fall-back: 07:00 CET"),
        ("Europe/Warsaw", utc(2026, 10, 26, 7, 0), True, "Mon after fall-back: 08:00 CET"),
        # America/New_York: EST (UTC-5) until Sun 2026-03-08, then EDT (UTC-4); EST again from Sun 2026-11-01.
        ("America/New_York", utc(2026, 3, 6, 12, 30), False, "Fri before DST: 07:30 EST"),
        ("America/New_York", utc(2026, 3, 6, 13, 0), True, "Fri before DST: 08:00 EST"),
        ("America/New_York", utc(2026, 3, 9, 12, 0), True, "Mon after DST: 08:00 EDT"),
        ("America/New_York", utc(2026, 3, 9, 20, 0), False, "Mon after DST: 16:00 EDT closes"),
        ("America/New_York", utc(2026, 11, 2, 12, 30), False, "Mon after fall-back: 07:30 EST"),
        ("America/New_York", utc(2026, 11, 2, 13, 0), True, "Mon after fall-back: 08:00 EST"),
        ("America/New_York", utc(2026, 3, 7, 15, 0), False, "Saturday: no hours"),
    ],
)
def test_opening_follows_local_wall_clock_across_dst(tz: str, moment: datetime, expected: bool, why: str) -> None:
    hours = BusinessHours(WEEKDAYS_8_16, [], tz)
    assert hours.is_open(moment) is expected, why


def test_repeated_hour_on_fall_back_day_is_open_both_times() -> None:
    # Sunday 2026-11-01 in New York: 01:00-01:59 happens twice (EDT, then EST).
    hours = BusinessHours({6: ["01:00-02:00"]}, [], "America/New_York")
    assert hours.is_open(utc(2026, 11, 1, 5, 30))  # 01:30 EDT
    assert hours.is_open(utc(2026, 11, 1, 6, 30))  # 01:30 EST
    assert not hours.is_open(utc(2026, 11, 1, 7, 30))  # 02:30 EST


def test_skipped_hour_on_spring_day_is_never_reached() -> None:
    # Sunday 2026-03-29 in Warsaw: 02:00-02:59 does not exist.
    hours = BusinessHours({6: ["02:00-03:00"]}, [], "Europe/Warsaw")
    assert not hours.is_open(utc(2026, 3, 29, 0, 59))  # 01:59 CET
    assert not hours.is_open(utc(2026, 3, 29, 1, 0))  # 03:00 CEST


def test_multiple_spans_and_lunch_break() -> None:
    hours = BusinessHours({0: ["08:00-12:00", "13:00-17:00"]}, [], "UTC")
    assert hours.is_open(utc(2026, 3, 2, 11, 59))
    assert not hours.is_open(utc(2026, 3, 2, 12, 30))
    assert hours.is_open(utc(2026, 3, 2, 13, 0))
    assert not hours.is_open(utc(2026, 3, 2, 17, 0))


def test_open_until_midnight_with_24_00() -> None:
    hours = BusinessHours({0: ["00:00-24:00"]}, [], "UTC")
    assert hours.is_open(utc(2026, 3, 2, 0, 0))
    assert hours.is_open(utc(2026, 3, 2, 23, 59))
    assert not hours.is_open(utc(2026, 3, 3, 0, 0))  # Tuesday: closed


@pytest.mark.parametrize(
    ("holidays", "moment", "expected"),
    [
        (["2026-05-01"], utc(2026, 5, 1, 8, 0), False),  # one-off, a Friday in Warsaw at 10:00
        (["2026-05-01"], utc(2027, 4, 30, 8, 0), True),  # not the next year
        (["05-03"], utc(2027, 5, 3, 8, 0), False),  # yearly, Monday 2027-05-03
        (["05-03"], utc(2028, 5, 3, 8, 0), False),  # yearly, Wednesday 2028-05-03
        (["05-03"], utc(2028, 5, 4, 8, 0), True),
        # The holiday is the local date: 23:30 UTC on 12-31 is already 01-01 in Warsaw.
        (["01-01"], utc(2026, 12, 31, 23, 30), False),
    ],
)
def test_holidays_close_the_local_day(holidays: list[str], moment: datetime, expected: bool) -> None:
    every_day = {d: ["00:00-24:00"] for d in range(7)}
    hours = BusinessHours(every_day, holidays, "Europe/Warsaw")
    assert hours.is_open(moment) is expected


def test_feb_29_yearly_holiday_only_in_leap_years() -> None:
    hours = BusinessHours({d: ["00:00-24:00"] for d in range(7)}, ["02-29"], "UTC")
    assert hours.is_holiday(date(2028, 2, 29))
    assert not hours.is_holiday(date(2027, 2, 28))
    assert not hours.is_holiday(date(2027, 3, 1))


def test_night_mode_closes_during_hours() -> None:
    hours = BusinessHours(WEEKDAYS_8_16, [], "UTC")
    moment = utc(2026, 3, 2, 10, 0)
    assert hours.is_open(moment)
    assert not hours.is_open(moment, night_mode=True)


@pytest.mark.parametrize(
    ("spans", "holidays", "tz", "message"),
    [
        ({0: ["8-16"]}, [], "UTC", "'8-16'"),
        ({}, ["2026-13-01"], "UTC", "'2026-13-01'"),
        ({}, ["13-01"], "UTC", "'13-01'"),
        ({}, [], "Europe/Warsw", "Europe/Warsw"),
    ],
)
def test_bad_hours_raise_clear_error(spans: dict[int, list[str]], holidays: list[str], tz: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BusinessHours(spans, holidays, tz)


def test_naive_datetime_is_refused() -> None:
    hours = BusinessHours(WEEKDAYS_8_16, [], "UTC")
    with pytest.raises(ValueError, match="naive"):
        hours.is_open(datetime(2026, 3, 2, 10, 0))
