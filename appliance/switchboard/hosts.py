"""What every helper that places call legs uses of the controller.

The agent desk (:mod:`.agents`), outgoing calls (:mod:`.outbound`) and the
GSM line (:mod:`.gsm`) each declare a narrow Protocol of the controller
they may use; the part they share (the call table, the PJSUA2 loop, the CDR
writer, tracking and ending legs, and the events their legs report) is
declared once here. Any: 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from appliance.config import Config
from appliance.events import SwitchboardNotifiers
from appliance.switchboard.legs import Leg, LegEvents, SbAccount
from appliance.switchboard.loop import PjLoop
from appliance.switchboard.state import ActiveCall
from appliance.switchboard.writer import StoreWriter


class LegHost(LegEvents, Protocol):
    @property
    def cfg(self) -> Config: ...
    @property
    def calls(self) -> dict[str, ActiveCall]: ...
    @property
    def legs(self) -> set[Leg]: ...
    @property
    def local(self) -> SbAccount | None: ...
    @property
    def loop(self) -> PjLoop: ...
    @property
    def writer(self) -> StoreWriter: ...
    @property
    def notify(self) -> SwitchboardNotifiers: ...
    def now(self) -> datetime: ...
    def track(self, leg: Leg) -> Leg: ...
    def end_call(self, call: ActiveCall, by: str, code: int = 0) -> None: ...
