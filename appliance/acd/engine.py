"""The call queue (ACD): the events the switchboard reports, and the answers.

Every public method takes one event and returns the actions to carry out
(:mod:`appliance.acd.actions`), in order. Nothing here blocks or reads the
system clock; time comes from the injected Clock (monotonic for waits and
order, ``now()`` for the records' timestamps).

Example:
    >>> from appliance.clock import FakeClock
    >>> from appliance.config import load_config
    >>> acd = Acd.from_config(load_config(), FakeClock())
    >>> acd.add_agent("desk1", ["front-desk"])
    []
    >>> _ = acd.station_up("desk1"); _ = acd.login("desk1")
    >>> [type(a).__name__ for a in acd.enter("c1", "front-desk", number="+48601234567")][:3]
    ['QueueEvent', 'StartMusic', 'StartTimer']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from appliance.acd.actions import (
    CallbackResult,
    CancelCallback,
    ConnectAgent,
    LeftQueue,
    QueueEvent,
    StartMusic,
)
from appliance.acd.core import AcdCore, Out
from appliance.acd.model import Activity, Agent, Connected, Entry, EntryState, Place
from appliance.acd.rebuild import AgentSpec, rebuild
from appliance.acd.snapshot import AcdSnapshot, build_snapshot
from appliance.clock import Clock
from appliance.config import Config
from appliance.config.callflow import QueueSettings
from appliance.errors import ValidationError
from appliance.ivr.actions import Hangup
from appliance.ivr.prompts import PromptRef

log = logging.getLogger(__name__)


class Acd(AcdCore):
    """Queues, agents and callbacks of one box. Drive it from one thread."""

    @classmethod
    def from_config(cls, cfg: Config, clock: Clock) -> Acd:
        """Queues from ``[queues]``, one agent per ``[stations.<id>]`` (unavailable until it appears)."""
        acd = cls(cfg.queues, clock)
        for sid, station in sorted(cfg.stations.items()):
            acd.add_agent(sid, station.queues, station.name or sid)
        return acd

    def reconfigure(self, queues: Mapping[str, QueueSettings], agents: Mapping[str, AgentSpec], fallback: str) -> Out:
        """Rebuild queues and agents from a reloaded config; nobody waiting loses their place.

        See :mod:`appliance.acd.rebuild`. Raises ValidationError (nothing changed) when
        an agent serves an unknown queue or ``fallback`` is not a queue.
        """
        return rebuild(self, queues, agents, fallback)

    # -- agents -------------------------------------------------------------
    def add_agent(self, agent_id: str, skills: Iterable[str], name: str = "") -> Out:
        """Know a station. It is unavailable until :meth:`station_up`.

        Raises:
            ValidationError: a skill names an unknown queue.
        """
        skills = tuple(skills)
        unknown = [q for q in skills if q not in self.queues]
        if unknown:
            raise ValidationError(
                f"agent {agent_id!r} serves unknown queue {unknown[0]!r}; known: {sorted(self.queues)}"
            )
        now = self.clock.monotonic()
        self._agents[agent_id] = Agent(agent_id, name or agent_id, skills, idle_since=now, state_since=now)
        return []

    def station_up(self, agent_id: str) -> Out:
        """The agent's station registered / answered OPTIONS again."""
        return self._change(agent_id, lambda a, out: setattr(a, "present", True))

    def station_down(self, agent_id: str) -> Out:
        """The station vanished (headset unplugged, PC off): a ringing call moves on at once."""

        def down(agent: Agent, out: Out) -> None:
            agent.present = False
            self._release_pending(agent, out)

        return self._change(agent_id, down)

    def login(self, agent_id: str) -> Out:
        return self._change(agent_id, lambda a, out: setattr(a, "logged_in", True))

    def logout(self, agent_id: str) -> Out:
        """Log out; a ringing call moves on, a current call finishes first."""

        def logout(agent: Agent, out: Out) -> None:
            agent.logged_in = False
            agent.pause_reason = ""
            self._release_pending(agent, out)

        return self._change(agent_id, logout)

    def pause(self, agent_id: str, reason: str = "break") -> Out:
        """Pause (from now, or after the current call); a ringing call moves on."""

        def pause(agent: Agent, out: Out) -> None:
            agent.pause_reason = reason or "break"
            if agent.activity is Activity.RINGING:
                self._release_pending(agent, out)

        return self._change(agent_id, pause)

    def unpause(self, agent_id: str) -> Out:
        return self._change(agent_id, lambda a, out: setattr(a, "pause_reason", ""))

    def agent_ready(self, agent_id: str) -> Out:
        """The agent ends wrap-up early ("ready" in the console)."""

        def ready(agent: Agent, out: Out) -> None:
            if agent.activity is Activity.WRAP_UP:
                self._end_wrap(agent, out)

        return self._change(agent_id, ready)

    def _change(self, agent_id: str, change: Callable[[Agent, Out], None]) -> Out:
        agent = self._agent(agent_id)
        if agent is None:
            return []
        out: Out = []
        change(agent, out)
        self._noted(agent, out)
        self._dispatch(out)
        return out

    # -- callers --------------------------------------------------------------
    def enter(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int = 0,
        number: str = "",
        language: str = "en",
        front: bool = False,
        place: Place | None = None,
    ) -> Out:
        """A caller enters ``queue`` (from the IVR's EnterQueue); ``place``: their old place (a transfer).

        ``front``: ahead of everyone in the queue, even when it is full (a caller
        whose connection to an agent failed is not sent to the back).

        Raises:
            ValidationError: unknown queue, or the call is already queued.
        """
        settings = self.queues.get(queue)
        if settings is None:
            raise ValidationError(f"unknown queue {queue!r}; known: {sorted(self.queues)}")
        if call_id in self._entries or call_id in self._connected:
            raise ValidationError(f"call {call_id} is already in the queue")
        now = self.clock.now()
        if front:
            priority = max([priority, *(e.priority + 1 for e in self._entries.values() if e.queue == queue)])
        entry = Entry(call_id, queue, priority, number, language, self.clock.monotonic(), now, next(self._seq))
        if place is not None:
            place.apply(entry)
        out: Out = [QueueEvent(call_id, queue, "enter", now, None, {"priority": entry.priority})]
        kept = self._entries.get(self.pending_callback(number) or "") if number else None
        if kept is not None and kept.state is EntryState.CALLBACK and kept.queue == queue:
            # They asked to be called back and ring again: the call takes the place they kept,
            # and the box will not also dial them.
            entry.arrival, entry.seq, entry.priority = kept.arrival, kept.seq, max(priority, kept.priority)
            self._cancel_entry_timers(kept, out)
            del self._entries[kept.key]
            out.append(CallbackResult(kept.key, "cancelled", "called-in", now))
        live = sum(
            1
            for e in self._entries.values()
            if e.queue == queue and e.line_open and e.state in (EntryState.WAITING, EntryState.RINGING)
        )
        self._entries[call_id] = entry
        if live >= settings.max_length and not front:
            self._overflow(entry, "queue-full", out)
            return out
        out.append(StartMusic(call_id, settings.music))
        entry.maxwait_timer = self._start_timer("maxwait", call_id, settings.max_wait_s, out)
        prefix = [PromptRef("recording_notice")] if settings.record else []
        entry.notice_pending = bool(prefix)  # a recorded queue rings no agent before the notice is heard
        self._dispatch(out)
        if entry.state is EntryState.WAITING and settings.announce_every_s > 0:
            self._announce(entry, out, first=True, prefix=prefix)
        elif entry.state is EntryState.WAITING:
            self._play(entry, [*prefix, PromptRef("queue_hold")], out)
        elif prefix:
            self._play(entry, prefix, out)
        if prefix:
            entry.notice_play = entry.play_id
        return out

    def on_digit(self, call_id: str, digit: str) -> Out:
        """A digit from a waiting caller: the queue's callback key asks for a callback."""
        entry = self._entries.get(call_id)
        if entry is None or not entry.line_open or entry.state not in (EntryState.WAITING, EntryState.RINGING):
            return []
        key = self.queues[entry.queue].callback_key
        if not key or digit != key or not entry.number:
            return []
        out: Out = []
        self._request_callback(entry, "requested", out, [])
        self._dispatch(out)
        return out

    def on_prompt_done(self, call_id: str, play_id: int | None = None) -> Out:
        """A Play the ACD started has finished."""
        entry = self._entries.get(call_id)
        if entry is None or (play_id is not None and play_id != entry.play_id):
            return []
        entry.play_id = None
        out: Out = []
        if play_id is not None and play_id == entry.notice_play:
            entry.notice_heard, entry.notice_pending = True, False
            self._dispatch(out)
        if entry.state is EntryState.CALLBACK and entry.line_open:
            entry.line_open = False  # the confirmation was heard; the box hangs up
            out.append(Hangup(call_id, "callback-requested"))
            self._dispatch(out)
        return out

    def agent_answered(self, call_id: str, agent_id: str) -> Out:
        """The agent accepted (manual) or its station answered (auto): connect."""
        entry = self._entries.get(call_id)
        agent = self._agents.get(agent_id)
        if entry is None or agent is None or entry.state is not EntryState.RINGING or entry.agent != agent_id:
            log.warning("ACD: %s answered %s, which is not ringing it; ignored", agent_id, call_id)
            return []
        out: Out = []
        waited = self._waited(entry)
        self._cancel_entry_timers(entry, out)
        self._stop_play(entry, out)
        del self._entries[call_id]
        agent.activity = Activity.ON_CALL
        self._connected[call_id] = Connected(agent_id, entry.queue, self.clock.monotonic(), Place.of(entry))
        now = self.clock.now()
        record = self.queues[entry.queue].record
        if record and not entry.notice_heard:
            # Never record a caller who has not heard the whole recording notice.
            log.info("ACD: %s answered before the recording notice ended: not recorded", agent_id)
            record = False
        out.append(ConnectAgent(call_id, agent_id, entry.queue, record))
        out.append(QueueEvent(call_id, entry.queue, "answer", now, agent_id, {"wait_s": round(waited, 3)}))
        out.append(LeftQueue(call_id, entry.queue, "answered", waited, now, agent_id))
        self._noted(agent, out)
        return out

    def connect_direct(self, call_id: str, agent_id: str, queue: str) -> Out:
        """A call put straight through to an agent (a transfer to its station), not routed.

        The agent it came from, if any, wraps up; this one is on the call from
        now (not offered other callers; a caller ringing it moves on), and its
        talk and wrap-up count like any answered call's.

        Raises:
            ValidationError: unknown queue or agent, the agent is busy on a call,
                or the call is waiting in a queue.
        """
        agent = self._agents.get(agent_id)
        if queue not in self.queues or agent is None:
            raise ValidationError(f"cannot connect {call_id} to agent {agent_id!r} in queue {queue!r}: unknown")
        if agent.activity in (Activity.ON_CALL, Activity.DIALING):
            raise ValidationError(f"{agent.name} is on another call; try another station or a queue")
        if call_id in self._entries:
            raise ValidationError(f"call {call_id} is waiting in a queue; answer it from there")
        out: Out = []
        previous = self._connected.pop(call_id, None)
        if previous is not None:
            self._finish_call(call_id, previous, out)
        if agent.activity is not Activity.IDLE:
            self._release_pending(agent, out)  # ringing: the caller goes on; wrap-up: done
        agent.activity, agent.call_id, agent.queue = Activity.ON_CALL, call_id, queue
        place = previous.place if previous is not None else None  # a caller's place in line carries over
        self._connected[call_id] = Connected(agent_id, queue, self.clock.monotonic(), place)
        self._noted(agent, out)
        self._dispatch(out)
        return out

    def connect_failed(self, call_id: str, agent_id: str, queue: str, *, number: str = "", language: str = "en") -> Out:
        """The agent's station failed or rang out before the call reached it.

        That is a transfer to a station or a callback's reserved agent: the agent
        is free again but rests like after a decline, and the caller goes back to
        the front of its queue (``queue`` when the ACD did not connect the call).
        """
        connected = self._connected.get(call_id)
        if call_id in self._entries or (connected is not None and connected.agent != agent_id):
            return []
        out: Out = []
        if connected is not None:
            del self._connected[call_id]
            queue = connected.queue
        agent = self._agents.get(agent_id)
        if agent is not None and agent.activity is Activity.ON_CALL and agent.call_id == call_id:
            self._set_idle(agent, out, to_back=True)
            self._cancel_timer(agent.rest_timer, out)
            agent.rest_timer = self._start_timer("rest", agent.id, self.decline_rest_s, out)
        out.append(QueueEvent(call_id, queue, "connect-failed", self.clock.now(), agent_id))
        out.extend(self.enter(call_id, queue, number=number, language=language, front=True))
        return out

    def agent_declined(self, call_id: str, agent_id: str) -> Out:
        """The agent refused, or ringing its station failed (busy, 480...): next agent now.

        The declining agent rests for ``decline_rest_s`` before it is offered a
        call again.
        """
        agent = self._agents.get(agent_id)
        if agent is None or agent.activity is not Activity.RINGING or agent.call_id != call_id:
            return []
        out: Out = []
        self._release_pending(agent, out)
        self._cancel_timer(agent.rest_timer, out)
        agent.rest_timer = self._start_timer("rest", agent.id, self.decline_rest_s, out)
        self._after_ring(call_id, out)
        return out

    def lines_freed(self) -> Out:
        """The switchboard has a line free again: ring the callers who waited for one."""
        out: Out = []
        self._dispatch(out)
        return out

    def call_ended(self, call_id: str) -> Out:
        """The call is over (caller or agent hung up): abandon, or wrap-up."""
        out: Out = []
        connected = self._connected.pop(call_id, None)
        if connected is not None:
            self._finish_call(call_id, connected, out)
            self._dispatch(out)
            return out
        entry = self._entries.get(call_id)
        if entry is None or not entry.line_open:
            return out
        entry.line_open = False
        if entry.state is EntryState.CALLBACK:  # hung up during the confirmation
            self._dispatch(out)
            return out
        self._abandon(entry, out)
        self._dispatch(out)
        return out

    # -- callbacks ------------------------------------------------------------
    def add_callback(
        self,
        request_id: str,
        queue: str,
        number: str,
        place_at: datetime,
        *,
        priority: int = 0,
        language: str = "en",
        source: str = "requested",
    ) -> Out:
        """Put a stored, open callback request back in line at its place (after a restart).

        Raises:
            ValidationError: unknown queue, no number, or the id is in use.
        """
        if queue not in self.queues:
            raise ValidationError(f"unknown queue {queue!r}; known: {sorted(self.queues)}")
        if not number:
            raise ValidationError(f"callback {request_id} has no number to call")
        if request_id in self._entries:
            raise ValidationError(f"callback {request_id} is already in the queue")
        age = max(0.0, (self.clock.now() - place_at).total_seconds())
        entry = Entry(request_id, queue, priority, number, language, self.clock.monotonic() - age, place_at, 0)
        entry.seq = next(self._seq)
        entry.state, entry.line_open, entry.source = EntryState.CALLBACK, False, source
        self._entries[request_id] = entry
        out: Out = []
        self._dispatch(out)
        return out

    def callback_connected(self, request_id: str, call_id: str) -> Out:
        """The patient answered the callback: connect the reserved agent (once)."""
        entry = self._entries.get(request_id)
        if entry is None or entry.state is not EntryState.DIALING or entry.agent is None:
            return []
        agent = self._agents[entry.agent]
        out: Out = []
        self._cancel_timer(entry.dial_timer, out)
        del self._entries[request_id]
        agent.activity, agent.call_id = Activity.ON_CALL, call_id
        self._connected[call_id] = Connected(agent.id, entry.queue, self.clock.monotonic(), Place.of(entry))
        now = self.clock.now()
        out.append(ConnectAgent(call_id, agent.id, entry.queue, self.queues[entry.queue].record))
        out.append(QueueEvent(request_id, entry.queue, "callback-done", now, agent.id, {"call_id": call_id}))
        out.append(CallbackResult(request_id, "done", "answered", now, agent.id, call_id))
        return out

    def callback_failed(self, request_id: str, outcome: str) -> Out:
        """The callback did not reach the patient (no-answer, busy, failed...)."""
        entry = self._entries.get(request_id)
        if entry is None or entry.state is not EntryState.DIALING:
            return []
        out: Out = []
        self._fail_callback(entry, outcome, out)
        self._dispatch(out)
        return out

    def cancel_callback(self, request_id: str) -> Out:
        """Staff cancelled the request (or the patient got through another way)."""
        entry = self._entries.get(request_id)
        if entry is None or entry.state not in (EntryState.CALLBACK, EntryState.DIALING):
            return []
        out: Out = []
        agent = self._agents.get(entry.agent or "")
        if entry.state is EntryState.DIALING and agent is not None:
            out.append(CancelCallback(request_id, agent.id))
            self._set_idle(agent, out, to_back=False)
        self._cancel_entry_timers(entry, out)
        del self._entries[request_id]
        out.append(CallbackResult(request_id, "cancelled", "cancelled", self.clock.now()))
        self._dispatch(out)
        return out

    def pending_callback(self, number: str, exclude: str | None = None) -> str | None:
        """The open callback request for ``number``, if any (a caller ringing again)."""
        for entry in self._entries.values():
            if entry.key == exclude:
                continue
            if entry.number == number and entry.state in (EntryState.CALLBACK, EntryState.DIALING):
                return entry.key
        return None

    # -- timers ---------------------------------------------------------------
    def on_timer(self, timer_id: str) -> Out:
        """A timer the ACD started has fired (stale ids are ignored)."""
        info = self._timers.pop(timer_id, None)
        if info is None:
            return []
        kind, key = info
        out: Out = []
        if kind == "wrap":
            agent = self._agents.get(key)
            if agent is not None and agent.wrap_timer == timer_id:
                agent.wrap_timer = None
                self._end_wrap(agent, out)
            self._dispatch(out)
            return out
        if kind == "rest":
            agent = self._agents.get(key)
            if agent is not None and agent.rest_timer == timer_id:
                agent.rest_timer = None
            self._dispatch(out)
            return out
        entry = self._entries.get(key)
        if entry is None:
            return out
        if kind == "ring" and entry.ring_timer == timer_id:
            entry.ring_timer = None
            agent = self._agents.get(entry.agent or "")
            out.append(QueueEvent(key, entry.queue, "ring-timeout", self.clock.now(), entry.agent))
            self._unring(entry, out, tried=True)
            if agent is not None:
                self._set_idle(agent, out, to_back=True)
            self._after_ring(key, out)
        elif kind == "announce" and entry.announce_timer == timer_id:
            entry.announce_timer = None
            if entry.state is EntryState.WAITING and entry.line_open:
                self._announce(entry, out, first=False, prefix=[])
            elif entry.state is EntryState.RINGING:
                every = self.queues[entry.queue].announce_every_s
                entry.announce_timer = self._start_timer("announce", key, every, out)
        elif kind == "maxwait" and entry.maxwait_timer == timer_id:
            entry.maxwait_timer = None
            if entry.state is EntryState.WAITING:
                self._overflow(entry, "max-wait", out)
            elif entry.state is EntryState.RINGING:
                entry.overflow_due = True  # let the ring finish; overflow if unanswered
        elif kind == "dial" and entry.dial_timer == timer_id:
            entry.dial_timer = None
            out.append(CancelCallback(key, entry.agent or ""))
            self._fail_callback(entry, "timeout", out)
        self._dispatch(out)
        return out

    # -- views --------------------------------------------------------------
    def has_call(self, call_id: str) -> bool:
        """Is ``call_id`` waiting, ringing or connected through the ACD?"""
        entry = self._entries.get(call_id)
        return call_id in self._connected or (entry is not None and entry.line_open)

    def snapshot(self) -> AcdSnapshot:
        """Queues with their callers and wait times, agents and their states."""
        return build_snapshot(self)
