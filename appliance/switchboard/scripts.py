"""Scripted outbound calls (appointment reminders): the switchboard side.

A *call script* is a pure state machine, like an IVR session: the
reminders module writes it, the switchboard runs it on the answered call.

Contract (all on the PJSUA2 thread, each returning a list of IVR actions:
:class:`~appliance.ivr.Play`, ``StopPlayback``, ``StartTimer`` (ids must
start with ``rem:``), ``CancelTimer``, ``EnterQueue`` (the patient asked
for the front desk: joins the queue with its priority) and ``Hangup``)::

    class CallScript(Protocol):
        def start(self) -> list: ...              # the patient answered, media is up
        def on_digit(self, digit: str) -> list: ...
        def on_prompt_done(self, play_id: int) -> list: ...
        def on_timer(self, timer_id: str) -> list: ...
        def on_hangup(self) -> list: ...          # the far end hung up
        outcome: str | None                       # set once the patient decided

Use :meth:`SwitchboardService.place_call` from any thread; the result
(:class:`CallResult`) comes back once per call through ``on_result``,
called on the PJSUA2 thread: hand it to your own thread, never block.

Any: 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from appliance.acd import AcdAction
from appliance.ivr import EnterQueue, IvrAction, StartTimer
from appliance.switchboard.loop import PjLoop
from appliance.switchboard.outbound import outcome_of
from appliance.switchboard.state import ActiveCall, ScriptState

if TYPE_CHECKING:
    from appliance.switchboard.outbound import Outbound

log = logging.getLogger(__name__)


class CallScript(Protocol):
    outcome: str | None

    def start(self) -> Sequence[IvrAction]: ...
    def on_digit(self, digit: str) -> Sequence[IvrAction]: ...
    def on_prompt_done(self, play_id: int) -> Sequence[IvrAction]: ...
    def on_timer(self, timer_id: str) -> Sequence[IvrAction]: ...
    def on_hangup(self) -> Sequence[IvrAction]: ...


class ScriptHost(Protocol):
    """What the script runner uses of the controller."""

    @property
    def loop(self) -> PjLoop: ...
    @property
    def calls(self) -> dict[str, ActiveCall]: ...
    @property
    def outbound(self) -> Outbound: ...
    def run(self, actions: Iterable[IvrAction | AcdAction], owner: str) -> None: ...


@dataclass(frozen=True)
class CallResult:
    call_id: str
    answered: bool
    outcome: str  # the script's outcome when answered, else busy / no-answer / declined / failed
    seconds: float  # talk time with the script (0 when not answered)
    route: str


class ScriptRunner:
    """Installed as ``controller.reminders``; routes call events to scripts."""

    def __init__(self, controller: ScriptHost) -> None:
        self.c = controller
        self.scripts: dict[str, tuple[CallScript, Callable[[CallResult], None]]] = {}

    def place(
        self,
        number: str,
        script: CallScript,
        on_result: Callable[[CallResult], None],
        *,
        purpose: str,
        language: str | None,
        patient_id: int | None,
        ring_s: float,
    ) -> str:
        """Dial and run ``script`` when answered (loop thread). Raises CapacityError/SwitchboardError."""

        def answered(call: ActiveCall) -> None:
            call.state = "script"
            call.script = ScriptState(self.c.loop.last_tick)
            if call.leg.media is not None:
                self._run(call, script.start())
            else:
                call.script.pending_start = True

        def failed(call: ActiveCall, outcome: str) -> None:
            self._finish(call, answered=False, outcome=outcome)

        call = self.c.outbound.dial(
            number,
            purpose=purpose,
            on_answer=answered,
            on_fail=failed,
            timeout_s=ring_s,
            language=language,
            patient_id=patient_id,
        )
        self.scripts[call.id] = (script, on_result)
        return call.id

    # -- events from the controller ----------------------------------------------------
    def media(self, call: ActiveCall) -> None:
        entry = self.scripts.get(call.id)
        if entry is not None and call.script is not None and call.script.pending_start:
            call.script.pending_start = False
            self._run(call, entry[0].start())

    def digit(self, call: ActiveCall, digit: str) -> None:
        entry = self.scripts.get(call.id)
        if entry is not None:
            self._run(call, entry[0].on_digit(digit))

    def prompt_done(self, call: ActiveCall, play_id: int) -> None:
        entry = self.scripts.get(call.id)
        if entry is not None and call.state == "script":
            self._run(call, entry[0].on_prompt_done(play_id))

    def timer(self, timer_id: str) -> None:
        for call_id, (script, _) in list(self.scripts.items()):
            call = self.c.calls.get(call_id)
            if call is not None and call.state == "script" and call.script and timer_id in call.script.timers:
                call.script.timers.discard(timer_id)
                self._run(call, script.on_timer(timer_id))
                return

    def ended(self, call: ActiveCall) -> None:
        entry = self.scripts.get(call.id)
        if entry is not None and call.state == "script":
            self._run(call, entry[0].on_hangup())

    def call_gone(self, call: ActiveCall) -> None:
        """After the controller finished the call: report once."""
        if call.id in self.scripts and call.answered:
            self._finish(call, answered=True, outcome=self.scripts[call.id][0].outcome or "hung-up")

    # -- internals ------------------------------------------------------------------------
    def _run(self, call: ActiveCall, actions: Sequence[IvrAction]) -> None:
        state = call.script  # made when the patient answered, before any action runs
        for action in actions:
            if isinstance(action, StartTimer) and state is not None:
                state.timers.add(action.timer_id)
            if isinstance(action, EnterQueue) and state is not None:
                entry = self.scripts.get(call.id)
                state.outcome_at_queue = entry[0].outcome if entry else None
            self.c.run([action], "script")

    def _finish(self, call: ActiveCall, *, answered: bool, outcome: str) -> None:
        entry = self.scripts.pop(call.id, None)
        if entry is None:
            return
        seconds = 0.0
        started = call.script.started if call.script is not None else None
        if answered and started is not None:
            seconds = max(0.0, self.c.loop.last_tick - started)
        result = CallResult(call.id, answered, outcome, round(seconds, 1), call.route)
        try:
            entry[1](result)
        except Exception:
            log.exception("reminder result handler failed")


__all__ = ["CallResult", "CallScript", "ScriptRunner", "outcome_of"]
