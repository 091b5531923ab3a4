"""The live picture of the box for the control socket (wallboard, console,
doctor, LEDs). Built on the PJSUA2 thread from plain values, then handed
over as an immutable dict; readers on other threads never touch PJSUA2.

Any: 4, all JSON values of the snapshot.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from appliance import __version__
from appliance.events.kinds import QueueChanged
from appliance.store.connection import sqlite_memory_used
from appliance.switchboard.media import PromptPlayer
from appliance.switchboard.owned import LoopOwned

if TYPE_CHECKING:
    from appliance.clock import Clock
    from appliance.switchboard.service import SwitchboardService


def _active_ports(sb: SwitchboardService) -> int | None:
    """Ports on the conference bridge now (this runs on the PJSUA2 thread)."""
    ep = getattr(sb.loop, "ep", None)
    try:
        return int(ep.mediaActivePorts()) if ep is not None else None
    except Exception:
        return None


def build(sb: SwitchboardService) -> dict[str, Any]:
    c = sb.controller
    acd = c.acd.snapshot()
    stations = c.agents.view()
    queues = []
    for q in acd.queues:
        queues.append(
            {
                "id": q.id,
                "name": q.name,
                "waiting": [
                    {
                        "call_id": w.call_id,
                        "caller": w.number,
                        "wait_s": round(w.waited_s, 1),
                        "position": w.position,
                        "priority": w.priority,
                        "virtual": w.state in ("callback", "dialing"),
                        "state": w.state,
                    }
                    for w in q.callers
                ],
                "callbacks": q.callbacks,
                "longest_wait_s": round(q.longest_wait_s, 1),
                "estimated_wait_s": q.estimated_wait_s,
                "agents_available": q.agents_available,
                "agents_staffed": q.agents_staffed,
            }
        )
    agents = []
    now = time.time()
    for a in acd.agents:
        st = stations.get(a.id, {})
        call = c.calls.get(a.call_id or "") if a.call_id else None
        agents.append(
            {
                "station": a.id,
                "name": a.name,
                "state": a.state,
                "reason": a.reason,
                "since": now - a.in_state_s,
                "call_id": a.call_id,
                "caller": call.caller if call else None,
                "queue": a.queue,
                "on_hold": bool(call and call.state == "held"),
                "reachable": st.get("reachable", False),
                "audio": st.get("audio", False),
                "mode": st.get("mode", ""),
            }
        )
    calls = [
        {
            "call_id": call.id,
            "caller": call.caller,
            "state": call.state,
            "queue": call.queue,
            "agent": call.agent,
            "direction": call.direction,
            "purpose": call.purpose,
            "route": call.route,
            "started_at": call.started_at.isoformat(),
        }
        for call in c.calls.values()
        if not call.ended
    ]
    cap = sb.capacity
    return {
        "box": {
            "version": __version__,
            "started_at": sb.started_at,
            "store_locked": sb.store_locked(),
            "night_mode": c.ivr.night_mode,
            "reminders_paused": sb.reminders_paused,
            "clock": _clock(sb.clock),
            "faults": sb.faults.as_dict(),
        },
        "capacity": {
            "requested": cap.requested,
            "allowed": cap.allowed,
            "in_use": c.legs_in_use(),
            "build": {
                "tls": cap.tls,
                "srtp": cap.srtp,
                "sound_devices": cap.sound_devices,
                "pjsip": cap.pjsip_version,
                "engine": cap.engine,
                "media_ports": cap.players_max,
                "players": cap.players_allowed,
            },
            "budget": dict(cap.budget),
            "limited_by": cap.limited_by,
            "media": {
                "bridge_ports": _active_ports(sb),
                "pjsua2_objects": LoopOwned.alive,
                "python_blocks": sys.getallocatedblocks(),  # Python's own heap, to tell it from C caches
                "sqlite_bytes": sqlite_memory_used(),  # SQLCipher's page caches, bounded by store.*cache_mb
                "prompt_players": PromptPlayer.live,
                "music_players": len(c.music),
                "errors": c.metrics.media_errors,
            },
        },
        "trunk": sb.trunk.view(),
        "modem": dict(sb.modem_view),
        "failover": {"route": sb.route()},
        "metrics": c.metrics.as_dict(),
        "queues": queues,
        "agents": agents,
        "calls": calls,
    }


def panel_summary(snapshot: dict[str, Any]) -> QueueChanged:
    """What the LED panel needs (the ``queue.changed`` event)."""
    waiting = [w for q in snapshot["queues"] for w in q["waiting"] if not w["virtual"]]
    return {
        "waiting": len(waiting),
        "longest_wait_s": max((w["wait_s"] for w in waiting), default=0.0),
        "calls_in_progress": len(snapshot["calls"]),
    }


def _clock(clock: Clock) -> dict[str, Any]:
    """The core's view of its clock (it alone hears the mobile network's time)."""
    state = clock.sync_state()
    return {"trusted": state.trusted, "source": state.source, "detail": state.detail}
