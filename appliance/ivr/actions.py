"""Actions the IVR and ACD engines return for the switchboard to carry out.

The engines decide, the switchboard acts: every engine method returns a
``list`` of these frozen dataclasses, in the order they must be executed.
The ACD reuses the generic ones defined here (Play, StopPlayback, timers,
StartVoicemail, Hangup) and adds its own in :mod:`appliance.acd.actions`.

Timers: :class:`StartTimer` asks the switchboard to call the engine's
``on_timer(timer_id)`` after ``seconds`` (monotonic). Ids are globally
unique strings; ``ivr:<call_id>:<n>`` belong to the IVR session of that
call, ``acd:...`` to the ACD. Starting an id that is running restarts it.
After :class:`CancelTimer` the switchboard should not deliver the id, but a
late delivery is harmless: engines ignore ids they no longer wait for.

Playback: :class:`Play` carries a ``play_id``; the switchboard reports the
end of the whole list with ``on_prompt_done(play_id)`` unless it was
stopped by :class:`StopPlayback`. A stale ``play_id`` is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.ivr.prompts import PromptRef


@dataclass(frozen=True, slots=True)
class Play:
    """Play ``prompts`` one after the other to the caller.

    ``interruptible``: a digit stops it (barge-in). The switchboard resolves
    each prompt with ``PromptLibrary.resolve(ref, language)``.
    """

    call_id: str
    prompts: tuple[PromptRef, ...]
    language: str
    interruptible: bool
    play_id: int


@dataclass(frozen=True, slots=True)
class StopPlayback:
    call_id: str
    play_id: int


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """The caller chose a language: record it on the CDR, use it from now on."""

    call_id: str
    language: str


@dataclass(frozen=True, slots=True)
class EnterQueue:
    """Hand the call to the ACD: ``Acd.enter(call_id, queue, priority, ...)``."""

    call_id: str
    queue: str
    priority: int
    language: str


@dataclass(frozen=True, slots=True)
class StartVoicemail:
    """Play ``greeting`` (in order), a beep, then record into ``mailbox``."""

    call_id: str
    mailbox: str
    greeting: tuple[PromptRef, ...]
    language: str


@dataclass(frozen=True, slots=True)
class TransferOut:
    """Call ``number`` (e.g. the on-call doctor) and bridge the caller to it."""

    call_id: str
    number: str


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the caller's call. ``reason`` goes to the log and the CDR's hangup_by."""

    call_id: str
    reason: str


IvrAction = (
    Play | StopPlayback | StartTimer | CancelTimer | SetLanguage | EnterQueue | StartVoicemail | TransferOut | Hangup
)
