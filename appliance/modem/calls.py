"""The state of the modem's one voice line, from URCs and ``+CLCC`` (pure).

Modems report calls in bits: ``RING`` (again every few seconds), then
``+CLIP`` with the number, ``NO CARRIER`` / ``BUSY`` / ``NO ANSWER`` when
a call ends, vendor lines (``VOICE CALL: END``, ``^CEND``), ``+CCWA`` when
a second caller waits during a call (the line stays with the first one),
and an authoritative list from ``AT+CLCC`` that the service polls during
calls.
:class:`CallTracker` merges them into one state and returns the events
to publish; it never talks to the modem.

Example:
    >>> t = CallTracker()
    >>> [e.kind for e in t.on_urc("RING")]
    ['modem.call.state']
    >>> [e.kind for e in t.on_urc('+CLIP: "+48601234567",145,"",0,"",0')]
    ['modem.call.incoming']
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.events import Collector, Event, ModemCallNotifier
from appliance.modem.wire import atparse

IDLE = "idle"
RINGING = "ringing"
DIALING = "dialing"
ALERTING = "alerting"
ACTIVE = "active"
HELD = "held"

_FROM_CLCC = {
    "incoming": RINGING,
    "waiting": RINGING,
    "dialing": DIALING,
    "alerting": ALERTING,
    "active": ACTIVE,
    "held": HELD,
}

_ENDINGS = {
    "NO CARRIER": "hangup",
    "BUSY": "busy",
    "NO ANSWER": "no-answer",
    "NO DIALTONE": "no-network",
}


@dataclass(frozen=True)
class CallSnapshot:
    state: str
    direction: str  # "in", "out" or "" when idle
    number: str
    call: int  # increases with every call, to tell events of two calls apart


class CallTracker:
    """Merges call URCs, ``+CLCC`` answers and local actions into one line state."""

    def __init__(self) -> None:
        self.state = IDLE
        self.direction = ""
        self.number = ""
        self.call = 0
        self._announced = False
        self._answered = False
        self._waiting: set[str] = set()  # second callers announced during this call
        self._out = Collector()  # the events are returned, not published
        self._notify = ModemCallNotifier(self._out)

    def snapshot(self) -> CallSnapshot:
        return CallSnapshot(self.state, self.direction, self.number, self.call)

    @property
    def busy(self) -> bool:
        return self.state != IDLE

    # -- inputs -------------------------------------------------------------------
    def on_urc(self, line: str) -> list[Event]:
        """A call-related URC; other lines return no events."""
        text = line.strip()
        if text == "RING" or text.startswith("+CRING"):
            if self.state == IDLE:
                return self._start("in", RINGING, "")
            return []
        if text.startswith("+CLIP:"):
            caller = atparse.clip(text)
            events = [] if self.state != IDLE else self._start("in", RINGING, caller.number)
            self.number = self.number or caller.number
            return events + self._announce()
        if text.startswith("+CCWA:"):
            waiting = atparse.ccwa(text)
            if self.state == IDLE or waiting.number in self._waiting:
                return []  # a stale notice, or the same caller announced again
            self._waiting.add(waiting.number)
            self._notify.waiting(number=waiting.number, call=self.call)
            return self._out.take()
        if self._waiting and (text in _ENDINGS or text.startswith(("VOICE CALL: END", "^CEND", "MISSED_CALL"))):
            # After a second caller, an end notice may be theirs (turned away, or gave up):
            # the +CLCC poll these URCs trigger tells whose call ended.
            return []
        if text in _ENDINGS:
            return self._end(_ENDINGS[text])
        if text.startswith(("VOICE CALL: END", "^CEND", "MISSED_CALL")):
            return self._end("hangup")
        return []

    def on_clcc(self, calls: list[atparse.CallInfo]) -> list[Event]:
        """The answer to ``AT+CLCC``: the truth about the line."""
        voice = [c for c in calls if c.voice and c.state != "waiting"]  # a waiting caller is not the line
        if not voice:
            return self._end("hangup") if self.state != IDLE else []
        call = voice[0]
        state = _FROM_CLCC.get(call.state)
        if state is None:
            return []
        events: list[Event] = []
        if self.state == IDLE:
            events += self._start("out" if call.outgoing else "in", state, call.number)
        elif state != self.state:
            self.state = state
            events.append(self._state_event(""))
        if not self.number and call.number:
            self.number = call.number
        if self.direction == "in":
            events += self._announce()
        return events

    def dialed(self, number: str) -> list[Event]:
        """The box placed a call (ATD answered OK)."""
        if self.state != IDLE:
            return []
        return self._start("out", DIALING, number)

    def answered(self) -> list[Event]:
        """The box answered the ringing call (ATA answered OK)."""
        if self.state != RINGING:
            return []
        self.state = ACTIVE
        return [self._state_event("")]

    def hung_up(self) -> list[Event]:
        """The box ended the call."""
        return self._end("local")

    # -- helpers ------------------------------------------------------------------
    def _start(self, direction: str, state: str, number: str) -> list[Event]:
        self.call += 1
        self.state, self.direction, self.number = state, direction, number
        self._announced = False
        return [self._state_event("")]

    def _announce(self) -> list[Event]:
        if self._announced or self.direction != "in" or self.state != RINGING:
            return []
        self._announced = True
        self._notify.incoming(number=self.number, call=self.call)
        return self._out.take()

    def _end(self, reason: str) -> list[Event]:
        if self.state == IDLE:
            return []
        if reason == "hangup" and self.state == RINGING:
            reason = "missed"
        if reason == "hangup" and self.state in (DIALING, ALERTING):
            reason = "no-answer"
        self.state = IDLE
        event = self._state_event(reason)
        self.direction, self.number = "", ""
        self._waiting.clear()
        return [event]

    def _state_event(self, reason: str) -> Event:
        self._notify.state(
            state=self.state, direction=self.direction, number=self.number, call=self.call, reason=reason
        )
        (event,) = self._out.take()
        return event
