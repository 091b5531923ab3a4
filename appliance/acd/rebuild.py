"""A reloaded config applied to a running ACD: queues and agents rebuilt in place.

Nobody waiting loses their place and no call in progress is touched:

* a changed queue takes its new policy for what happens next (the next
  ring, announcement, overflow or wrap-up); timers already running keep
  their length;
* a new queue takes callers at once;
* a removed queue's callers (on the line, ringing an agent, or holding a
  callback place) move to ``fallback`` (the front-desk queue), keeping
  their arrival time and priority, so they keep their place in line there;
  its connected calls finish as they are and wrap up by the fallback's rule;
* a new agent is known at once (unavailable until its station appears);
* a changed agent gets its new skills and name; a call it is ringing for or
  talking to is not taken from it;
* a removed agent is offered nothing more: a call ringing it moves on to the
  next agent at once, a call it is talking to goes on until it ends, and then
  the agent is gone.
"""

from __future__ import annotations

from collections.abc import Mapping

from appliance.acd.actions import QueueEvent
from appliance.acd.core import AcdCore, Out
from appliance.acd.model import Activity, Agent
from appliance.config.callflow import QueueSettings
from appliance.errors import ValidationError

#: An agent's skills (queue ids) and its display name.
AgentSpec = tuple[tuple[str, ...], str]


def check(queues: Mapping[str, QueueSettings], agents: Mapping[str, AgentSpec], fallback: str) -> None:
    """Refuse a rebuild that could not be applied, before anything changes.

    Raises:
        ValidationError: the fallback queue or an agent's skill names no queue.
    """
    if fallback not in queues:
        raise ValidationError(f"no queue {fallback!r} to move the callers of removed queues to")
    for agent_id, (skills, _name) in sorted(agents.items()):
        unknown = [q for q in skills if q not in queues]
        if unknown:
            raise ValidationError(f"agent {agent_id!r} serves unknown queue {unknown[0]!r}; known: {sorted(queues)}")


def rebuild(acd: AcdCore, queues: Mapping[str, QueueSettings], agents: Mapping[str, AgentSpec], fallback: str) -> Out:
    """Apply new queues and agents to ``acd`` (see the module doc); returns the actions to run."""
    check(queues, agents, fallback)
    out: Out = []
    now = acd.clock.now()
    removed = set(acd.queues) - set(queues)
    acd.queues = dict(queues)
    for entry in list(acd._entries.values()):
        if entry.queue in removed:
            out.append(QueueEvent(entry.key, fallback, "moved", now, entry.agent, {"from": entry.queue}))
            entry.queue = fallback
    for connected in acd._connected.values():
        if connected.queue in removed:
            connected.queue = fallback
    for agent_id, (skills, name) in agents.items():
        agent = acd._agents.get(agent_id)
        if agent is None:
            acd._agents[agent_id] = _new_agent(acd, agent_id, skills, name)
            acd._retired.discard(agent_id)
            continue
        agent.skills, agent.name = tuple(skills), name or agent_id
        if agent.queue in removed:
            agent.queue = fallback
        acd._retired.discard(agent_id)
    for agent_id in sorted(set(acd._agents) - set(agents)):
        retire(acd, agent_id, out)
    acd._dispatch(out)
    return out


def _new_agent(acd: AcdCore, agent_id: str, skills: tuple[str, ...], name: str) -> Agent:
    now = acd.clock.monotonic()
    return Agent(agent_id, name or agent_id, tuple(skills), idle_since=now, state_since=now)


def retire(acd: AcdCore, agent_id: str, out: Out) -> None:
    """The agent's station was removed: nothing new for it; gone once its call ends."""
    agent = acd._agents[agent_id]
    agent.skills = ()
    acd._release_pending(agent, out)  # a call ringing it moves on; a wrap-up ends
    acd._noted(agent, out)
    if agent.activity in (Activity.ON_CALL, Activity.DIALING):
        acd._retired.add(agent_id)  # forgotten when that call is over (AcdCore._set_idle)
    else:
        acd._cancel_timer(agent.rest_timer, out)
        del acd._agents[agent_id]
