"""The agent console's commands (answer, hold, hang up, transfer, wrap-up), on the
PJSUA2 thread: the control socket calls them for the web UI and the panel's buttons.

The console acts through the agent desk and the same controller surface the desk
uses (:class:`~appliance.switchboard.agents.DeskHost`).

Any: 5, all JSON replies to the control socket.
"""

from __future__ import annotations

import time
from typing import Any

from appliance.errors import SwitchboardError
from appliance.privacy import mask_phone
from appliance.switchboard import cdr
from appliance.switchboard.agents import AgentDesk, DeskHost, NotRinging


class AgentConsole:
    def __init__(self, desk: AgentDesk) -> None:
        self.desk = desk
        self.c: DeskHost = desk.c

    def answer(self, station: str) -> dict[str, Any]:
        st = self.desk.get(station)
        if st.ringing is None:
            raise NotRinging(f"nothing is ringing at {st.name}")
        if st.kind == "program" and st.answer_mode == "manual" and st.leg is None:
            self.desk.command(st, "stop-ring", st.ringing)
            self.desk.invite(st, st.ringing, "accepted")
            return {"answering": st.ringing}
        raise SwitchboardError(f"{st.name} answers by itself (auto-answer or a desk phone)")

    def hold(self, station: str, on: bool) -> dict[str, Any]:
        st, call = self.desk.talking(station)
        if on and call.state == "talking":
            self.desk.unbridge(st, call)
            call.state, call.hold_since = "held", time.monotonic()
            call.music_file = "builtin"
            self.c.sounds.music_on(call)
            self.c.writer.db(cdr.queue_event(call.id, self.c.now(), call.queue or "", "hold", st.id, {}))
        elif not on and call.state == "held":
            self.c.sounds.music_off(call)
            call.hold_total += time.monotonic() - (call.hold_since or time.monotonic())
            call.hold_since = None
            call.state = "talking"
            self.desk.bridge(st, call)
            self.c.writer.db(cdr.queue_event(call.id, self.c.now(), call.queue or "", "unhold", st.id, {}))
        self.c.dirty = True
        return {"state": call.state}

    def hangup(self, station: str) -> dict[str, Any]:
        st = self.desk.get(station)
        if st.call is not None and st.call in self.c.calls:
            self.c.end_call(self.c.calls[st.call], "agent")
            return {"ended": st.call}
        if st.ringing is not None:
            call_id = st.ringing
            self.c.run(self.c.acd.agent_declined(call_id, st.id), "acd")
            return {"declined": call_id}
        raise SwitchboardError(f"{st.name} has no call to hang up")

    def transfer(
        self,
        station: str,
        to_station: str | None,
        to_queue: str | None,
        to_number: str | None,
        *,
        keep_leg: bool = False,
    ) -> dict[str, Any]:
        """``keep_leg``: the agent's phone leg is not ended (a phone's REFER, see :mod:`.phonexfer`)."""
        st, call = self.desk.talking(station)
        end_leg = not keep_leg
        if to_queue:
            if to_queue not in self.c.cfg.queues:
                raise SwitchboardError(f"unknown queue {to_queue!r}")
            place = self.c.acd.place_of(call.id)  # back where they were in line, not at the back
            self.desk.drop_agent(st, call, end_leg=end_leg)
            self.c.run(self.c.acd.call_ended(call.id), "acd")
            call.state, call.queue, call.outcome = "queued", to_queue, None
            self.c.writer.db(cdr.queue_event(call.id, self.c.now(), to_queue, "transfer", st.id, {"from": station}))
            self.c.run(
                self.c.acd.enter(
                    call.id, to_queue, priority=5, number=call.caller, language=call.language or "en", place=place
                ),
                "acd",
            )
            return {"transferred": call.id, "to_queue": to_queue}
        if to_station:
            target = self.desk.get(to_station)
            if target is st or target.leg is not None or target.call is not None or not target.reachable:
                raise SwitchboardError(f"{target.name} is busy or unavailable")
            # The ACD must know: the target is on this call (not rung for another caller),
            # and this agent's part ends in wrap-up. Raises before anything changes.
            actions = self.c.acd.connect_direct(call.id, target.id, self.desk.queue_of(call))
            self.desk.drop_agent(st, call, end_leg=end_leg)
            target.call, target.direct = call.id, True
            call.state = "queued"
            call.music_file = "builtin"
            self.c.sounds.music_on(call)
            self.c.run(actions, "acd")
            self.desk.invite(target, call.id, "accepted")
            self.c.writer.db(
                cdr.queue_event(call.id, self.c.now(), call.queue or "", "transfer", st.id, {"to": to_station})
            )
            return {"transferred": call.id, "to_station": to_station}
        if to_number:
            self.desk.drop_agent(st, call, end_leg=end_leg)
            self.c.run(self.c.acd.call_ended(call.id), "acd")
            self.c.outbound.transfer(call, to_number)
            return {"transferred": call.id, "to_number": mask_phone(to_number)}
        raise SwitchboardError("say where to transfer: to_station, to_queue or to_number")

    def wrapup_done(self, station: str, note: str) -> dict[str, Any]:
        st = self.desk.get(station)
        if note and st.last_call:
            self.c.writer.db(cdr.update(st.last_call, note=note[:2000]))
        self.c.run(self.c.acd.agent_ready(st.id), "acd")
        return {"ready": st.id}
