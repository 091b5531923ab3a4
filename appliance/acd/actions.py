"""What the ACD asks the switchboard to do, and the records it hands over.

Commands (the switchboard acts on them, in order): :class:`StartMusic`,
:class:`RingAgent`, :class:`CancelRing`, :class:`ConnectAgent`,
:class:`DialCallback`, :class:`CancelCallback`, plus the generic
:class:`~appliance.ivr.actions.Play`, ``StopPlayback``, ``StartTimer``,
``CancelTimer``, ``StartVoicemail`` and ``Hangup`` from
:mod:`appliance.ivr.actions`.

Records (the switchboard's store writer persists them, the event bus shows
them): :class:`QueueEvent` (a ``queue_events`` row), :class:`AgentStateChanged`
(an ``agent_events`` row), :class:`LeftQueue` (sets the CDR disposition),
:class:`CallerAbandoned` and :class:`CallbackRequested` (a ``callbacks``
row), :class:`CallbackResult` (closes that row). Records carry their time
from the ACD's clock so the store and the wallboard agree.

Any: 1, a queue event's JSON details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.ivr.actions import CancelTimer, Hangup, Play, StartTimer, StartVoicemail, StopPlayback


@dataclass(frozen=True, slots=True)
class StartMusic:
    """Play music on hold to a waiting caller whenever no prompt plays.

    ``music``: WAV under the prompts dir, or ``""`` for the built-in tone.
    """

    call_id: str
    music: str


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Offer ``call_id`` to ``agent``'s station (console rings; auto-answer stations connect).

    Report back ``agent_answered`` or ``agent_declined``; the ACD's ring
    timer ends the attempt after ``timeout_s``.
    """

    call_id: str
    agent: str
    queue: str
    timeout_s: float
    number: str


@dataclass(frozen=True, slots=True)
class CancelRing:
    """Stop ringing ``agent`` for ``call_id`` (the caller stays in the queue or left)."""

    call_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class ConnectAgent:
    """Bridge the caller's leg to the agent's station leg; record if ``record``."""

    call_id: str
    agent: str
    queue: str
    record: bool


@dataclass(frozen=True, slots=True)
class DialCallback:
    """Call ``number`` back for ``agent`` (reserved for it) and connect them.

    Report ``callback_connected(request_id, new_call_id)`` when the patient
    answers, or ``callback_failed(request_id, outcome)``.
    """

    request_id: str
    number: str
    agent: str
    queue: str
    language: str


@dataclass(frozen=True, slots=True)
class CancelCallback:
    """Abandon dialing ``request_id`` (agent gone, timeout or cancelled)."""

    request_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """A row for ``queue_events``: enter, ring, ring-timeout, answer, abandon,
    callback-request, callback-dial, callback-done, callback-failed, overflow, position."""

    call_id: str
    queue: str
    event: str
    at: datetime
    agent: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """A row for ``agent_events``: logged-out, available, ringing, on-call,
    wrap-up, paused (with reason) or unavailable."""

    agent: str
    state: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class WrapUpDone:
    """The agent finished wrapping up ``call_id`` after ``seconds`` (the
    call's ``wrap_seconds``, part of its handle time)."""

    call_id: str
    agent: str
    seconds: float


@dataclass(frozen=True, slots=True)
class LeftQueue:
    """The caller left the queue; ``outcome`` is the CDR disposition:
    answered, abandoned, callback or overflow."""

    call_id: str
    queue: str
    outcome: str
    waited_s: float
    at: datetime
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class CallerAbandoned:
    """A caller hung up while waiting: put the number on the callback list."""

    call_id: str
    queue: str
    number: str
    waited_s: float
    position: int
    entered_at: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A caller chose a callback (``source`` requested or overflow) and keeps
    the place they had since ``place_at``. ``request_id`` is the caller's
    call id; it names the request in every later action."""

    request_id: str
    call_id: str
    queue: str
    number: str
    source: str
    place_at: datetime
    waited_s: float
    priority: int
    language: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """The callback ended: ``status`` done (connected to ``agent`` on
    ``call_id``), failed (``outcome`` says why; the request stays on the
    list for staff) or cancelled."""

    request_id: str
    status: str
    outcome: str
    at: datetime
    agent: str | None = None
    call_id: str | None = None


AcdAction = (
    StartMusic
    | RingAgent
    | CancelRing
    | ConnectAgent
    | DialCallback
    | CancelCallback
    | QueueEvent
    | AgentStateChanged
    | LeftQueue
    | CallerAbandoned
    | CallbackRequested
    | CallbackResult
    | WrapUpDone
    | Play
    | StopPlayback
    | StartTimer
    | CancelTimer
    | StartVoicemail
    | Hangup
)
