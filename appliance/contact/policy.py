"""The contact policy (pure): may this message go to this patient now, and if not, why.

Every message a patient gets from the box (a reminder SMS, a missed-call
text-back, later waitlist offers and no-show follow-ups) asks :func:`decide`
first. The answer is the same for all of them:

1. an opted-out patient or number gets nothing (``opted-out``) but the
   STOP confirmation and an answer to HELP;
2. only mobile numbers get texts: a landline, a withheld number, a short
   code or an emergency number never does (``landline``, ``withheld``,
   ``short-code``, ``emergency``; see :mod:`appliance.contact.numbers`);
3. nothing goes out in quiet hours (``quiet-hours``): the caller decides
   whether the message waits for the window or is dropped;
4. at most ``per_day`` messages a local calendar day and ``per_week`` in
   the 7 local days ending today, across all kinds (``cap-day``,
   ``cap-week``). The default, 1 and 3, is the US TCPA healthcare
   exemption's limit.

Answers to the patient (STOP/START/HELP confirmations, acknowledgements of
a reply) are not capped and not held for quiet hours: the law wants them at
once, and the patient just wrote.

Example:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    >>> decide(Request("textback", "mobile", False, True, ()), Limits(1, 3), now, "Europe/Warsaw").reason
    ''
    >>> decide(Request("textback", "mobile", False, True, (now,)), Limits(1, 3), now, "Europe/Warsaw").reason
    'cap-day'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: Kinds that count towards the caps (the rest are answers to the patient).
CAPPED_KINDS = frozenset({"reminder", "textback", "waitlist", "followup"})
#: Answers the law wants sent even to an opted-out number: the STOP confirmation itself, and HELP.
ANSWERED_AFTER_STOP = frozenset({"stop-confirm", "help"})
#: Every reason a message is skipped, in the order they are checked.
REASONS = (
    "opted-out",
    "landline",
    "withheld",
    "short-code",
    "emergency",
    "quiet-hours",
    "cap-day",
    "cap-week",
)


@dataclass(frozen=True)
class Limits:
    """Caps per patient (or per number for callers the box does not know)."""

    per_day: int = 1
    per_week: int = 3


@dataclass(frozen=True)
class Request:
    """One message about to go out.

    Args:
        kind: reminder, textback, waitlist, followup (capped) or an answer
            (ack, stop-confirm, start-confirm, help: never capped or held).
        line: the number's type from :func:`appliance.contact.numbers.line_type`.
        opted_out: the patient or number said STOP (and no START since).
        window_open: the clinic's contact window is open now.
        sent: when earlier capped messages went to this patient or number
            (the last 8 days are enough).
    """

    kind: str
    line: str
    opted_out: bool
    window_open: bool
    sent: Sequence[datetime]


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str = ""


def decide(req: Request, limits: Limits, now: datetime, timezone: str) -> Decision:
    """May the message go now? ``reason`` is one of :data:`REASONS` when not."""
    if req.opted_out and req.kind not in ANSWERED_AFTER_STOP:
        return Decision(False, "opted-out")
    if req.line != "mobile":
        return Decision(False, req.line if req.line in REASONS else "landline")
    if req.kind not in CAPPED_KINDS:
        return Decision(True)
    if not req.window_open:
        return Decision(False, "quiet-hours")
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    week_start = today - timedelta(days=6)
    days = [t.astimezone(tz).date() for t in req.sent if t <= now]
    if sum(1 for d in days if d == today) >= limits.per_day:
        return Decision(False, "cap-day")
    if sum(1 for d in days if week_start <= d <= today) >= limits.per_week:
        return Decision(False, "cap-week")
    return Decision(True)
