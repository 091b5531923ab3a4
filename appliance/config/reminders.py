"""Config section for appointment reminders: when, how often, on which lines.

The policy (offsets, calling windows, retries, cut-offs) is read by the
pure planner; the line budget and the dialer by the dispatcher. Holidays
come from ``[hours].holidays``: a day the clinic is closed is a day
without reminder calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.config import checks
from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

DIALERS = ("switchboard", "simulator")
#: Keys a simulated patient may press after hearing the reminder ("none" = no key).
SIM_KEYS = ("1", "2", "3", "9", "none")


def _offsets(value: Any) -> str | None:
    if not value:
        return "give at least one offset, e.g. [48, 24]"
    if len(set(value)) != len(value):
        return f"{value} has the same offset twice"
    if len(value) > 5:
        return "at most 5 reminders per appointment"
    if any(not 1 <= v <= 24 * 14 for v in value):
        return f"{value}: each offset is 1 to 336 hours"
    return None


def _cutoff(value: Any) -> str | None:
    return checks.hhmm(value) if value else None


def _range(value: Any) -> str | None:
    if len(value) != 2 or value[0] > value[1] or value[0] < 0:
        return f"{value} must be [shortest, longest], e.g. [5, 20]"
    return None


def _shares(value: Any) -> str | None:
    unknown = sorted(set(value) - set(SIM_KEYS))
    if unknown:
        return f"unknown key {unknown[0]!r}; use {', '.join(SIM_KEYS)}"
    if any(v < 0 for v in value.values()) or not sum(value.values()):
        return "shares must be zero or more, and not all zero"
    return None


def _share(value: Any) -> str | None:
    return None if 0 <= value <= 1 else f"{value} is not a share between 0 and 1"


@dataclass(frozen=True)
class CallingWindows:
    """When patients may be called or texted, per weekday, in clinic.timezone."""

    monday: list[str] = setting(doc="Calling windows, e.g. ['09:00-12:00', '13:00-19:00'].", check=checks.spans)
    tuesday: list[str] = setting(doc="Calling windows.", check=checks.spans)
    wednesday: list[str] = setting(doc="Calling windows.", check=checks.spans)
    thursday: list[str] = setting(doc="Calling windows.", check=checks.spans)
    friday: list[str] = setting(doc="Calling windows.", check=checks.spans)
    saturday: list[str] = setting(doc="Calling windows.", check=checks.spans)
    sunday: list[str] = setting(doc="Calling windows.", check=checks.spans)

    def for_day(self, weekday: int) -> list[str]:
        return list(getattr(self, checks.WEEKDAYS[weekday]))


@dataclass(frozen=True)
class SimulatedPatients:
    """The patients the built-in simulator plays (``reminders.dialer = "simulator"``)."""

    answer: float = setting(doc="Share of calls a patient answers.", check=_share)
    busy: float = setting(doc="Share of calls that find the line busy.", check=_share)
    keys: dict[str, float] = setting(
        doc="After answering, how often each key is pressed: 1, 2, 3, 9 or none (answering machine).",
        check=_shares,
    )
    answer_after_s: list[float] = setting(
        doc="Rings before a patient answers: [shortest, longest] seconds.", check=_range
    )
    listen_s: list[float] = setting(
        doc="Seconds a patient listens before pressing a key: [shortest, longest].", check=_range
    )
    time_scale: float = setting(doc="Simulated seconds per real second (demo: 1).", min=0.01, max=10000)
    dial_log: str = setting(doc="Append every simulated dial to this file, synced to disk (crash tests); empty = off.")
    seed: int = setting(doc="Random seed; 0 = different every start.", min=0)


@dataclass(frozen=True)
class ReminderSettings:
    enabled: bool = setting(doc="Send appointment reminders by call and SMS.")
    dialer: str = setting(
        doc="Who places reminder calls: switchboard (the phone line) or simulator (simulated patients).",
        choices=DIALERS,
    )
    offsets_h: list[int] = setting(
        doc="Hours before the visit when reminders go out; whole days keep the local time across DST.",
        check=_offsets,
    )
    windows: CallingWindows = setting(doc="Calling windows per weekday (clinic time zone); none on holidays.")
    max_attempts: int = setting(doc="Calls per reminder (the first plus retries) before giving up.", min=1, max=10)
    retry_min: int = setting(doc="Minutes before the first retry; each further retry waits twice as long.", min=1)
    retry_max_min: int = setting(doc="Longest wait between two retries (minutes).", min=1, max=10080)
    min_notice_h: float = setting(doc="No reminder later than this many hours before the visit.", min=0, max=72)
    same_day_cutoff: str = setting(
        doc="On the day of the visit, no reminder after this local time ('' = none on the day itself).",
        check=_cutoff,
    )
    max_calls: int = setting(doc="At most this many reminder calls at once.", min=1, max=64)
    reserve_lines: int = setting(doc="Lines always left free for patients calling in.", min=0, max=256)
    pause_while_callers_wait: bool = setting(doc="Place no new reminder call while a caller waits in a queue.")
    ring_s: int = setting(doc="Seconds a reminder call rings before it counts as not answered.", min=10, max=120)
    key_timeout_s: float = setting(doc="Seconds the patient has to press a key after a prompt.", min=2, max=30)
    menu_plays: int = setting(doc="Times the choices are offered before the call ends without one.", min=1, max=4)
    desk_queue: str = setting(doc="Queue a patient joins by pressing 3 (speak to the front desk).")
    desk_priority: int = setting(doc="Their priority in that queue (higher is served first).", min=0, max=9)
    speak_provider: bool = setting(
        doc="Name the provider once the patient pressed a key (the visit's reason is never spoken or sent)."
    )
    gsm_prefer_sms: bool = setting(
        doc="While the trunk is down, prefer SMS over the one GSM voice line for patients who accept SMS."
    )
    sms_outstanding_per_min: int = setting(
        doc="SMS handed to the modem ahead of sending, per modem.sms_per_minute (keeps texts inside the window).",
        min=1,
        max=60,
    )
    interval_s: int = setting(doc="Seconds between dispatcher wake-ups (results wake it at once).", min=1, max=600)
    misfire_grace_s: int = setting(
        doc="A wake-up late by more than this is skipped (the next one catches up).", min=1, max=3600
    )
    plan_time: str = setting(doc="Local time of the nightly planning run.", check=checks.hhmm)
    horizon_days: int = setting(doc="The nightly planning covers visits this many days ahead.", min=1, max=90)
    stale_after_min: int = setting(
        doc="A call with no result after this long is recorded as interrupted (never redialed).", min=5, max=1440
    )
    simulator: SimulatedPatients = setting(doc="Simulated patients for dialer = simulator.")


def reminder_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """Cross-section rules for [reminders]."""
    r = cfg.reminders
    if r.retry_max_min < r.retry_min:
        yield "reminders.retry_max_min", f"{r.retry_max_min} is shorter than reminders.retry_min ({r.retry_min})"
    if r.desk_queue not in cfg.queues:
        yield "reminders.desk_queue", f'unknown queue "{r.desk_queue}"; known: {", ".join(sorted(cfg.queues))}'
    if r.reserve_lines >= cfg.sip.max_calls:
        yield (
            "reminders.reserve_lines",
            f"{r.reserve_lines} leaves no line for reminders (sip.max_calls = {cfg.sip.max_calls})",
        )
    for day in checks.WEEKDAYS:
        spans = sorted(getattr(r.windows, day))
        for a, b in itertools.pairwise(spans):
            if b.split("-")[0] < a.split("-")[1]:
                yield f"reminders.windows.{day}", f"{a!r} and {b!r} overlap"
