"""The contact policy as a table: who may get a message now, and why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.contact import Limits, Request, decide

TZ = "Europe/Warsaw"
# Monday 7 December 2026, 10:00 in Warsaw (09:00 UTC).
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)

CASES = [
    # (case, kind, line, opted_out, window_open, earlier sends, limits, expected reason)
    ("a first text to a mobile", "textback", "mobile", False, True, (), Limits(1, 3), ""),
    ("opt-out beats everything", "textback", "mobile", True, True, (), Limits(1, 3), "opted-out"),
    ("opt-out also stops acknowledgements", "ack", "mobile", True, True, (), Limits(1, 3), "opted-out"),
    ("HELP is answered after STOP", "help", "mobile", True, True, (), Limits(1, 3), ""),
    ("STOP is confirmed to the number that just opted out", "stop-confirm", "mobile", True, True, (), Limits(1, 3), ""),
    ("never a landline", "reminder", "landline", False, True, (), Limits(1, 3), "landline"),
    ("never a withheld number", "textback", "withheld", False, True, (), Limits(1, 3), "withheld"),
    ("never a short code", "textback", "short-code", False, True, (), Limits(1, 3), "short-code"),
    ("never an emergency number", "textback", "emergency", False, True, (), Limits(1, 3), "emergency"),
    ("quiet hours", "textback", "mobile", False, False, (), Limits(1, 3), "quiet-hours"),
    ("one today already", "textback", "mobile", False, True, (NOW - H,), Limits(1, 3), "cap-day"),
    ("yesterday's does not count today", "reminder", "mobile", False, True, (NOW - D,), Limits(1, 3), ""),
    (
        "local days, not UTC: 00:30 Warsaw is still yesterday in UTC but today here",
        "reminder", "mobile", False, True, (datetime(2026, 12, 6, 23, 30, tzinfo=UTC),), Limits(1, 3), "cap-day",
    ),
    ("three this week", "reminder", "mobile", False, True, (NOW - D, NOW - 2 * D, NOW - 3 * D), Limits(1, 3), "cap-week"),
    ("three, but one 7 days ago", "reminder", "mobile", False, True, (NOW - D, NOW - 2 * D, NOW - 7 * D), Limits(1, 3), ""),
    ("a clinic allowing 2 a day", "textback", "mobile", False, True, (NOW - H,), Limits(2, 5), ""),
    ("answers are not capped", "stop-confirm", "mobile", False, True, (NOW - H, NOW - 2 * H), Limits(1, 3), ""),
    ("answers are not held for quiet hours", "help", "mobile", False, False, (), Limits(1, 3), ""),
    ("a future send (clock stepped back) does not count", "textback", "mobile", False, True, (NOW + H,), Limits(1, 3), ""),
]  # fmt: skip


@pytest.mark.parametrize(("case", "kind", "line", "out", "window", "sent", "limits", "reason"), CASES)
def test_decide(
    case: str, kind: str, line: str, out: bool, window: bool, sent: tuple[datetime, ...], limits: Limits, reason: str
) -> None:
    decision = decide(Request(kind, line, out, window, sent), limits, NOW, TZ)
    assert decision.reason == reason, case
    assert decision.send is (reason == ""), case
