"""The ACD's records and the callback list, written through the store writer.

Queue and agent events, first answers and wrap-up times go to the call log;
abandoned, busy and "call me back" callers go on the callback list, one open
entry per number, and a patient who gets through is not called back.

Any: 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from appliance import acd as A
from appliance.events import SwitchboardNotifiers
from appliance.ivr import IvrAction
from appliance.privacy import mask_phone
from appliance.switchboard import cdr
from appliance.switchboard.state import ActiveCall
from appliance.switchboard.writer import StoreWriter

log = logging.getLogger(__name__)

#: What the ACD reports for the record (the controller hands these over).
Record = (
    A.QueueEvent
    | A.AgentStateChanged
    | A.LeftQueue
    | A.CallerAbandoned
    | A.CallbackRequested
    | A.CallbackResult
    | A.WrapUpDone
)


class RecordsHost(Protocol):
    """What the queue records use of the controller."""

    @property
    def acd(self) -> A.Acd: ...
    @property
    def calls(self) -> dict[str, ActiveCall]: ...
    @property
    def writer(self) -> StoreWriter: ...
    @property
    def capacity_allowed(self) -> int: ...
    @property
    def notify(self) -> SwitchboardNotifiers: ...
    def run(self, actions: Iterable[IvrAction | A.AcdAction], owner: str) -> None: ...
    def new_id(self) -> str: ...
    def now(self) -> datetime: ...
    def front_desk_queue(self) -> str: ...


class QueueRecords:
    def __init__(self, controller: RecordsHost) -> None:
        self.c = controller

    def record(self, a: Record) -> None:
        """Write one of the ACD's records (queue and agent events, callbacks, wrap-up)."""
        if isinstance(a, A.QueueEvent):
            self.c.writer.db(cdr.queue_event(a.call_id, a.at, a.queue, a.event, a.agent, dict(a.data)))
        elif isinstance(a, A.AgentStateChanged):
            self.c.writer.db(cdr.agent_event(a.at, a.agent, a.state, a.reason))
            self.c.notify.agents.state(station=a.agent, state=a.state, reason=a.reason)
        elif isinstance(a, A.LeftQueue):
            call = self.c.calls.get(a.call_id)
            if call is not None:
                call.outcome = a.outcome
            if a.outcome == "answered":
                self.c.writer.db(cdr.first_answer(a.call_id, a.agent, a.at))
                if call is not None and call.direction == "inbound" and call.caller.startswith("+"):
                    # They got through: their open callback is done, and a kept place is given up.
                    self.withdraw_callback(call.caller)
                    self.c.writer.db(cdr.callbacks_answered(call.caller, a.at, a.agent))
        elif isinstance(a, (A.CallerAbandoned, A.CallbackRequested)):
            # Abandoned (hung up while waiting) or asked to be called back: one open entry per number.
            call = self.c.calls.get(a.call_id)
            if isinstance(a, A.CallerAbandoned):
                source, place_at = "abandoned", a.entered_at
            else:
                source, place_at = a.source, a.place_at
                self.withdraw_callback(a.number, keep=a.request_id)  # one request per number: the newest
            self.c.writer.db(
                cdr.callback_open(
                    a.call_id, a.number, call.patient_id if call else None, a.queue, source, a.at, place_at, a.waited_s
                )
            )
            self.c.notify.callbacks.new(call_id=a.call_id, source=source)
        elif isinstance(a, A.WrapUpDone):
            self.c.writer.db(cdr.update(a.call_id, wrap_seconds=a.seconds))
        elif isinstance(a, A.CallbackResult):
            self.c.writer.db(cdr.callback_result(a.request_id, a.status, a.outcome, a.at, a.agent, a.call_id))
            self.c.notify.callbacks.result(call_id=a.request_id, status=a.status, outcome=a.outcome)

    def withdraw_callback(self, number: str, keep: str | None = None) -> None:
        """Stop the ACD from calling ``number`` back (staff handled it, or the patient got through).

        ``keep`` names a request to leave alone. The callbacks row is left to the caller.
        """
        key = self.c.acd.pending_callback(number, exclude=keep)
        if key is not None:
            log.info("callback for %s withdrawn", mask_phone(number))
            self.c.run([a for a in self.c.acd.cancel_callback(key) if not isinstance(a, A.CallbackResult)], "acd")

    def turned_away(self, number: str, callee: str, route: str, code: int, why: str = "") -> None:
        """The box could not take the call (every line in use): a missed call, never a lost one.

        The call is logged, and a caller with a number goes on the callback list.
        """
        why = why or f"all {self.c.capacity_allowed} lines busy"
        log.warning("%s: caller %s gets busy", why, mask_phone(number))
        cid, now = self.c.new_id(), self.c.now()
        self.c.writer.db(cdr.start(cid, "inbound", now, number, callee, "patient", route))
        self.c.writer.db(cdr.update(cid, ended_at=now, disposition="busy", sip_code=code, hangup_by="box"))
        if number.startswith("+"):
            self.c.writer.db(cdr.callback_open(cid, number, None, self.c.front_desk_queue(), "busy", now, now, 0.0))
            self.c.notify.callbacks.new(call_id=cid, source="busy")
        self.c.notify.calls.busy(caller=number)
