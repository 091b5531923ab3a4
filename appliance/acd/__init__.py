"""The call queue (ACD): queues, agents and their states, routing, callbacks.

Pure and event-driven (no PJSUA2, no sleeping, no system clock): the
switchboard drives one :class:`Acd` from its PJSUA2 thread; every method
takes one event and returns ``list[AcdAction]`` to execute in order. Time
comes from the injected Clock: ``monotonic()`` for waits and order,
``now()`` for the timestamps on records.

Contract with the switchboard
-----------------------------
Build once: ``acd = Acd.from_config(cfg, clock)`` (one agent per
``[stations.<id>]``, skills = its queues, unavailable until it appears).

Agents: ``station_up(agent)`` / ``station_down(agent)`` (registration or
OPTIONS lost: a call ringing there moves to the next agent at once),
``login(agent)``, ``logout(agent)``, ``pause(agent, reason)``,
``unpause(agent)``, ``agent_ready(agent)`` (end wrap-up early).

Callers: ``enter(call_id, queue, priority=, number=, language=)`` on the
IVR's EnterQueue; ``on_digit(call_id, d)`` while queued (the queue's
``callback_key`` asks for a callback); ``on_prompt_done(call_id, play_id)``;
``agent_answered(call_id, agent)`` when the agent accepts (manual) or its
station answers (auto); ``agent_declined(call_id, agent)`` when it refuses
or the station leg fails; ``call_ended(call_id)`` when the caller's call is
over, whoever hung up (abandon while waiting, wrap-up after a talk).

Callbacks: ``callback_connected(request_id, new_call_id)`` /
``callback_failed(request_id, outcome)`` answer a DialCallback;
``add_callback(request_id, queue, number, place_at, ...)`` re-queues a
stored open request after a restart; ``cancel_callback(request_id)``;
``pending_callback(number)``. The request id is the original call's id.

Timers: ``on_timer(timer_id)`` for ids starting with ``acd:``.
Views: ``snapshot()`` (wallboard), ``has_call(call_id)``,
``estimated_wait_s(queue, position)``.

Commands returned (:mod:`appliance.acd.actions`): StartMusic, RingAgent,
CancelRing, ConnectAgent, DialCallback, CancelCallback, and from
:mod:`appliance.ivr.actions` Play, StopPlayback, StartTimer, CancelTimer,
StartVoicemail (overflow to voicemail) and Hangup (after the callback
confirmation). Records returned: QueueEvent, AgentStateChanged, LeftQueue
(the CDR disposition: answered, abandoned, callback, overflow),
CallerAbandoned and CallbackRequested (callbacks rows: source abandoned /
requested / overflow, with the wait endured and the kept place),
CallbackResult (done / failed / cancelled; exactly one per request) and
WrapUpDone (the seconds an agent wrapped up a call).

Rules: callers are served by (higher priority, earlier arrival) across
queues; each goes to the longest-idle free agent with the skill, preferring
agents it has not already rung; a ring that times out moves on and sends
that agent to the back of the idle order. Position and estimated wait are
announced on entry and every ``announce_every_s``; at ``max_wait_s`` or when
``max_length`` callers are on the line, the caller overflows to voicemail or
to a callback (per queue ``overflow``; callers without a number always get
voicemail). A callback request keeps the caller's place; when it reaches
the front and an agent is free, the agent is reserved and DialCallback is
emitted exactly once; a failed dial is reported once and not retried
automatically (the request stays on the callback list for staff).
"""

from appliance.acd.actions import (
    AcdAction,
    AgentStateChanged,
    CallbackRequested,
    CallbackResult,
    CallerAbandoned,
    CancelCallback,
    CancelRing,
    ConnectAgent,
    DialCallback,
    LeftQueue,
    QueueEvent,
    RingAgent,
    StartMusic,
    WrapUpDone,
)
from appliance.acd.engine import Acd
from appliance.acd.estimate import DEFAULT_HANDLE_S, HandleTimes, estimated_wait
from appliance.acd.model import AgentState, EntryState
from appliance.acd.snapshot import AcdSnapshot, AgentView, QueueView, WaitingCaller

__all__ = [
    "DEFAULT_HANDLE_S",
    "Acd",
    "AcdAction",
    "AcdSnapshot",
    "AgentState",
    "AgentStateChanged",
    "AgentView",
    "CallbackRequested",
    "CallbackResult",
    "CallerAbandoned",
    "CancelCallback",
    "CancelRing",
    "ConnectAgent",
    "DialCallback",
    "EntryState",
    "HandleTimes",
    "LeftQueue",
    "QueueEvent",
    "QueueView",
    "RingAgent",
    "StartMusic",
    "WaitingCaller",
    "WrapUpDone",
    "estimated_wait",
]
