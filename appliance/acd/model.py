"""Agents and queued callers: the ACD's state, without its rules.

An agent's public state is derived from three independent facts: is its
station reachable (``present``), is someone logged in, and what it is doing
(idle, ringing, on a call, dialing a callback, wrap-up), plus an optional
pause reason. Keeping them apart means "paused while on a call" is simply
on-call now and paused afterwards, and a station that comes back keeps its
login and pause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


class Activity(Enum):
    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on-call"
    DIALING = "dialing"  # reserved for a callback being dialed
    WRAP_UP = "wrap-up"


class EntryState(StrEnum):
    WAITING = "waiting"  # on the line, no agent offered yet
    RINGING = "ringing"  # on the line, an agent is being rung
    CALLBACK = "callback"  # asked to be called back; keeps its place
    DIALING = "dialing"  # its turn came: the box is calling it back


@dataclass
class Agent:
    id: str
    name: str
    skills: tuple[str, ...]
    present: bool = False
    logged_in: bool = False
    pause_reason: str = ""
    activity: Activity = Activity.IDLE
    call_id: str | None = None
    queue: str | None = None
    idle_since: float = 0.0
    state_since: float = 0.0
    wrap_timer: str | None = None
    wrap_call: str | None = None  # the call being wrapped up
    rest_timer: str | None = None  # set after a decline: not offered calls until it fires
    wrap_started: float = 0.0
    wrap_talk_s: float = 0.0
    reported: AgentState = AgentState.UNAVAILABLE  # last state sent as AgentStateChanged

    @property
    def state(self) -> AgentState:
        if not self.present:
            return AgentState.UNAVAILABLE
        if self.activity is Activity.RINGING:
            return AgentState.RINGING
        if self.activity in (Activity.ON_CALL, Activity.DIALING):
            return AgentState.ON_CALL
        if self.activity is Activity.WRAP_UP:
            return AgentState.WRAP_UP
        if not self.logged_in:
            return AgentState.LOGGED_OUT
        if self.pause_reason:
            return AgentState.PAUSED
        return AgentState.AVAILABLE

    @property
    def staffed(self) -> bool:
        """Counts for the estimated wait: here, logged in, not paused."""
        return self.present and self.logged_in and not self.pause_reason


@dataclass
class Entry:
    """A caller's place in a queue (on the line, or virtual after a callback request)."""

    key: str  # the caller's call id; also the callback request id
    queue: str
    priority: int
    number: str
    language: str
    arrival: float  # monotonic seconds; with priority, the place in line
    entered_at: datetime
    seq: int
    state: EntryState = EntryState.WAITING
    line_open: bool = True
    agent: str | None = None
    tried: set[str] = field(default_factory=set)
    ring_timer: str | None = None
    announce_timer: str | None = None
    maxwait_timer: str | None = None
    dial_timer: str | None = None
    play_id: int | None = None
    overflow_due: bool = False
    notice_play: int | None = None  # the Play that carries the recording notice
    notice_heard: bool = False  # ... and it played to the end
    notice_pending: bool = False  # not offered to agents until the notice has played
    source: str = ""

    def order(self) -> tuple[int, float, int]:
        return (-self.priority, self.arrival, self.seq)


@dataclass(frozen=True)
class Place:
    """A caller's place in line (priority, arrival, entry time, tie-break), kept while
    an agent has the call: a transfer back into a queue puts them where they were."""

    priority: int
    arrival: float
    entered_at: datetime
    seq: int

    @classmethod
    def of(cls, entry: Entry) -> Place:
        return cls(entry.priority, entry.arrival, entry.entered_at, entry.seq)

    def apply(self, entry: Entry) -> None:
        entry.priority, entry.arrival, entry.entered_at, entry.seq = (
            self.priority,
            self.arrival,
            self.entered_at,
            self.seq,
        )


@dataclass
class Connected:
    agent: str
    queue: str
    since: float
    place: Place | None = None  # where the caller was in line before an agent took the call
