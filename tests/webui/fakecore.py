"""A test double for the ClinicBox core, as the web UI sees it.

The web UI talks to the core only through the control socket. Until the
real switchboard runs in these tests, this double serves a *real*
:class:`appliance.control.ControlServer` on the clinic's socket path with
a small scripted handler: it keeps a snapshot in exactly the documented
schema (box, capacity, trunk, modem, failover, queues, agents, calls),
answers the console's commands with plausible state changes, records
every command it received, and pushes events through a real
:class:`appliance.events.EventBus`. Tests change its state and call
:meth:`FakeCore.changed` (or one of the helpers) to push a new snapshot.

It is not a telephony simulator: no calls, no timers, no queue logic.
End-to-end tests with the real switchboard replace it.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.control import ControlServer, Request
from appliance.errors import ClinicBoxError
from appliance.events import EventBus


class Refused(ClinicBoxError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def base_snapshot(stations: dict[str, str], queues: dict[str, str]) -> dict[str, Any]:
    return {
        "box": {
            "version": "test",
            "started_at": now_iso(),
            "store_locked": False,
            "night_mode": False,
            "reminders_paused": False,
        },
        "capacity": {
            "requested": 32,
            "allowed": 8,
            "in_use": 0,
            "build": {"tls": True, "srtp": True, "sound_devices": 0},
        },
        "trunk": {"state": "up", "detail": "registered"},
        "modem": {"state": "ready", "registered": True, "rssi": 21, "bars": 4, "operator": "Test GSM"},
        "failover": {"route": "trunk"},
        "queues": [{"id": qid, "name": name, "waiting": [], "agents_available": 0} for qid, name in queues.items()],
        "agents": [
            {
                "station": sid,
                "name": name,
                "state": "logged-out",
                "reason": "",
                "since": now_iso(),
                "call_id": "",
                "caller": "",
                "queue": "",
                "on_hold": False,
                "reachable": True,
            }
            for sid, name in stations.items()
        ],
        "calls": [],
    }


class FakeCore:
    """Serve a scripted core on ``socket_path`` (see the module docstring)."""

    def __init__(
        self,
        socket_path: Path,
        stations: dict[str, str] | None = None,
        queues: dict[str, str] | None = None,
    ) -> None:
        self.bus = EventBus()
        self._lock = threading.Lock()
        self.state = base_snapshot(
            stations or {"desk1": "Front desk 1", "desk2": "Front desk 2"},
            queues or {"front-desk": "Front desk", "appointments": "Appointments"},
        )
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.refusals: dict[str, tuple[str, str]] = {}
        self.answers: dict[str, Any] = {}  # command -> a scripted answer (e.g. config.reload's Applied)
        self.server = ControlServer(Path(socket_path), self, self.bus, min_interval=0.05)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> FakeCore:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    # -- the Handler protocol -----------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.state)

    def handle(self, request: Request) -> Any:
        with self._lock:
            self.commands.append((request.cmd, dict(request.args)))
        if request.cmd in self.refusals:
            code, message = self.refusals[request.cmd]
            raise Refused(code, message)
        if request.cmd in self.answers:
            return copy.deepcopy(self.answers[request.cmd])
        station = request.args.get("station")
        agent = self.agent(station) if station else None
        if request.cmd == "agent.login":
            self.set_agent(station, state="available")
        elif request.cmd == "agent.logout":
            self.set_agent(station, state="logged-out", call_id="", caller="", queue="")
        elif request.cmd == "agent.pause":
            self.set_agent(station, state="paused", reason=request.args.get("reason", ""))
        elif request.cmd == "agent.unpause":
            self.set_agent(station, state="available", reason="")
        elif request.cmd == "call.answer":
            if agent is None or agent["state"] != "ringing":
                raise Refused("not-ringing", f"station {station} is not ringing")
            self.set_agent(station, state="on-call")
        elif request.cmd in ("call.hold", "call.unhold"):
            self.set_agent(station, on_hold=request.cmd == "call.hold")
        elif request.cmd == "call.hangup":
            call_id = agent["call_id"] if agent else ""
            self.set_agent(station, state="wrap-up", on_hold=False)
            self.bus.emit("call.ended", call_id=call_id, disposition="answered")
        elif request.cmd == "call.wrapup_done":
            self.set_agent(station, state="available", call_id="", caller="", queue="")
        elif request.cmd == "night_mode.set":
            with self._lock:
                self.state["box"]["night_mode"] = bool(request.args["on"])
            self.changed()
        elif request.cmd in ("reminders.pause", "reminders.resume"):
            with self._lock:
                self.state["box"]["reminders_paused"] = request.cmd == "reminders.pause"
            self.changed()
        return {"done": request.cmd}

    # -- scripting helpers -------------------------------------------------------------
    def agent(self, station: str) -> dict[str, Any] | None:
        with self._lock:
            for agent in self.state["agents"]:
                if agent["station"] == station:
                    return dict(agent)
        return None

    def set_agent(self, station: str | None, **fields: Any) -> None:
        with self._lock:
            for agent in self.state["agents"]:
                if agent["station"] == station:
                    if "state" in fields and fields["state"] != agent["state"]:
                        fields.setdefault("since", now_iso())
                    agent.update(fields)
                    state, reason = agent["state"], agent["reason"]
                    break
            else:
                raise Refused("unknown-station", f"no station {station}")
        self.bus.emit("agent.state", station=station, state=state, reason=reason)

    def add_waiting(self, queue: str, call_id: str, caller: str, wait_s: float = 0.0, virtual: bool = False) -> None:
        with self._lock:
            for q in self.state["queues"]:
                if q["id"] == queue:
                    q["waiting"].append(
                        {
                            "call_id": call_id,
                            "caller": caller,
                            "wait_s": wait_s,
                            "position": len(q["waiting"]) + 1,
                            "priority": 0,
                            "virtual": virtual,
                        }
                    )
            self.state["calls"].append(
                {
                    "call_id": call_id,
                    "caller": caller,
                    "state": "queued",
                    "queue": queue,
                    "agent": "",
                    "started_at": now_iso(),
                }
            )
        self.bus.emit("queue.changed", queue=queue)

    def remove_waiting(self, call_id: str) -> None:
        with self._lock:
            for q in self.state["queues"]:
                q["waiting"] = [w for w in q["waiting"] if w["call_id"] != call_id]
                for i, w in enumerate(q["waiting"], 1):
                    w["position"] = i
        self.bus.emit("queue.changed")

    def ring(self, station: str, call_id: str, caller: str, queue: str = "front-desk") -> None:
        """The station rings with a caller: state, event, snapshot."""
        self.remove_waiting(call_id)
        self.set_agent(station, state="ringing", call_id=call_id, caller=caller, queue=queue)
        self.bus.emit("agent.ringing", station=station, call_id=call_id, caller=caller, queue=queue)

    def set(self, section: str, **fields: Any) -> None:
        with self._lock:
            self.state[section].update(fields)
        self.changed()

    def changed(self) -> None:
        """Push a new snapshot to subscribers now."""
        self.bus.emit("queue.changed")

    def received(self, cmd: str) -> list[dict[str, Any]]:
        with self._lock:
            return [args for name, args in self.commands if name == cmd]
