"""What the controller knows about each call in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.ivr import IvrSession
from appliance.switchboard.legs import Leg


@dataclass(eq=False)
class ActiveCall:
    """A call the box is handling: the caller's leg plus what is attached to it.

    ``state``: ringing, ivr, queued, talking, held, voicemail, dialing, ended.
    """

    id: str
    leg: Leg
    direction: str  # inbound, outbound
    purpose: str  # patient, callback, reminder, transfer, internal
    route: str  # trunk, gsm, local
    caller: str  # E.164 when it could be read, else the raw caller ID
    callee: str
    started_at: datetime
    state: str = "ringing"
    language: str | None = None
    patient_id: int | None = None
    session: IvrSession | None = None
    was_open: bool = True
    queue: str | None = None
    agent: str | None = None
    agent_leg: Leg | None = None
    outcome: str | None = None  # the disposition, once known
    voicemail_left: bool = False
    player: Any = None
    play_id: int | None = None
    play_owner: str | None = None  # ivr, acd, voicemail, script
    music: Any = None
    music_file: str | None = None
    capture: Any = None
    hold_since: float | None = None
    hold_total: float = 0.0
    answered: bool = False
    ended: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
