"""The ACD's internal machinery: timers, routing and the moves every event shares.

:class:`appliance.acd.engine.Acd` builds its public event methods on these.
Routing is caller-first: callers are taken in order of (higher priority,
earlier arrival), across all queues; each is offered to the free agent
with that skill who has been idle longest, preferring agents who have not
already let this caller ring out. A callback request keeps the caller's
place: when it reaches the front and an agent is free, the agent is
reserved and the box dials the caller back.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping

from appliance.acd.actions import (
    AcdAction,
    AgentStateChanged,
    CallbackRequested,
    CallbackResult,
    CallerAbandoned,
    CancelCallback,
    CancelRing,
    DialCallback,
    LeftQueue,
    QueueEvent,
    RingAgent,
    WrapUpDone,
)
from appliance.acd.estimate import HandleTimes, estimated_wait
from appliance.acd.model import Activity, Agent, AgentState, Connected, Entry, EntryState, Place
from appliance.clock import Clock
from appliance.config.callflow import QueueSettings
from appliance.ivr.actions import CancelTimer, Play, StartTimer, StartVoicemail, StopPlayback
from appliance.ivr.catalogue import position_prompt, wait_prompt
from appliance.ivr.prompts import PromptRef
from appliance.privacy import mask_phone

log = logging.getLogger(__name__)

Out = list[AcdAction]

# After an agent declines (or its station cannot be rung), it is not offered a
# call again for this long, like app_queue's ``retry`` (5 s by default). Other
# free agents are still rung at once; without the rest, a station that fails
# instantly would be re-rung in a tight loop.
DECLINE_REST_S = 5.0


class AcdCore:
    """State and shared moves; see :class:`appliance.acd.engine.Acd` for the API."""

    def __init__(
        self,
        queues: Mapping[str, QueueSettings],
        clock: Clock,
        *,
        callback_dial_timeout_s: float = 60.0,
        decline_rest_s: float = DECLINE_REST_S,
        handle_times: HandleTimes | None = None,
    ) -> None:
        self.queues = dict(queues)
        self.clock = clock
        self.callback_dial_timeout_s = callback_dial_timeout_s
        self.decline_rest_s = decline_rest_s
        # Free lines of the switchboard (None: unlimited). Ringing an agent takes
        # one line, calling a patient back takes two (patient and agent); the
        # switchboard sets it and calls ``lines_freed`` when a line comes back.
        self.free_lines: Callable[[], int] | None = None
        # Whether an outgoing call can be placed now (None: always). While it
        # cannot (no trunk yet after a reboot, GSM gateway not up), callbacks
        # keep their place instead of failing; ``lines_freed`` dispatches again.
        self.can_dial: Callable[[], bool] | None = None
        self.handle_times = handle_times or HandleTimes()
        self._agents: dict[str, Agent] = {}
        self._entries: dict[str, Entry] = {}
        self._connected: dict[str, Connected] = {}
        self._timers: dict[str, tuple[str, str]] = {}
        self._retired: set[str] = set()  # removed agents still on a call (see appliance.acd.rebuild)
        self._seq = itertools.count(1)

    # -- timers ---------------------------------------------------------------
    def _start_timer(self, kind: str, key: str, seconds: float, out: Out) -> str:
        timer_id = f"acd:{kind}:{key}:{next(self._seq)}"
        self._timers[timer_id] = (kind, key)
        out.append(StartTimer(timer_id, seconds))
        return timer_id

    def _cancel_timer(self, timer_id: str | None, out: Out) -> None:
        if timer_id is not None and self._timers.pop(timer_id, None) is not None:
            out.append(CancelTimer(timer_id))

    def _cancel_entry_timers(self, entry: Entry, out: Out) -> None:
        for name in ("ring_timer", "announce_timer", "maxwait_timer", "dial_timer"):
            self._cancel_timer(getattr(entry, name), out)
            setattr(entry, name, None)

    # -- agents -------------------------------------------------------------
    def place_of(self, call_id: str) -> Place | None:
        """Where a connected caller was in line (None: the call never queued)."""
        connected = self._connected.get(call_id)
        return connected.place if connected is not None else None

    def _agent(self, agent_id: str) -> Agent | None:
        agent = self._agents.get(agent_id)
        if agent is None:
            log.warning("ACD: unknown agent %r ignored", agent_id)
        return agent

    def _noted(self, agent: Agent, out: Out) -> None:
        """Emit AgentStateChanged if ``agent``'s public state differs from the last one reported."""
        after = agent.state
        if after is not agent.reported:
            agent.reported = after
            agent.state_since = self.clock.monotonic()
            reason = agent.pause_reason if after is AgentState.PAUSED else ""
            out.append(AgentStateChanged(agent.id, after.value, reason, self.clock.now()))

    def _set_idle(self, agent: Agent, out: Out, *, to_back: bool) -> None:
        """The agent is free again; ``to_back`` puts it last in the longest-idle order."""
        agent.activity = Activity.IDLE
        agent.call_id = None
        agent.queue = None
        if to_back:
            agent.idle_since = self.clock.monotonic()
        self._noted(agent, out)
        if agent.id in self._retired:  # its station was removed: its last call is over
            self._retired.discard(agent.id)
            self._cancel_timer(agent.rest_timer, out)
            self._agents.pop(agent.id, None)

    def _release_pending(self, agent: Agent, out: Out) -> None:
        """The agent cannot take what it is being offered: give it to the next one."""
        if agent.activity is Activity.RINGING and agent.call_id in self._entries:
            entry = self._entries[agent.call_id]
            self._unring(entry, out, tried=True)
            self._set_idle(agent, out, to_back=True)
        elif agent.activity is Activity.DIALING and agent.call_id in self._entries:
            entry = self._entries[agent.call_id]
            out.append(CancelCallback(entry.key, agent.id))
            self._cancel_timer(entry.dial_timer, out)
            entry.dial_timer = None
            entry.state = EntryState.CALLBACK
            entry.agent = None
            self._set_idle(agent, out, to_back=False)
        elif agent.activity is Activity.WRAP_UP:
            self._end_wrap(agent, out)

    def _finish_call(self, call_id: str, connected: Connected, out: Out) -> None:
        """A connected call ended: the agent wraps up (or is free at once)."""
        agent = self._agents.get(connected.agent)
        talk = self.clock.monotonic() - connected.since
        wrap_s = self.queues[connected.queue].wrap_up_s
        if agent is None or agent.call_id != call_id:
            self.handle_times.add(connected.queue, talk)
            return
        if wrap_s <= 0 or not agent.present or not agent.logged_in or agent.id in self._retired:
            self.handle_times.add(connected.queue, talk)
            self._set_idle(agent, out, to_back=True)
            return
        agent.activity = Activity.WRAP_UP
        agent.call_id = None
        agent.queue = connected.queue
        agent.wrap_call = call_id
        agent.wrap_started = self.clock.monotonic()
        agent.wrap_talk_s = talk
        agent.wrap_timer = self._start_timer("wrap", agent.id, wrap_s, out)
        self._noted(agent, out)

    def _end_wrap(self, agent: Agent, out: Out) -> None:
        """Wrap-up is over: count the handle time, the agent is free (last in line)."""
        self._cancel_timer(agent.wrap_timer, out)
        agent.wrap_timer = None
        wrapped = self.clock.monotonic() - agent.wrap_started
        if agent.queue is not None:
            self.handle_times.add(agent.queue, agent.wrap_talk_s + wrapped)
        if agent.wrap_call is not None:
            out.append(WrapUpDone(agent.wrap_call, agent.id, round(wrapped, 1)))
            agent.wrap_call = None
        self._set_idle(agent, out, to_back=True)

    # -- callers --------------------------------------------------------------
    def _ordered(self, queue: str | None = None) -> list[Entry]:
        if queue is None:
            return sorted(self._entries.values(), key=Entry.order)
        return sorted((e for e in self._entries.values() if e.queue == queue), key=Entry.order)

    def _position(self, entry: Entry) -> int:
        mine = entry.order()
        return 1 + sum(1 for e in self._entries.values() if e.queue == entry.queue and e.order() < mine)

    def _waited(self, entry: Entry) -> float:
        return max(0.0, self.clock.monotonic() - entry.arrival)

    def _staffed(self, queue: str) -> int:
        return sum(1 for a in self._agents.values() if queue in a.skills and a.staffed)

    def estimated_wait_s(self, queue: str, position: int) -> float | None:
        """Seconds a caller at ``position`` should expect (see :mod:`appliance.acd.estimate`)."""
        return estimated_wait(position, self.handle_times.average(queue), self._staffed(queue))

    def _unring(self, entry: Entry, out: Out, *, tried: bool) -> None:
        """Stop ringing this entry's agent; the entry waits again (agent untouched)."""
        if entry.agent is not None:
            out.append(CancelRing(entry.key, entry.agent))
            if tried:
                entry.tried.add(entry.agent)
        self._cancel_timer(entry.ring_timer, out)
        entry.ring_timer = None
        entry.agent = None
        entry.state = EntryState.WAITING

    def _stop_play(self, entry: Entry, out: Out) -> None:
        if entry.play_id is not None and entry.line_open:
            out.append(StopPlayback(entry.key, entry.play_id))
        entry.play_id = None

    def _play(self, entry: Entry, prompts: list[PromptRef], out: Out, *, interruptible: bool = True) -> None:
        entry.play_id = next(self._seq)
        out.append(Play(entry.key, tuple(prompts), entry.language, interruptible, entry.play_id))

    def _announcement(self, entry: Entry, first: bool) -> list[PromptRef]:
        queue = self.queues[entry.queue]
        position = self._position(entry)
        prompts = [PromptRef("queue_hold")] if first else []
        prompts.append(position_prompt(position))
        wait = self.estimated_wait_s(entry.queue, position)
        if wait is not None:
            prompts.append(wait_prompt(-(-int(wait) // 60)))
        if queue.callback_key and entry.number:
            prompts.append(PromptRef.of("callback_offer", key=queue.callback_key))
        return prompts

    def _announce(self, entry: Entry, out: Out, *, first: bool, prefix: list[PromptRef]) -> None:
        queue = self.queues[entry.queue]
        prompts = [*prefix, *self._announcement(entry, first)]
        self._stop_play(entry, out)
        self._play(entry, prompts, out)
        position = self._position(entry)
        out.append(QueueEvent(entry.key, entry.queue, "position", self.clock.now(), None, {"position": position}))
        if queue.announce_every_s > 0:
            entry.announce_timer = self._start_timer("announce", entry.key, queue.announce_every_s, out)

    def _request_callback(self, entry: Entry, source: str, out: Out, prefix: list[PromptRef]) -> None:
        """The caller leaves the line but keeps its place (virtual hold)."""
        agent = self._agents.get(entry.agent or "")
        if entry.state is EntryState.RINGING and agent is not None:
            self._unring(entry, out, tried=False)
            self._set_idle(agent, out, to_back=False)
        self._cancel_entry_timers(entry, out)
        self._stop_play(entry, out)
        entry.state = EntryState.CALLBACK
        entry.source = source
        now = self.clock.now()
        waited = self._waited(entry)
        out.append(
            CallbackRequested(
                entry.key,
                entry.key,
                entry.queue,
                entry.number,
                source,
                entry.entered_at,
                waited,
                entry.priority,
                entry.language,
                now,
            )
        )
        out.append(QueueEvent(entry.key, entry.queue, "callback-request", now, None, {"source": source}))
        out.append(LeftQueue(entry.key, entry.queue, "callback", waited, now))
        self._play(entry, [*prefix, PromptRef("callback_confirm")], out, interruptible=False)
        log.info("ACD: callback %s requested for %s in %s", source, mask_phone(entry.number), entry.queue)

    # -- routing --------------------------------------------------------------
    def _dispatch(self, out: Out) -> None:
        """Give free agents to the callers at the front, until agents or lines run out.

        A caller whose connection needs more lines than are free is passed
        over, not rung into a failure; ``lines_freed`` dispatches again.
        """
        lines = self.free_lines() if self.free_lines is not None else None
        dial = self.can_dial() if self.can_dial is not None else True
        while True:
            free = [a for a in self._agents.values() if a.state is AgentState.AVAILABLE and a.rest_timer is None]
            if not free or not self._entries:
                return
            for entry in self._ordered():
                ready = (entry.state is EntryState.WAITING and not entry.notice_pending) or (
                    entry.state is EntryState.CALLBACK and not entry.line_open and dial
                )
                if not ready:
                    continue
                needs = 1 if entry.state is EntryState.WAITING else 2
                if lines is not None and lines < needs:
                    continue
                agent = self._pick(entry, free)
                if agent is not None:
                    if entry.state is EntryState.WAITING:
                        self._ring(entry, agent, out)
                    else:
                        self._dial_back(entry, agent, out)
                    if lines is not None:
                        lines -= needs
                    break
            else:
                return

    @staticmethod
    def _pick(entry: Entry, free: list[Agent]) -> Agent | None:
        skilled = [a for a in free if entry.queue in a.skills]
        fresh = [a for a in skilled if a.id not in entry.tried] or skilled
        return min(fresh, key=lambda a: (a.idle_since, a.id)) if fresh else None

    def _ring(self, entry: Entry, agent: Agent, out: Out) -> None:
        queue = self.queues[entry.queue]
        agent.activity = Activity.RINGING
        agent.call_id = entry.key
        agent.queue = entry.queue
        entry.state = EntryState.RINGING
        entry.agent = agent.id
        out.append(RingAgent(entry.key, agent.id, entry.queue, float(queue.ring_timeout_s), entry.number))
        entry.ring_timer = self._start_timer("ring", entry.key, queue.ring_timeout_s, out)
        out.append(QueueEvent(entry.key, entry.queue, "ring", self.clock.now(), agent.id))
        self._noted(agent, out)

    def _dial_back(self, entry: Entry, agent: Agent, out: Out) -> None:
        agent.activity = Activity.DIALING
        agent.call_id = entry.key
        agent.queue = entry.queue
        entry.state = EntryState.DIALING
        entry.agent = agent.id
        out.append(DialCallback(entry.key, entry.number, agent.id, entry.queue, entry.language))
        entry.dial_timer = self._start_timer("dial", entry.key, self.callback_dial_timeout_s, out)
        out.append(QueueEvent(entry.key, entry.queue, "callback-dial", self.clock.now(), agent.id))
        self._noted(agent, out)
        log.info("ACD: calling back %s for %s", mask_phone(entry.number), agent.id)

    # -- moves --------------------------------------------------------------
    def _after_ring(self, call_id: str, out: Out) -> None:
        entry = self._entries.get(call_id)
        if entry is not None and entry.overflow_due and entry.state is EntryState.WAITING:
            self._overflow(entry, "max-wait", out)
        self._dispatch(out)

    def _overflow(self, entry: Entry, reason: str, out: Out) -> None:
        queue = self.queues[entry.queue]
        now = self.clock.now()
        out.append(QueueEvent(entry.key, entry.queue, "overflow", now, None, {"reason": reason, "to": queue.overflow}))
        if queue.overflow == "callback" and entry.number:
            self._request_callback(entry, "overflow", out, [PromptRef("overflow")])
            return
        self._cancel_entry_timers(entry, out)
        self._stop_play(entry, out)
        del self._entries[entry.key]
        out.append(LeftQueue(entry.key, entry.queue, "overflow", self._waited(entry), now))
        greeting = (PromptRef("overflow"), PromptRef("leave_message"))
        out.append(StartVoicemail(entry.key, queue.mailbox, greeting, entry.language))

    def _abandon(self, entry: Entry, out: Out) -> None:
        position = self._position(entry)
        agent = self._agents.get(entry.agent or "")
        if entry.state is EntryState.RINGING and agent is not None:
            self._unring(entry, out, tried=False)
            self._set_idle(agent, out, to_back=False)
        self._cancel_entry_timers(entry, out)
        del self._entries[entry.key]
        now, waited = self.clock.now(), self._waited(entry)
        out.append(QueueEvent(entry.key, entry.queue, "abandon", now, None, {"wait_s": round(waited, 3)}))
        out.append(LeftQueue(entry.key, entry.queue, "abandoned", waited, now))
        out.append(CallerAbandoned(entry.key, entry.queue, entry.number, waited, position, entry.entered_at, now))
        log.info("ACD: %s abandoned %s after %.0f s", mask_phone(entry.number), entry.queue, waited)

    def _fail_callback(self, entry: Entry, outcome: str, out: Out) -> None:
        agent = self._agents.get(entry.agent or "")
        if agent is not None and agent.activity is Activity.DIALING:
            self._set_idle(agent, out, to_back=False)
        self._cancel_entry_timers(entry, out)
        del self._entries[entry.key]
        now = self.clock.now()
        out.append(QueueEvent(entry.key, entry.queue, "callback-failed", now, entry.agent, {"outcome": outcome}))
        out.append(CallbackResult(entry.key, "failed", outcome, now, entry.agent))
