"""Contact-centre KPIs, exactly as shared/DOMAIN.md defines them.

Pure functions on :mod:`appliance.reports.rows`. A rate whose denominator
is zero is ``None`` (shown as "no data"), never 0 %. Times are kept to the
millisecond, as the store writes them (waits and talk are rounded to ms).

* ASA: mean of ``agent_answered - queued`` over queued calls an agent answered.
* Abandon rate: queued calls with disposition ``abandoned`` / queued calls.
  Short abandons (wait < 5 s) are counted and rated separately, and the
  rate without them (both numerator and denominator) is given too.
* Service level: queued calls answered within 20 s (wait <= 20) / queued calls.
* AHT: mean of talk + hold + wrap-up over answered calls, with
  ``talk = ended - agent_answered - hold``; average call duration = mean talk.
* FCR proxy: answered inbound calls whose caller did not call in again
  within 7 days after / such calls. Calls younger than 7 days are "pending"
  and left out; anonymous callers are left out.
* Callback rate: distinct callers who abandoned in the period and were
  called back (a ``done`` callback for their number completed after the
  abandon) / distinct abandoning callers with a number; time to callback =
  completion - abandon.
* Reminder confirmation rate: reminders with a ``confirmed`` attempt /
  reminders attempted in the period.

"Queued" means a caller entered a queue (``queued_at`` set), whatever the
direction: a reminder call whose patient pressed 3 for the desk counts. A
virtual-hold callback call does not (``purpose = 'callback'``): the box
rang the patient and put them through within a second, so counting it
would add a fast answered call for every callback and flatter ASA and
service level; the caller's wait is on their original call, and callbacks
are measured by the callback KPIs. A caller an agent transferred back into
a queue waited until the *first* agent answered (``CallRow.first_answered``);
their first conversation is not queue wait.
Queue KPIs are sums and counts (:class:`QueueTally`), so the store can add
them up in SQL for a long period and hand over one tally per queue; the
rates are then computed here the same way for both paths.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.reports.rows import AbandonRow, CallbackRow, CallRow, ContactRow, ReminderAttemptRow

SHORT_ABANDON_S = 5.0
SERVICE_LEVEL_S = 20.0
FCR_WINDOW_S = 7 * 86400.0
#: Callers that are not a number anyone can ring back; "erased" is what
#: erasing a patient writes over their calls' numbers.
ANONYMOUS = frozenset({"", "anonymous", "unknown", "private", "restricted", "unavailable", "erased"})


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def known_number(caller: str) -> bool:
    """A caller id the clinic could call back (not empty, not "anonymous")."""
    return bool(caller) and caller.lower() not in ANONYMOUS


@dataclass(frozen=True)
class QueueKpis:
    queued: int
    answered: int
    abandoned: int
    short_abandoned: int
    callback_requests: int
    overflowed: int
    abandon_rate: float | None
    short_abandon_rate: float | None
    abandon_rate_excl_short: float | None
    service_level: float | None
    service_level_s: float
    asa_s: float | None
    aht_s: float | None
    avg_talk_s: float | None
    avg_hold_s: float | None
    avg_wrap_s: float | None
    longest_wait_s: float | None


@dataclass
class QueueTally:
    """Counts and sums over queued calls; everything the queue KPIs need."""

    queued: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    callback_requests: int = 0
    overflowed: int = 0
    answered_within: int = 0
    wait_s: float = 0.0  # sum over answered calls
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_s: float = 0.0
    longest_wait_s: float | None = None

    def add(self, call: CallRow, service_level_s: float = SERVICE_LEVEL_S, short_s: float = SHORT_ABANDON_S) -> None:
        """Count one call (calls that never queued, and callback calls, are ignored)."""
        if not call.queued_caller:
            return
        self.queued += 1
        wait = call.wait
        if wait is not None and (self.longest_wait_s is None or wait > self.longest_wait_s):
            self.longest_wait_s = wait
        if call.agent_answered is not None:
            self.answered += 1
            wait = wait or 0.0
            self.wait_s += wait
            self.answered_within += wait <= service_level_s
            self.talk_s += call.talk
            self.hold_s += call.hold
            self.wrap_s += call.wrap
        elif call.disposition == "abandoned":
            self.abandoned += 1
            self.short_abandoned += wait is not None and wait < short_s
        elif call.disposition == "callback":
            self.callback_requests += 1
        elif call.disposition == "overflow":
            self.overflowed += 1

    def merge(self, other: QueueTally) -> QueueTally:
        longest = [w for w in (self.longest_wait_s, other.longest_wait_s) if w is not None]
        return QueueTally(
            self.queued + other.queued,
            self.answered + other.answered,
            self.abandoned + other.abandoned,
            self.short_abandoned + other.short_abandoned,
            self.callback_requests + other.callback_requests,
            self.overflowed + other.overflowed,
            self.answered_within + other.answered_within,
            self.wait_s + other.wait_s,
            self.talk_s + other.talk_s,
            self.hold_s + other.hold_s,
            self.wrap_s + other.wrap_s,
            max(longest) if longest else None,
        )

    def kpis(self, service_level_s: float = SERVICE_LEVEL_S) -> QueueKpis:
        answered, queued, short = self.answered, self.queued, self.short_abandoned
        return QueueKpis(
            queued=queued,
            answered=answered,
            abandoned=self.abandoned,
            short_abandoned=short,
            callback_requests=self.callback_requests,
            overflowed=self.overflowed,
            abandon_rate=ratio(self.abandoned, queued),
            short_abandon_rate=ratio(short, queued),
            abandon_rate_excl_short=ratio(self.abandoned - short, queued - short),
            service_level=ratio(self.answered_within, queued),
            service_level_s=service_level_s,
            asa_s=ratio(self.wait_s, answered),
            aht_s=ratio(self.talk_s + self.hold_s + self.wrap_s, answered),
            avg_talk_s=ratio(self.talk_s, answered),
            avg_hold_s=ratio(self.hold_s, answered),
            avg_wrap_s=ratio(self.wrap_s, answered),
            longest_wait_s=self.longest_wait_s,
        )


def tally_by_queue(
    calls: Iterable[CallRow], service_level_s: float = SERVICE_LEVEL_S, short_s: float = SHORT_ABANDON_S
) -> dict[str, QueueTally]:
    tallies: dict[str, QueueTally] = defaultdict(QueueTally)
    for call in calls:
        if call.queued_caller:
            tallies[call.queue or ""].add(call, service_level_s, short_s)
    return dict(sorted(tallies.items()))


def total_tally(tallies: Iterable[QueueTally]) -> QueueTally:
    total = QueueTally()
    for tally in tallies:
        total = total.merge(tally)
    return total


def queue_kpis(calls: Iterable[CallRow], *, service_level_s: float = SERVICE_LEVEL_S) -> QueueKpis:
    """ASA, abandon rates, service level, AHT and talk time of the queued calls in ``calls``."""
    return total_tally(tally_by_queue(calls, service_level_s).values()).kpis(service_level_s)


@dataclass(frozen=True)
class FcrKpis:
    eligible: int  # answered inbound calls old enough to judge
    resolved: int  # of those, no call from the same number within 7 days
    pending: int  # answered too recently to judge
    rate: float | None


def contacts_of(calls: Iterable[CallRow]) -> list[ContactRow]:
    """The inbound calls of ``calls`` as FCR contacts."""
    return [ContactRow(c.caller, c.started, c.answered_by_agent) for c in calls if c.direction == "inbound"]


def first_call_resolution(
    contacts: Iterable[ContactRow], start: float, end: float, now: float, *, window_s: float = FCR_WINDOW_S
) -> FcrKpis:
    """FCR proxy for the answered contacts that started in [start, end).

    ``contacts`` must include every inbound call up to ``end + window_s``
    (the follow-ups); ``now`` marks calls younger than the window as pending.
    """
    by_caller: dict[str, list[float]] = {}
    answered: list[ContactRow] = []
    for contact in contacts:
        starts = by_caller.get(contact.caller)
        if starts is None:
            by_caller[contact.caller] = [contact.started]
        else:
            starts.append(contact.started)
        if contact.answered and start <= contact.started < end:
            answered.append(contact)
    for starts in by_caller.values():
        if len(starts) > 1:
            starts.sort()  # linear when rows arrive in time order
    eligible = resolved = pending = 0
    for contact in answered:
        if not known_number(contact.caller):
            continue
        if contact.started + window_s > now:
            pending += 1
            continue
        eligible += 1
        starts = by_caller[contact.caller]
        after = bisect.bisect_right(starts, contact.started)
        if after >= len(starts) or starts[after] > contact.started + window_s:
            resolved += 1
    return FcrKpis(eligible, resolved, pending, ratio(resolved, eligible))


@dataclass(frozen=True)
class CallbackKpis:
    abandoned_callers: int  # distinct numbers that abandoned in the period
    anonymous_abandons: int  # abandoned calls without a number (cannot be called back)
    called_back: int
    callback_rate: float | None
    avg_time_to_callback_s: float | None
    median_time_to_callback_s: float | None
    requested: int  # "call me back" requests (virtual hold, overflow) in the period
    requested_done: int
    requested_failed: int
    requested_open: int
    avg_time_to_requested_callback_s: float | None


def abandons_of(calls: Iterable[CallRow]) -> list[AbandonRow]:
    return [
        AbandonRow(c.caller, c.ended if c.ended is not None else c.started)
        for c in calls
        if c.queued_caller and c.agent_answered is None and c.disposition == "abandoned"
    ]


def callback_kpis(abandons: Iterable[AbandonRow], callbacks: Iterable[CallbackRow]) -> CallbackKpis:
    first_abandon: dict[str, float] = {}
    anonymous = 0
    for abandon in abandons:
        if not known_number(abandon.caller):
            anonymous += 1
            continue
        first_abandon[abandon.caller] = min(abandon.at, first_abandon.get(abandon.caller, abandon.at))
    done_by_number: dict[str, list[float]] = defaultdict(list)
    requested: list[CallbackRow] = []
    for cb in callbacks:
        if cb.status == "done" and cb.completed is not None:
            done_by_number[cb.number].append(cb.completed)
        if cb.source in ("requested", "overflow"):
            requested.append(cb)
    delays = []
    for number, abandoned_at in first_abandon.items():
        after = [t for t in done_by_number.get(number, ()) if t >= abandoned_at]
        if after:
            delays.append(min(after) - abandoned_at)
    requested_delays = [cb.completed - cb.requested for cb in requested if cb.status == "done" and cb.completed]
    return CallbackKpis(
        abandoned_callers=len(first_abandon),
        anonymous_abandons=anonymous,
        called_back=len(delays),
        callback_rate=ratio(len(delays), len(first_abandon)),
        avg_time_to_callback_s=ratio(sum(delays), len(delays)),
        median_time_to_callback_s=statistics.median(delays) if delays else None,
        requested=len(requested),
        requested_done=sum(1 for cb in requested if cb.status == "done"),
        requested_failed=sum(1 for cb in requested if cb.status == "failed"),
        requested_open=sum(1 for cb in requested if cb.status in ("open", "dialing")),
        avg_time_to_requested_callback_s=ratio(sum(requested_delays), len(requested_delays)),
    )


@dataclass(frozen=True)
class ReminderKpis:
    reminders: int  # reminders with at least one attempt in the period
    confirmed: int
    cancelled: int
    confirmation_rate: float | None


def reminder_kpis(attempts: Iterable[ReminderAttemptRow]) -> ReminderKpis:
    outcomes: dict[int, set[str]] = defaultdict(set)
    for attempt in attempts:
        outcomes[attempt.reminder_id].add(attempt.outcome)
    confirmed = sum(1 for o in outcomes.values() if "confirmed" in o)
    cancelled = sum(1 for o in outcomes.values() if "cancelled" in o and "confirmed" not in o)
    return ReminderKpis(len(outcomes), confirmed, cancelled, ratio(confirmed, len(outcomes)))
