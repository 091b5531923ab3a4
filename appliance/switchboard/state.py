"""What the controller knows about each call in progress.

:class:`ActiveCall` is the controller's record of one call. Each feature
that follows a call keeps its own typed record on it (``outbound``,
``console``, ``transfer``, ``voicemail``, ``capture``, ``gsm``, ``script``),
present only while that feature has something to keep, so mypy checks every
access that used to be a string key in a shared dict.

Any: 1, the pjsua2 AudioMedia a capture listens to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from appliance.ivr import IvrSession, Play
from appliance.switchboard.legs import Leg
from appliance.switchboard.media import FrameCapture, MusicPlayer, PromptPlayer
from appliance.switchboard.timers import TimerHandle

if TYPE_CHECKING:
    from appliance.switchboard.voicemail import _Sealed


@dataclass(eq=False)
class OutboundState:
    """A call the box placed (:meth:`Outbound.dial`): what happens when the patient answers or not."""

    on_answer: Callable[[ActiveCall], None] | None = None
    on_fail: Callable[[ActiveCall, str], None] | None = None
    answer_timer: TimerHandle | None = None
    callback_request: str | None = None  # the ACD's virtual-hold request this call answers


@dataclass(eq=False)
class ConsoleCallback:
    """A callback an agent placed from the console: their station and the patient are bridged."""

    station: str
    callback_id: int
    actor: str


@dataclass(eq=False)
class TransferState:
    """A transfer out (the on-call doctor): the second leg and its ring limit."""

    leg: Leg
    timer: TimerHandle | None = None


@dataclass(eq=False)
class VoicemailState:
    """A caller in voicemail: the mailbox and where the greeting, recording and goodbye stand."""

    mailbox: str
    refused: bool = False  # the store is locked: the caller hears an apology, then the box hangs up
    goodbye: bool = False  # the message is recorded: hang up after the goodbye
    timer: TimerHandle | None = None  # the recording's time limit


@dataclass(eq=False)
class CaptureState:
    """Audio being captured (voicemail or call recording) and where it goes."""

    port: FrameCapture
    sources: list[Any]  # the pjsua2 AudioMedia of the legs heard
    sealed: _Sealed
    started: datetime
    agent: str | None = None  # the recording's agent


@dataclass(eq=False)
class GsmState:
    """A call over the GSM gateway: which way, and whether the modem was told to dial."""

    direction: Literal["in", "out"]
    dialed: bool = False


@dataclass(eq=False)
class ScriptState:
    """A reminder call script running on an answered call."""

    started: float  # the loop's tick when the patient answered
    pending_start: bool = False  # answered before its media was up
    timers: set[str] = field(default_factory=set)
    outcome_at_queue: str | None = None


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
    player: PromptPlayer | None = None
    play_id: int | None = None
    play_owner: str | None = None  # ivr, acd, voicemail, script
    music: MusicPlayer | None = None
    music_file: str | None = None
    hold_since: float | None = None
    hold_total: float = 0.0
    answered: bool = False
    ended: bool = False
    # -- the controller's own bookkeeping ------------------------------------------------
    arrived: float | None = None  # monotonic time the INVITE came in (answer-delay metric)
    lookup_deadline: TimerHandle | None = None  # the greeting's wait for the caller's language
    no_sip_answer: bool = False  # GSM in: our leg is the outgoing one, nothing to answer
    start_ivr: bool = False  # answered before the media was up: start the IVR with it
    pending_play: tuple[Play, str] | None = None  # a prompt asked for before the media was up
    max_duration: TimerHandle | None = None
    ended_by: str | None = None  # who ended the call, when the box or an agent did
    fail_outcome: str | None = None  # why an outgoing call failed before it was answered
    transferred: bool = False  # bridged to a transfer target
    media_exhausted: bool = False
    after_play: tuple[int, Callable[[], None]] | None = None  # an uninterruptible prompt and what follows it
    # -- per-feature records (see the classes above) ----------------------------------------
    outbound: OutboundState | None = None
    console: ConsoleCallback | None = None
    transfer: TransferState | None = None
    voicemail: VoicemailState | None = None
    capture: CaptureState | None = None
    gsm: GsmState | None = None
    script: ScriptState | None = None

    def cancel_timers(self) -> None:
        """The caller is gone: stop the call's own timers (duration, lookup, ring, transfer)."""
        for handle in (
            self.max_duration,
            self.lookup_deadline,
            self.outbound.answer_timer if self.outbound else None,
            self.transfer.timer if self.transfer else None,
        ):
            if handle is not None:
                handle.cancel()
        self.max_duration = self.lookup_deadline = None
        if self.outbound is not None:
            self.outbound.answer_timer = None
        if self.transfer is not None:
            self.transfer.timer = None
