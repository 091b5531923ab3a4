"""Calling windows: weekdays, holidays, and the local hour across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.reminders.windows import Windows

EVERY_DAY = {d: ["09:00-19:00"] for d in range(7)}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        # Warsaw jumps from CET (+1) to CEST (+2) on Sunday 2026-03-29.
        ("Europe/Warsaw", utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0)),
        # ...and back on Sunday 2026-10-25.
        ("Europe/Warsaw", utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 8, 0)),
        # New York: EST (-5) to EDT (-4) on Sunday 2026-03-08, back on 2026-11-01.
        ("America/New_York", utc(2026, 3, 7, 14, 0), utc(2026, 3, 8, 13, 0)),
        ("America/New_York", utc(2026, 10, 31, 13, 0), utc(2026, 11, 1, 14, 0)),
    ],
)
def test_windows_open_at_the_same_local_hour_on_both_sides_of_a_dst_change(
    tz: str, before: datetime, after: datetime
) -> None:
    w = Windows(EVERY_DAY, [], tz)
    assert w.next_open(before.replace(hour=0)) == before
    assert w.next_open(after.replace(hour=0)) == after
    assert w.next_open(before).astimezone(w.tz).hour == 9  # type: ignore[union-attr]
    assert w.next_open(after).astimezone(w.tz).hour == 9  # type: ignore[union-attr]


def test_a_window_across_the_missing_hour_opens_at_the_same_instant_as_one_hour_later() -> None:
    # 02:30 does not exist in Warsaw on 2026-03-29; the window opens at 03:30 CEST (01:30 UTC).
    w = Windows({6: ["02:30-05:00"]}, [], "Europe/Warsaw")
    assert w.next_open(utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 30)
    assert w.close_of(utc(2026, 3, 29, 2, 0)) == utc(2026, 3, 29, 3, 0)  # 05:00 CEST


def test_closed_weekdays_and_holidays_are_skipped() -> None:
    w = Windows({0: ["09:00-12:00"], 1: ["09:00-12:00"]}, ["2026-03-02"], "Europe/Warsaw")
    # Sunday 1 March at noon: Monday 2 March is a one-off holiday, so Tuesday 09:00 CET.
    assert w.next_open(utc(2026, 3, 1, 11, 0)) == utc(2026, 3, 3, 8, 0)
    assert not w.is_open(utc(2026, 3, 2, 9, 0))
    assert w.is_open(utc(2026, 3, 3, 9, 0))


def test_a_yearly_holiday_closes_the_day_every_year() -> None:
    w = Windows(EVERY_DAY, ["12-25"], "America/New_York")
    assert not w.is_open(utc(2026, 12, 25, 16, 0))
    assert not w.is_open(utc(2027, 12, 25, 16, 0))
    assert w.is_open(utc(2026, 12, 24, 16, 0))


def test_next_open_respects_until_and_inside_a_window_is_now() -> None:
    w = Windows(EVERY_DAY, [], "Europe/Warsaw")
    inside = utc(2026, 3, 3, 10, 0)
    assert w.next_open(inside) == inside
    assert w.next_open(utc(2026, 3, 3, 19, 0), until=utc(2026, 3, 4, 7, 0)) is None
    assert w.next_open(utc(2026, 3, 3, 19, 0), until=utc(2026, 3, 4, 9, 0)) == utc(2026, 3, 4, 8, 0)


def test_window_start_before_finds_the_previous_window() -> None:
    w = Windows({5: ["10:00-14:00"]}, [], "Europe/Warsaw")  # Saturdays only
    # Monday 2 March 07:00 UTC: the last window started Saturday 28 February 10:00 CET.
    assert w.window_start_before(utc(2026, 3, 2, 7, 0)) == utc(2026, 2, 28, 9, 0)
    assert w.window_start_before(utc(2026, 3, 2, 7, 0), not_before=utc(2026, 3, 1, 0, 0)) is None


def test_no_window_at_all_never_opens() -> None:
    w = Windows({}, [], "Europe/Warsaw")
    assert w.next_open(utc(2026, 3, 3, 10, 0)) is None
    assert w.window_start_before(utc(2026, 3, 3, 10, 0)) is None
