"""The ACD's state for the wallboard, the console and the control socket.

Plain frozen values with ``as_dict()`` for JSON; built from the engine's
state in one pass, cheap enough to take on every change.

Any: 1, the snapshot as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from appliance.acd.model import AgentState, EntryState

if TYPE_CHECKING:
    from appliance.acd.core import AcdCore


@dataclass(frozen=True)
class WaitingCaller:
    call_id: str
    queue: str
    position: int
    number: str
    priority: int
    state: str  # waiting, ringing, callback, dialing
    waited_s: float
    agent: str | None
    language: str


@dataclass(frozen=True)
class AgentView:
    id: str
    name: str
    state: str
    reason: str
    skills: tuple[str, ...]
    call_id: str | None
    queue: str | None
    in_state_s: float


@dataclass(frozen=True)
class QueueView:
    id: str
    name: str
    waiting: int  # callers on the line
    callbacks: int  # callers waiting for a callback (virtual hold)
    longest_wait_s: float
    estimated_wait_s: float | None  # for a caller joining now
    agents_staffed: int
    agents_available: int
    callers: tuple[WaitingCaller, ...]


@dataclass(frozen=True)
class AcdSnapshot:
    at: datetime
    queues: tuple[QueueView, ...]
    agents: tuple[AgentView, ...]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def build_snapshot(acd: AcdCore) -> AcdSnapshot:
    """Read the engine's state into an :class:`AcdSnapshot` (one pass)."""
    mono = acd.clock.monotonic()
    views = []
    for qid, settings in acd.queues.items():
        entries = acd._ordered(qid)
        callers = tuple(
            WaitingCaller(
                e.key,
                qid,
                i,
                e.number,
                e.priority,
                e.state.value,
                round(max(0.0, mono - e.arrival), 1),
                e.agent,
                e.language,
            )
            for i, e in enumerate(entries, start=1)
        )
        on_line = [
            c for c, e in zip(callers, entries, strict=True) if e.line_open and c.state in ("waiting", "ringing")
        ]
        skilled = [a for a in acd._agents.values() if qid in a.skills]
        views.append(
            QueueView(
                qid,
                settings.name or qid,
                len(on_line),
                sum(1 for e in entries if e.state in (EntryState.CALLBACK, EntryState.DIALING)),
                max((c.waited_s for c in on_line), default=0.0),
                acd.estimated_wait_s(qid, len(callers) + 1),
                sum(1 for a in skilled if a.staffed),
                sum(1 for a in skilled if a.state is AgentState.AVAILABLE),
                callers,
            )
        )
    agents = tuple(
        AgentView(
            a.id,
            a.name,
            a.state.value,
            a.pause_reason if a.state is AgentState.PAUSED else "",
            a.skills,
            a.call_id,
            a.queue,
            round(mono - a.state_since, 1),
        )
        for a in sorted(acd._agents.values(), key=lambda a: a.id)
    )
    return AcdSnapshot(acd.clock.now(), tuple(views), agents)
