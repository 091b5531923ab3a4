"""The reminder call, as a pure state machine the switchboard runs.

What the patient hears::

    hello   "Hello, this is <clinic>, with a personal message. To hear it, press 1."
            (any key continues; said twice, then it is an answering machine)
    details "...your appointment at <clinic> on <day>, at <time>." [provider]
            "To confirm press 1, to cancel 2, the front desk 3, to repeat 9."
            1 -> confirmed, 2 -> cancelled, 3 -> front-desk queue (with priority)
    machine "Hello, this is <clinic>... please call us back at <number>."

Nothing before the first key press says more than the clinic's name: an
answering machine may be recording. The visit's reason is never spoken.

It implements the switchboard's ``CallScript`` contract
(:mod:`appliance.switchboard.scripts`): events in, IVR actions out, no
I/O, no clock. The dispatcher sets :attr:`call_id` as soon as
``place_call`` returns; should the patient answer before that (a fast
answer on a slow box), the script waits on a short timer until it knows
its call. ``on_decision`` hears a confirmation, cancellation or request
for the desk the moment the key is pressed.

Example:
    >>> s = ReminderScript(7, "en", when=PromptRef("w"), machine=PromptRef("m"))
    >>> s.call_id = "c1"
    >>> [type(a).__name__ for a in s.start()]
    ['Play']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.ivr.actions import CancelTimer, EnterQueue, Hangup, Play, StartTimer, StopPlayback
from appliance.ivr.prompts import PromptRef

WAIT_ID, HELLO, DETAILS, ENDING, DONE = "wait-id", "hello", "details", "ending", "done"
#: Outcomes the script decides (the switchboard reports the rest: busy, no-answer...).
CONFIRMED, CANCELLED, DESK, VOICEMAIL = "confirmed", "cancelled", "desk", "voicemail"
ID_POLL_S = 0.02
ID_POLL_MAX = 250


class ReminderScript:
    """One reminder call. ``outcome`` is set once the patient decided (or a
    message was left on an answering machine)."""

    #: The prompts of the menu and of keys 1 and 2 (a no-show's follow-up call has its own).
    MENU, ON_1, ON_2 = "reminder_menu", "reminder_confirmed", "reminder_cancelled"

    def __init__(
        self,
        attempt_id: int,
        language: str,
        *,
        when: PromptRef,
        machine: PromptRef,
        provider: PromptRef | None = None,
        desk_queue: str = "front-desk",
        desk_priority: int = 5,
        key_timeout_s: float = 7.0,
        menu_plays: int = 2,
        hello_plays: int = 2,
        on_decision: Callable[[str], None] | None = None,
    ) -> None:
        self.attempt_id = attempt_id
        self.on_decision = on_decision
        self.language = language
        self.when = when
        self.machine = machine
        self.provider = provider
        self.desk_queue = desk_queue
        self.desk_priority = desk_priority
        self.key_timeout_s = key_timeout_s
        self.menu_plays = menu_plays
        self.hello_plays = hello_plays
        self.call_id: str | None = None
        self.outcome: str | None = None
        self.state = WAIT_ID
        self.keys: list[str] = []
        self.heard_details = False
        self._plays_left = 0
        self._play_id = 0
        self._playing: int | None = None
        self._after: str = ""
        self._timer: str | None = None
        self._seq = 0
        self._id_polls = 0

    # -- helpers ------------------------------------------------------------------------
    def _timer_id(self) -> str:
        self._seq += 1
        return f"rem:{self.attempt_id}:{self._seq}"

    def _play(self, refs: list[PromptRef], interruptible: bool, after: str = "") -> list[Any]:
        self._play_id += 1
        self._playing = self._play_id
        self._after = after
        return [Play(str(self.call_id), tuple(refs), self.language, interruptible, self._play_id)]

    def _wait_for_key(self) -> list[Any]:
        self._timer = self._timer_id()
        return [StartTimer(self._timer, self.key_timeout_s)]

    def _stop(self) -> list[Any]:
        out: list[Any] = []
        if self._playing is not None:
            out.append(StopPlayback(str(self.call_id), self._playing))
            self._playing = None
        if self._timer is not None:
            out.append(CancelTimer(self._timer))
            self._timer = None
        return out

    def _details(self) -> list[Any]:
        self.state = DETAILS
        self.heard_details = True
        refs = [self.when, *([self.provider] if self.provider else []), PromptRef(self.MENU)]
        return self._play(refs, True)

    def _finish(self, prompt: PromptRef, then: str) -> list[Any]:
        self.state = ENDING
        return self._play([prompt], False, after=then)

    def _decide(self, outcome: str) -> None:
        """The patient chose: report it now, not at hang-up (a crash while saying
        goodbye must not lose a confirmation). The hook only queues; it never blocks."""
        self.outcome = outcome
        if self.on_decision is not None:
            self.on_decision(outcome)

    # -- the CallScript contract ---------------------------------------------------------
    def start(self) -> list[Any]:
        if self.call_id is None:
            self._id_polls += 1
            if self._id_polls > ID_POLL_MAX:
                self.state = DONE
                return []
            self.state = WAIT_ID
            self._timer = self._timer_id()
            return [StartTimer(self._timer, ID_POLL_S)]
        self.state = HELLO
        self._plays_left = self.hello_plays - 1
        return self._play([PromptRef("reminder_hello")], True)

    def on_digit(self, digit: str) -> list[Any]:
        if self.state in (WAIT_ID, ENDING, DONE):
            return []
        self.keys.append(digit)
        out = self._stop()
        if self.state == HELLO:
            self._plays_left = self.menu_plays - 1
            return out + self._details()
        if digit == "1":
            self._decide(CONFIRMED)
            return out + self._finish(PromptRef(self.ON_1), "hangup")
        if digit == "2":
            self._decide(CANCELLED)
            return out + self._finish(PromptRef(self.ON_2), "hangup")
        if digit == "3":
            self._decide(DESK)
            return out + self._finish(PromptRef("reminder_desk"), "queue")
        if digit == "9":
            return out + self._details()
        return out + self._play([PromptRef("invalid"), PromptRef(self.MENU)], True)

    def on_prompt_done(self, play_id: int) -> list[Any]:
        if play_id != self._playing:
            return []
        self._playing = None
        if self.state in (HELLO, DETAILS):
            return self._wait_for_key()
        if self.state == ENDING:
            self.state = DONE
            if self._after == "queue":
                return [EnterQueue(str(self.call_id), self.desk_queue, self.desk_priority, self.language)]
            return [Hangup(str(self.call_id), "reminder done")]
        return []

    def on_timer(self, timer_id: str) -> list[Any]:
        if timer_id != self._timer:
            return []
        self._timer = None
        if self.state == WAIT_ID:
            return self.start()
        if self.state == HELLO:
            if self._plays_left > 0:
                self._plays_left -= 1
                return self._play([PromptRef("reminder_hello")], True)
            self.outcome = VOICEMAIL
            return self._finish(self.machine, "hangup")
        if self.state == DETAILS:
            if self._plays_left > 0:
                self._plays_left -= 1
                return self._details()
            return self._finish(PromptRef("reminder_goodbye"), "hangup")
        return []

    def on_hangup(self) -> list[Any]:
        self.state = DONE
        self._playing = None
        if self._timer is not None:
            timer, self._timer = self._timer, None
            return [CancelTimer(timer)]
        return []
