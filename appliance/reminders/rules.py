"""The reminder rules: which reminders an appointment gets, and when.

Pure: an appointment's start, the patient's channels, the policy and
"now" in; a list of :class:`Planned` reminders out. The store glue
(:mod:`appliance.store.reminders`) turns that list into rows.

Rules, in order:

1. **Nominal time.** Each offset gives a nominal time before the visit.
   Whole days (24 h, 48 h) are calendar days: "the day before at the same
   local time", also across a DST change; other offsets are exact hours.
2. **Deadline.** Nothing goes out later than ``min_notice_h`` before the
   visit, and on the visit's own day nothing after ``same_day_cutoff``
   (with no cut-off, nothing on that day at all).
3. **Windows.** A reminder goes out at the first calling-window instant at
   or after its nominal time; when no window opens before the deadline,
   at the start of the last window before the nominal time instead (the
   visit on Monday 08:00 is reminded on Saturday, not on Monday at 09:00).
4. **Its own window.** Each reminder may be attempted (with retries) from
   its due time until the next reminder of the visit becomes due, or the
   deadline: two reminders of one visit never overlap. Reminders that land
   on the same instant are merged.
5. **Late bookings.** A reminder whose due time has passed is not planned
   when a later reminder of the visit is still ahead; the last one goes
   out at the next window instant if its own window has not passed.

Example:
    >>> policy = Policy.from_config(cfg)                              # doctest: +SKIP
    >>> plan(starts_at, ("sms",), policy, now)                        # doctest: +SKIP
    [Planned(offset_minutes=2880, channel='sms', due_at=..., expires_at=...), ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from appliance.config import Config
from appliance.reminders.windows import Windows

CHANNELS = ("voice", "sms")


@dataclass(frozen=True)
class Policy:
    """The reminder policy of one clinic, read from ``[reminders]``."""

    offsets_h: tuple[int, ...]
    windows: Windows
    min_notice: timedelta
    same_day_cutoff: time | None
    max_attempts: int
    retry_min: int
    retry_max_min: int

    @classmethod
    def from_config(cls, cfg: Config) -> Policy:
        r = cfg.reminders
        cutoff = None
        if r.same_day_cutoff:
            hh, mm = r.same_day_cutoff.split(":")
            cutoff = time(int(hh), int(mm))
        return cls(
            offsets_h=tuple(sorted(set(r.offsets_h), reverse=True)),
            windows=Windows.from_config(cfg),
            min_notice=timedelta(hours=r.min_notice_h),
            same_day_cutoff=cutoff,
            max_attempts=r.max_attempts,
            retry_min=r.retry_min,
            retry_max_min=r.retry_max_min,
        )

    def retry_delay(self, attempts_made: int) -> timedelta:
        """The wait after the ``attempts_made``-th unanswered attempt (1, 2, ...)."""
        minutes = self.retry_min * 2 ** max(0, attempts_made - 1)
        return timedelta(minutes=min(minutes, self.retry_max_min))

    def deadline(self, starts_at: datetime) -> datetime:
        """The last instant any reminder of a visit starting at ``starts_at`` may go out."""
        tz = self.windows.tz
        local_day = starts_at.astimezone(tz).date()
        limit = starts_at - self.min_notice
        day_limit = datetime.combine(local_day, self.same_day_cutoff or time(0), tz)
        return min(limit, day_limit)

    def nominal(self, starts_at: datetime, offset_h: int) -> datetime:
        if offset_h % 24:
            return starts_at - timedelta(hours=offset_h)
        local = starts_at.astimezone(self.windows.tz)
        day = local.date() - timedelta(days=offset_h // 24)
        return datetime.combine(day, local.time(), self.windows.tz)  # keeps the local time's fold


@dataclass(frozen=True)
class Planned:
    offset_minutes: int
    channel: str
    due_at: datetime
    expires_at: datetime


def channels_for(reminder_channel: str, consent: bool, opted_out: bool, has_phone: bool) -> tuple[str, ...]:
    """The channels a patient is reminded on (none after an opt-out or without consent)."""
    if opted_out or not consent or not has_phone:
        return ()
    return {"voice": ("voice",), "sms": ("sms",), "both": ("voice", "sms")}.get(reminder_channel, ())


def plan(starts_at: datetime, channels: Sequence[str], policy: Policy, now: datetime) -> list[Planned]:
    """The reminders of one visit (see the module docstring for the rules)."""
    if not channels or starts_at <= now:
        return []
    deadline = policy.deadline(starts_at)
    windows = policy.windows
    slots: list[tuple[datetime, int]] = []
    for offset in policy.offsets_h:
        nominal = policy.nominal(starts_at, offset)
        due = windows.next_open(nominal, deadline)
        if due is None:
            due = windows.window_start_before(nominal, not_before=nominal - timedelta(days=7))
        if due is None or due >= deadline:
            continue
        if slots and due <= slots[-1][0]:
            # Lands on (or before) the previous reminder: one reminder, the later offset's.
            slots[-1] = (slots[-1][0], offset)
            continue
        slots.append((due, offset))
    out: list[Planned] = []
    for i, (due, offset) in enumerate(slots):
        expires = slots[i + 1][0] if i + 1 < len(slots) else deadline
        if expires <= now:
            continue
        if due < now:
            if i + 1 < len(slots):
                continue  # late booking: the next reminder, still ahead, is enough
            moved = windows.next_open(now, expires)
            if moved is None:
                continue
            due = moved
        for channel in channels:
            out.append(Planned(offset * 60, channel, due, expires))
    return out
