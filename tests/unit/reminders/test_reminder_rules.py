"""The planner: offsets, channels, opt-out, windows, holidays, DST, cut-offs, late bookings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from appliance.reminders.rules import Planned, Policy, channels_for, plan
from appliance.reminders.windows import Windows

WEEK = {d: ["09:00-19:00"] for d in range(5)} | {5: ["10:00-14:00"]}


def policy(
    tz: str = "Europe/Warsaw",
    offsets: tuple[int, ...] = (48, 24),
    spans: dict[int, list[str]] | None = None,
    holidays: tuple[str, ...] = (),
    cutoff: time | None = time(10, 0),
    **kw: Any,
) -> Policy:
    return Policy(
        offsets_h=tuple(sorted(offsets, reverse=True)),
        windows=Windows(spans if spans is not None else WEEK, holidays, tz),
        min_notice=kw.get("min_notice", timedelta(hours=2)),
        same_day_cutoff=cutoff,
        max_attempts=3,
        retry_min=30,
        retry_max_min=240,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(p: Planned, pol: Policy) -> tuple[str, str]:
    return p.due_at.astimezone(pol.windows.tz).strftime("%a %H:%M"), p.expires_at.astimezone(pol.windows.tz).strftime(
        "%a %H:%M"
    )


NOW = utc(2026, 3, 2, 6, 0)  # Monday 07:00 in Warsaw


def test_two_offsets_give_two_reminders_that_never_overlap() -> None:
    pol = policy()
    visit = utc(2026, 3, 5, 10, 0)  # Thursday 11:00 CET
    out = plan(visit, ("sms",), pol, NOW)
    assert [(p.offset_minutes, *local(p, pol)) for p in out] == [
        (48 * 60, "Tue 11:00", "Wed 11:00"),
        (24 * 60, "Wed 11:00", "Thu 09:00"),  # min notice 2 h before 11:00
    ]


def test_both_channels_get_a_reminder_each_and_none_or_opt_out_get_none() -> None:
    pol = policy()
    visit = utc(2026, 3, 5, 10, 0)
    assert {p.channel for p in plan(visit, channels_for("both", True, False, True), pol, NOW)} == {"voice", "sms"}
    assert channels_for("none", True, False, True) == ()
    assert channels_for("sms", True, True, True) == ()  # opted out
    assert channels_for("voice", False, False, True) == ()  # no consent
    assert channels_for("voice", True, False, False) == ()  # no phone
    assert plan(visit, (), pol, NOW) == []


def test_whole_day_offsets_keep_the_local_time_across_spring_forward() -> None:
    # Monday 30 March 09:00 CEST (07:00 UTC); clocks jumped forward on Sunday 29 March.
    pol = policy(spans={d: ["08:00-20:00"] for d in range(7)})
    visit = utc(2026, 3, 30, 7, 0)
    out = plan(visit, ("voice",), pol, utc(2026, 3, 20, 0, 0))
    first = out[0]
    assert local(first, pol)[0] == "Sat 09:00"  # the same local hour two days before...
    assert visit - first.due_at == timedelta(hours=47)  # ...which is 47 real hours


def test_whole_day_offsets_keep_the_local_time_across_fall_back_in_new_york() -> None:
    # Monday 2 November 10:00 EST (15:00 UTC); clocks fell back on Sunday 1 November.
    pol = policy(tz="America/New_York", offsets=(24,), spans={d: ["08:00-20:00"] for d in range(7)})
    visit = utc(2026, 11, 2, 15, 0)
    (only,) = plan(visit, ("sms",), pol, utc(2026, 10, 25, 0, 0))
    assert local(only, pol)[0] == "Sun 10:00"
    assert visit - only.due_at == timedelta(hours=24)
    (before,) = plan(utc(2026, 11, 1, 15, 0), ("sms",), pol, utc(2026, 10, 25, 0, 0))  # Sunday 10:00 EST
    assert local(before, pol)[0] == "Sat 10:00" and utc(2026, 11, 1, 15, 0) - before.due_at == timedelta(hours=25)


def test_hour_offsets_are_exact_hours_across_dst() -> None:
    pol = policy(offsets=(30,), spans={d: ["00:00-24:00"] for d in range(7)}, cutoff=None)
    visit = utc(2026, 3, 30, 7, 0)
    (only,) = plan(visit, ("sms",), pol, utc(2026, 3, 20, 0, 0))
    assert visit - only.due_at == timedelta(hours=30)


def test_a_reminder_outside_the_windows_goes_out_when_the_next_window_opens() -> None:
    pol = policy(offsets=(24,))
    visit = utc(2026, 3, 5, 17, 0)  # Thursday 18:00: nominal Wednesday 18:00 is inside; 20:00 is not
    (a,) = plan(visit, ("sms",), pol, NOW)
    assert local(a, pol)[0] == "Wed 18:00"
    (b,) = plan(utc(2026, 3, 5, 19, 30), ("sms",), pol, NOW)  # nominal Wednesday 20:30
    assert local(b, pol)[0] == "Thu 09:00"  # next window, still before the 10:00 same-day cut-off


def test_a_monday_morning_visit_is_reminded_on_saturday_not_on_monday() -> None:
    pol = policy()  # no Sunday window; Saturday 10:00-14:00
    visit = utc(2026, 3, 9, 7, 0)  # Monday 08:00 CET
    out = plan(visit, ("voice",), pol, utc(2026, 3, 2, 6, 0))
    # 48 h (Saturday 08:00) and 24 h (Sunday 08:00) both land on Saturday's window: one reminder.
    assert [(p.offset_minutes, *local(p, pol)) for p in out] == [(24 * 60, "Sat 10:00", "Mon 06:00")]


def test_a_holiday_moves_the_reminder_to_the_window_before() -> None:
    pol = policy(offsets=(24,), holidays=("2026-03-04",))
    visit = utc(2026, 3, 5, 7, 0)  # Thursday 08:00; Wednesday is a holiday
    (only,) = plan(visit, ("sms",), pol, NOW)
    assert local(only, pol)[0] == "Tue 09:00"


def test_same_day_cutoff_allows_morning_reminders_for_afternoon_visits_only() -> None:
    pol = policy(offsets=(3,))
    (morning,) = plan(utc(2026, 3, 5, 11, 0), ("sms",), pol, NOW)  # Thursday 12:00: nominal 09:00
    assert local(morning, pol) == ("Thu 09:00", "Thu 10:00")
    assert plan(utc(2026, 3, 5, 15, 0), ("sms",), pol, NOW)[0].due_at < utc(2026, 3, 5, 9, 0)
    # Without a cut-off nothing goes out on the day itself.
    none_today = policy(offsets=(3,), cutoff=None)
    (prev,) = plan(utc(2026, 3, 5, 11, 0), ("sms",), none_today, NOW)
    assert local(prev, none_today)[0] == "Wed 09:00"


def test_late_booking_gets_one_reminder_and_too_late_gets_none() -> None:
    pol = policy()
    now = utc(2026, 3, 4, 9, 0)  # Wednesday 10:00
    visit = utc(2026, 3, 5, 12, 0)  # Thursday 13:00: the 48 h time has passed, the 24 h one is ahead
    assert [(p.offset_minutes, local(p, pol)[0]) for p in plan(visit, ("sms",), pol, now)] == [(24 * 60, "Wed 13:00")]
    later = utc(2026, 3, 4, 13, 0)  # Wednesday 14:00: both passed; the last goes out now
    assert [(p.offset_minutes, p.due_at) for p in plan(visit, ("sms",), pol, later)] == [(24 * 60, later)]
    assert plan(utc(2026, 3, 4, 10, 0), ("sms",), pol, now) == []  # in an hour: inside min notice
    assert plan(utc(2026, 3, 1, 10, 0), ("sms",), pol, now) == []  # in the past


def test_retry_delay_doubles_up_to_the_maximum() -> None:
    pol = policy()
    assert [pol.retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 240, 240]
