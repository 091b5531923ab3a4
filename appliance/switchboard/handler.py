"""The switchboard's control-socket commands: agents, calls, callbacks, night mode.

:meth:`ControlHandler.register` puts them in the core's command table,
with the switchboard's snapshot for ``status`` and subscribers. They run on
the control server's connection threads. Anything touching PJSUA2 is
handed to the switchboard thread (``loop.call``) and waited for with a
timeout; store reads and writes that need no call state happen here,
through the tables' owners in :mod:`appliance.store`.

Any: 6, all JSON requests and replies of the control socket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.control import CommandTable
from appliance.errors import ClinicBoxError, SwitchboardError, ValidationError
from appliance.store import callbacks, calls
from appliance.store.audit import AuditLog

if TYPE_CHECKING:
    from appliance.acd import AcdAction
    from appliance.switchboard.controller import Controller
    from appliance.switchboard.service import SwitchboardService

log = logging.getLogger(__name__)

CALLBACK_OUTCOMES = callbacks.STAFF_OUTCOMES


def _agent_state(c: Controller, change: Callable[[], list[AcdAction]], state: str) -> dict[str, str]:
    """Apply an agent's state change on the switchboard thread; the reply names the new state."""
    c.run(change(), "acd")
    return {"state": state}


class ControlHandler:
    def __init__(self, sb: SwitchboardService) -> None:
        self.sb = sb

    def snapshot(self) -> dict[str, Any]:
        return self.sb.snapshot

    def register(self, table: CommandTable) -> None:
        """The switchboard's commands and snapshot, in the core's table."""
        table.register_snapshot(self.snapshot)
        c = self.sb.controller
        at_station = {
            "agent.login": lambda s, a: _agent_state(c, lambda: c.acd.login(s), "available"),
            "agent.logout": lambda s, a: _agent_state(c, lambda: c.acd.logout(s), "logged-out"),
            "agent.pause": lambda s, a: _agent_state(
                c, lambda: c.acd.pause(s, str(a.get("reason", "") or "break")[:40]), "paused"
            ),
            "agent.unpause": lambda s, a: _agent_state(c, lambda: c.acd.unpause(s), "available"),
            "call.answer": lambda s, a: c.console.answer(s),
            "call.hold": lambda s, a: c.console.hold(s, True),
            "call.unhold": lambda s, a: c.console.hold(s, False),
            "call.hangup": lambda s, a: c.console.hangup(s),
            "call.transfer": lambda s, a: c.console.transfer(
                s, a.get("to_station"), a.get("to_queue"), a.get("to_number")
            ),
            "call.wrapup_done": lambda s, a: c.console.wrapup_done(s, str(a.get("note", ""))),
        }
        for name, command in at_station.items():
            table.register(name, self._on_loop(command))
        table.register("call.originate", self._originate)
        table.register("call.note", lambda args: self._note(str(args["call_id"]), str(args["note"])))
        table.register(
            "callback.originate", lambda args: self._callback(int(args["callback_id"]), str(args["station"]))
        )
        table.register(
            "callback.close",
            lambda args: self._close_callback(
                int(args["callback_id"]), str(args["outcome"]), str(args.get("actor", "console"))
            ),
        )
        table.register("night_mode.set", lambda args: self.sb.loop.call(self.sb.set_night_mode, bool(args["on"])))

    def _on_loop(self, command: Any) -> Any:
        """A console command for one station, run on the switchboard thread."""

        def run(args: dict[str, Any]) -> Any:
            station = self._station(args)
            return self.sb.loop.call(lambda: command(station, args))

        return run

    def _station(self, args: dict[str, Any]) -> str:
        station = str(args.get("station", ""))
        known = self.sb.controller.cfg.stations
        if station not in known:
            raise SwitchboardError(f"unknown station {station!r}; known: {', '.join(sorted(known))}")
        return station

    def _originate(self, args: dict[str, Any]) -> Any:
        station = self._station(args)
        number = self._number(str(args["number"]))
        c = self.sb.controller
        return self.sb.loop.call(c.outbound.console_callback, 0, number, station, "console", timeout=10)

    # -- helpers ----------------------------------------------------------------------
    def _number(self, raw: str) -> str:
        from appliance.store.phones import normalize

        return normalize(raw, self.sb.cfg.clinic.country)

    def _note(self, call_id: str, note: str) -> dict[str, Any]:
        calls.set_note(self.sb.require_store(), call_id, note)
        return {"saved": True}

    def _callback(self, callback_id: int, station: str) -> dict[str, Any]:
        number, status = callbacks.number_and_status(self.sb.require_store(), callback_id)
        if status not in ("open",):
            raise ValidationError(f"callback {callback_id} is {status}, not open")
        reply: dict[str, Any] = self.sb.loop.call(
            self.sb.controller.outbound.console_callback, callback_id, number, station, "console", timeout=10
        )
        return reply

    def _close_callback(self, callback_id: int, outcome: str, actor: str) -> dict[str, Any]:
        status = callbacks.staff_status(outcome)  # refuses an unknown outcome first
        store = self.sb.require_store()
        number, _ = callbacks.number_and_status(store, callback_id)
        if status != "open":  # handled by staff: a kept place in the queue is given up
            self.sb.loop.call(self.sb.controller.records.withdraw_callback, number)
        callbacks.close_by_staff(store, AuditLog(store), callback_id, outcome, actor)
        self.sb.notify.callbacks.closed(callback_id=callback_id, outcome=outcome)
        return {"status": status}


__all__ = ["CALLBACK_OUTCOMES", "ClinicBoxError", "ControlHandler"]
