"""Control-socket commands, executed against the running switchboard.

Runs on the control server's connection threads. Anything touching PJSUA2
is handed to the switchboard thread (``loop.call``) and waited for with a
timeout; store reads and writes that need no call state happen here,
through the tables' owners in :mod:`appliance.store`.
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.control.protocol import Request
from appliance.errors import ClinicBoxError, SwitchboardError, ValidationError
from appliance.store import callbacks, calls
from appliance.store.audit import AuditLog

log = logging.getLogger(__name__)

CALLBACK_OUTCOMES = callbacks.STAFF_OUTCOMES


class ControlHandler:
    def __init__(self, sb: Any) -> None:
        self.sb = sb

    def snapshot(self) -> dict[str, Any]:
        return self.sb.snapshot

    def handle(self, request: Request) -> Any:
        cmd, args = request.cmd, request.args
        sb = self.sb
        c = sb.controller
        loop = sb.loop
        station = str(args.get("station", ""))
        if cmd.startswith(("agent.", "call.")) and cmd != "call.note" and station not in c.cfg.stations:
            raise SwitchboardError(f"unknown station {station!r}; known: {', '.join(sorted(c.cfg.stations))}")
        if cmd == "agent.login":
            return loop.call(lambda: c.run(c.acd.login(station), "acd") or {"state": "available"})
        if cmd == "agent.logout":
            return loop.call(lambda: c.run(c.acd.logout(station), "acd") or {"state": "logged-out"})
        if cmd == "agent.pause":
            reason = str(args.get("reason", "") or "break")[:40]
            return loop.call(lambda: c.run(c.acd.pause(station, reason), "acd") or {"state": "paused"})
        if cmd == "agent.unpause":
            return loop.call(lambda: c.run(c.acd.unpause(station), "acd") or {"state": "available"})
        if cmd == "call.answer":
            return loop.call(c.console.answer, station)
        if cmd == "call.hold":
            return loop.call(c.console.hold, station, True)
        if cmd == "call.unhold":
            return loop.call(c.console.hold, station, False)
        if cmd == "call.hangup":
            return loop.call(c.console.hangup, station)
        if cmd == "call.transfer":
            return loop.call(
                c.console.transfer, station, args.get("to_station"), args.get("to_queue"), args.get("to_number")
            )
        if cmd == "call.wrapup_done":
            return loop.call(c.console.wrapup_done, station, str(args.get("note", "")))
        if cmd == "call.note":
            return self._note(str(args["call_id"]), str(args["note"]))
        if cmd == "call.originate":
            number = self._number(str(args["number"]))
            return loop.call(c.outbound.console_callback, 0, number, station, "console", timeout=10)
        if cmd == "callback.originate":
            return self._callback(int(args["callback_id"]), str(args["station"]))
        if cmd == "callback.close":
            return self._close_callback(
                int(args["callback_id"]), str(args["outcome"]), str(args.get("actor", "console"))
            )
        if cmd == "night_mode.set":
            on = bool(args["on"])
            return loop.call(sb.set_night_mode, on)
        if cmd in ("reminders.pause", "reminders.resume"):
            return sb.set_reminders_paused(cmd == "reminders.pause")
        if cmd == "config.reload":
            return sb.reload_config()
        if cmd == "store.unlock":
            return sb.unlock_store(str(args["passphrase"]))
        raise SwitchboardError(f"{cmd} is not supported by this box")

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
        return self.sb.loop.call(
            self.sb.controller.outbound.console_callback, callback_id, number, station, "console", timeout=10
        )

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
