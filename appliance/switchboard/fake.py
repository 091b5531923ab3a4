"""The shipped fake switchboard: reminder calls to simulated patients.

Same API as :class:`~appliance.switchboard.SwitchboardService` for what the
reminder dialer uses (``place_call``, ``lines``, ``route``), but the far
end is a simulated patient drawn from a configurable distribution (who
answers, after how long, which key they press, how long they listen).
It runs the real call script: prompts take time, timers fire, digits
barge in, the script's actions decide when the call ends.

Chosen in config (``reminders.dialer = "simulator"``, tuned in
``[reminders.simulator]``), never by monkeypatching. Two ways to run it:

* **Stepped** (tests, the benchmark): nothing moves until the driver calls
  :meth:`FakeSwitchboard.advance`; a :class:`~appliance.clock.FakeClock`
  passed in moves with it, so a day of calls takes milliseconds.
* **Threaded** (the demo, the crash test): :meth:`start` runs events on a
  thread in real time divided by ``time_scale``.

With ``dial_log`` every placed call is appended to a file and synced to
disk *before* ``place_call`` returns, like a phone that rang: the crash
test counts rings from it after SIGKILLs.

Example:
    >>> sb = FakeSwitchboard(FakeClock(), lines=4, seed=1)                  # doctest: +SKIP
    >>> call_id = sb.place_call("+48601234567", script, results.append)    # doctest: +SKIP
    >>> sb.advance(120)                                                      # doctest: +SKIP

Any: 1, a JSON reply.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.clock import Clock
from appliance.config.reminders import SimulatedPatients
from appliance.errors import CapacityError, SwitchboardError
from appliance.ivr import CancelTimer, EnterQueue, Hangup, IvrAction, Play, StartTimer, StopPlayback
from appliance.switchboard.scripts import CallResult, CallScript

log = logging.getLogger(__name__)

#: Seconds each prompt of a Play takes to hear.
PROMPT_S = 4.0
#: Seconds a patient who asked for the front desk talks there.
DESK_TALK_S = 90.0


@dataclass(frozen=True)
class Behaviour:
    """What one simulated patient does with one call."""

    kind: str  # answer, busy, no-answer, fail
    answer_after_s: float = 5.0
    key: str | None = "1"  # the choice after hearing the details; None = never presses (machine)
    listen_s: float = 10.0


def draw(settings: SimulatedPatients, rng: random.Random) -> Behaviour:
    """A patient from the configured distribution."""
    roll = rng.random()
    if roll < settings.busy:
        return Behaviour("busy")
    if roll >= settings.busy + settings.answer * (1 - settings.busy):
        return Behaviour("no-answer")
    keys = [k for k, w in settings.keys.items() if w > 0]
    key = rng.choices(keys, weights=[settings.keys[k] for k in keys])[0]
    return Behaviour(
        "answer",
        rng.uniform(*settings.answer_after_s),
        None if key == "none" else key,
        rng.uniform(*settings.listen_s),
    )


@dataclass
class _Event:
    at: float
    fn: Callable[[], None]
    cancelled: bool = False


@dataclass
class _Call:
    call_id: str
    number: str
    script: CallScript
    on_result: Callable[[CallResult], None]
    behaviour: Behaviour
    route: str
    placed_at: float
    answered_at: float | None = None
    playing: int | None = None
    play_event: _Event | None = None
    timers: dict[str, _Event] = field(default_factory=dict)
    keys_left: list[str] = field(default_factory=list)
    generation: int = 0
    ended: bool = False


#: The menus a simulated patient answers with their key (the reminder's, the no-show follow-up's).
MENUS = frozenset({"reminder_menu", "followup_menu"})


class FakeSwitchboard:
    """Simulated patients behind the switchboard's reminder API."""

    name = "fake-switchboard"

    def __init__(
        self,
        clock: Clock,
        settings: SimulatedPatients | None = None,
        *,
        lines: int = 8,
        route: str = "trunk",
        dial_log: Path | str | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
        prompt_s: float = PROMPT_S,
        desk_talk_s: float = DESK_TALK_S,
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.allowed = lines
        self._route = route
        self.dial_log = Path(dial_log) if dial_log else None
        self.rng = random.Random(seed or None)
        self.time_scale = time_scale
        self.prompt_s = prompt_s
        self.desk_talk_s = desk_talk_s
        self.waiting = 0  # callers waiting in a queue (tests set it)
        self.other_calls = 0  # lines busy with patients' own calls (tests set it)
        self.reminders_paused = False
        self.behaviours: dict[str, list[Behaviour]] = {}  # scripted patients by number, used in order
        self.calls: dict[str, _Call] = {}
        self.placed: list[tuple[str, str, object]] = []  # (call_id, number, attempt id) in dial order
        self.results: list[CallResult] = []
        self.hold_seconds = 0.0  # line time used by finished calls
        self._events: list[tuple[float, int, _Event]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._now = 0.0
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._running = False

    # -- the switchboard API the reminder dialer uses ----------------------------------
    def place_call(
        self,
        number: str,
        script: CallScript,
        on_result: Callable[[CallResult], None],
        *,
        purpose: str = "reminder",
        language: str | None = None,
        patient_id: int | None = None,
        ring_s: float = 45.0,
        timeout: float = 5.0,
    ) -> str:
        """Ring a simulated patient. Raises CapacityError / SwitchboardError like the real one."""
        with self._lock:
            if self._route == "none":
                raise SwitchboardError("neither the trunk nor the GSM line is available")
            if self.other_calls + len(self.calls) >= self.allowed:
                raise CapacityError("no line is free for an outgoing call")
            call_id = f"fake-{next(self._ids)}"
            behaviour = self._behaviour(number)
            attempt = getattr(script, "attempt_id", None)
            self._log_dial(call_id, number, patient_id, attempt)
            call = _Call(call_id, number, script, on_result, behaviour, self._route, self._clock_s())
            self.calls[call_id] = call
            self.placed.append((call_id, number, attempt))
            if behaviour.kind == "busy":
                self._after(1.0, lambda: self._fail(call, "busy"))
            elif behaviour.kind == "fail":
                self._after(0.5, lambda: self._fail(call, "failed"))
            elif behaviour.kind == "no-answer" or behaviour.answer_after_s >= ring_s:
                self._after(ring_s, lambda: self._fail(call, "no-answer"))
            else:
                self._after(behaviour.answer_after_s, lambda: self._answer(call))
            return call_id

    def lines(self) -> dict[str, int]:
        with self._lock:
            return {
                "allowed": self.allowed,
                "in_use": self.other_calls + len(self.calls),
                "waiting": self.waiting,
                "reminder_calls": len(self.calls),
            }

    def route(self) -> str:
        return self._route

    def set_route(self, route: str) -> None:
        self._route = route

    def set_reminders_paused(self, paused: bool) -> dict[str, Any]:
        self.reminders_paused = paused
        return {"reminders_paused": paused}

    # -- driving the simulation --------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Stepped mode: run every event due in the next ``seconds`` (moves a FakeClock too)."""
        end = self._now + seconds
        while True:
            with self._lock:
                if not self._events or self._events[0][0] > end:
                    break
                at, _, event = heapq.heappop(self._events)
            self._move_to(at)
            if not event.cancelled:
                event.fn()
        self._move_to(end)

    def next_event_in(self) -> float | None:
        """Seconds until the next pending event (stepped mode), None when idle."""
        with self._lock:
            while self._events and self._events[0][2].cancelled:
                heapq.heappop(self._events)
            return None if not self._events else max(0.0, self._events[0][0] - self._now)

    def start(self) -> None:
        """Threaded mode: run events in real time (divided by ``time_scale``)."""
        self._running = True
        self._now = time.monotonic() * self.time_scale
        self._thread = threading.Thread(target=self._run, name="fake-switchboard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def healthy(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    # -- internals ---------------------------------------------------------------------
    def _clock_s(self) -> float:
        return time.monotonic() * self.time_scale if self._thread is not None else self._now

    def _move_to(self, at: float) -> None:
        if at > self._now:
            advance = getattr(self.clock, "advance", None)
            if advance is not None and self._thread is None:
                advance(at - self._now)
            self._now = at

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._running:
                    return
                now = time.monotonic() * self.time_scale
                if self._events and self._events[0][0] <= now:
                    _, _, event = heapq.heappop(self._events)
                else:
                    delay = (self._events[0][0] - now) / self.time_scale if self._events else 1.0
                    self._wake.wait(timeout=min(delay, 1.0))
                    continue
            self._now = now
            if not event.cancelled:
                try:
                    event.fn()
                except Exception:
                    log.exception("simulated call event failed")

    def _after(self, seconds: float, fn: Callable[[], None]) -> _Event:
        with self._lock:
            event = _Event(self._clock_s() + seconds, fn)
            heapq.heappush(self._events, (event.at, next(self._seq), event))
            self._wake.notify_all()
            return event

    def _behaviour(self, number: str) -> Behaviour:
        scripted = self.behaviours.get(number)
        if scripted:
            return scripted.pop(0) if len(scripted) > 1 else scripted[0]
        if self.settings is None:
            return Behaviour("answer")
        return draw(self.settings, self.rng)

    def _log_dial(self, call_id: str, number: str, patient_id: int | None, attempt: object) -> None:
        if self.dial_log is None:
            return
        line = json.dumps(
            {"call": call_id, "number": number, "patient": patient_id, "attempt": attempt, "at": time.time()}
        )
        fd = os.open(self.dial_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _fail(self, call: _Call, outcome: str) -> None:
        self._end(call, answered=False, outcome=outcome)

    def _answer(self, call: _Call) -> None:
        if call.ended:
            return
        call.answered_at = self._clock_s()
        b = call.behaviour
        if b.key is not None:
            call.keys_left = ["1", b.key] if b.key != "9" else ["1", "9", "1"]
        self._execute(call, call.script.start())

    def _execute(self, call: _Call, actions: Sequence[IvrAction]) -> None:
        for action in actions:
            if call.ended:
                return
            if isinstance(action, Play):
                self._play(call, action)
            elif isinstance(action, StopPlayback):
                if call.playing == action.play_id and call.play_event is not None:
                    call.play_event.cancelled = True
                    call.playing = None
            elif isinstance(action, StartTimer):
                old = call.timers.pop(action.timer_id, None)
                if old is not None:
                    old.cancelled = True
                call.timers[action.timer_id] = self._after(
                    action.seconds, functools.partial(self._timer, call, action.timer_id)
                )
            elif isinstance(action, CancelTimer):
                event = call.timers.pop(action.timer_id, None)
                if event is not None:
                    event.cancelled = True
            elif isinstance(action, EnterQueue):
                self._after(self.desk_talk_s, lambda: self._hangup(call))
            elif isinstance(action, Hangup):
                self._hangup(call)

    def _play(self, call: _Call, action: Play) -> None:
        call.playing = action.play_id
        play_id = action.play_id
        call.play_event = self._after(self.prompt_s * len(action.prompts), lambda: self._prompt_done(call, play_id))
        call.generation += 1  # a key planned during an earlier prompt is no longer pressed
        if not call.keys_left:
            return
        keys = {ref.key for ref in action.prompts}
        generation = call.generation
        if "reminder_hello" in keys and call.keys_left[0] == "1" and len(call.keys_left) > 1:
            self._after(min(2.0, self.prompt_s / 2), lambda: self._digit(call, generation))
        elif keys & MENUS:
            # The patient presses after listening this long: during the prompt or in the pause after it.
            self._after(call.behaviour.listen_s, lambda: self._digit(call, generation))

    def _digit(self, call: _Call, generation: int) -> None:
        if call.ended or call.generation != generation or not call.keys_left:
            return
        digit = call.keys_left.pop(0)
        self._execute(call, call.script.on_digit(digit))

    def _prompt_done(self, call: _Call, play_id: int) -> None:
        if call.ended or call.playing != play_id:
            return
        call.playing = None
        self._execute(call, call.script.on_prompt_done(play_id))

    def _timer(self, call: _Call, timer_id: str) -> None:
        if call.ended or call.timers.pop(timer_id, None) is None:
            return
        self._execute(call, call.script.on_timer(timer_id))

    def _hangup(self, call: _Call) -> None:
        if call.ended:
            return
        for event in call.timers.values():
            event.cancelled = True
        if call.play_event is not None:
            call.play_event.cancelled = True
        call.script.on_hangup()
        self._end(call, answered=True, outcome=call.script.outcome or "hung-up")

    def _end(self, call: _Call, *, answered: bool, outcome: str) -> None:
        with self._lock:
            if call.ended:
                return
            call.ended = True
            self.calls.pop(call.call_id, None)
            now = self._clock_s()
            self.hold_seconds += now - call.placed_at
            talk = now - call.answered_at if answered and call.answered_at is not None else 0.0
            result = CallResult(call.call_id, answered, outcome, round(talk, 1), call.route)
            self.results.append(result)
        try:
            call.on_result(result)
        except Exception:
            log.exception("reminder result handler failed")
