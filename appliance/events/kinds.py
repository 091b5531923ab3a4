"""Every event kind on the bus, with the payload it carries.

The one list of what can happen in the box (Mopidy's ``core/_listener.py``
does the same for its player). ``EventKind`` names each kind, so a typo in
an emitter or in a consumer's ``event.kind == "..."`` is a mypy error;
``PAYLOADS`` gives each kind its payload, a ``TypedDict`` whose keys are
the wire format: the control socket streams ``{"event": kind, "data":
payload}`` to the web UI, the wallboard and the station console.

Privacy (see :class:`~appliance.events.Event`): no payload holds a name or
a date of birth; phone numbers travel only in fields named ``caller`` or
``number``, which consumers mask when they log.

A new event: add its kind to ``EventKind``, its payload here and to
``PAYLOADS``, and a method to its feature's notifier in
:mod:`appliance.events.notifiers`; ``tests/unit/events`` checks the three
agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

EventKind = Literal[
    # Calls through the switchboard (controller, outbound, GSM line).
    "call.started",
    "call.ended",
    "call.busy",
    # The SIP trunk's health (trunk monitor).
    "trunk.up",
    "trunk.down",
    # The waiting line as the LED panel and wallboard see it.
    "queue.changed",
    # Front-desk agents and their stations.
    "agent.state",
    "agent.station",
    "agent.ringing",
    "agent.ring_cancelled",
    "agent.connected",
    # Callback requests.
    "callback.new",
    "callback.result",
    "callback.closed",
    "voicemail.new",
    # The GSM modem: its status and recovery, calls on it, SMS.
    "modem.status",
    "modem.recovery",
    "modem.call.incoming",
    "modem.call.waiting",
    "modem.call.state",
    "modem.sms.status",
    "modem.sms.received",
    # The GSM gateway station (the modem's audio, a second SIP trunk).
    "gsm.gateway",
    # The outbound route chosen by the failover policy.
    "failover.changed",
    # The LED panel and its buttons.
    "panel.leds",
    "panel.night_mode",
    "panel.answer_next",
    # The box as a whole.
    "box.night_mode",
    "store.locked",
    "store.unlocked",
    "reminders.paused",
    "reminders.resumed",
    # A provisioning run from a USB stick.
    "provisioning.started",
    "provisioning.succeeded",
    "provisioning.failed",
    # Waitlist fill: an offer went out; a patient answered one (booked, taken, expired, declined).
    "waitlist.offered",
    "waitlist.answered",
]

#: The families of kinds, for ``EventBus.subscribe(callback, prefix)``.
EventPrefix = Literal[
    "call.",
    "trunk.",
    "queue.",
    "agent.",
    "callback.",
    "voicemail.",
    "modem.",
    "modem.call.",
    "modem.sms.",
    "gsm.",
    "failover.",
    "panel.",
    "box.",
    "store.",
    "reminders.",
    "provisioning.",
    "waitlist.",
]


class NoData(TypedDict):
    """A kind whose name says it all."""


# -- the waitlist (ids only: no names, no numbers) -------------------------------------------
class WaitlistOffered(TypedDict):
    slot_id: int
    offers: int  # how many went out in this round


class WaitlistAnswered(TypedDict):
    slot_id: int
    offer_id: int
    outcome: str  # booked, taken, expired, declined, already
    appointment_id: NotRequired[int]


# -- calls --------------------------------------------------------------------------------
class CallStarted(TypedDict):
    call_id: str
    caller: str  # the far end's number: the caller, or whom an outbound call dials
    route: str  # trunk, gsm, local...
    direction: NotRequired[str]  # only on outbound calls: "outbound"
    purpose: NotRequired[str]  # only on outbound calls: reminder, callback, staff...


class CallEnded(TypedDict):
    call_id: str
    disposition: str


class CallBusy(TypedDict):
    caller: str  # turned away: every line was in use


# -- trunk ---------------------------------------------------------------------------------
class TrunkChanged(TypedDict):
    reason: NotRequired[str]  # what the monitor saw ("registered", "disabled", ...)


# -- queue ---------------------------------------------------------------------------------
class QueueChanged(TypedDict):
    waiting: int  # callers on the line, not virtual (callback) places
    longest_wait_s: float
    calls_in_progress: int


# -- agents --------------------------------------------------------------------------------
class AgentState(TypedDict):
    station: str
    state: str
    reason: str  # why paused; "" otherwise


class AgentStation(TypedDict):
    station: str
    reachable: bool


class AgentRinging(TypedDict):
    station: str
    call_id: str
    caller: str
    queue: str
    patient_id: int | None  # the screen pop's record; never the name


class AgentRingCancelled(TypedDict):
    station: str
    call_id: str


class AgentConnected(TypedDict):
    station: str
    call_id: str
    caller: str


# -- callbacks and voicemail ---------------------------------------------------------------
class CallbackNew(TypedDict):
    call_id: str
    source: str  # abandoned, busy, press-1...


class CallbackResult(TypedDict):
    call_id: str  # the callback request's key
    status: str
    outcome: str


class CallbackClosed(TypedDict):
    callback_id: int
    outcome: str


class VoicemailNew(TypedDict):
    voicemail_id: int
    mailbox: str


# -- modem ---------------------------------------------------------------------------------
class ModemStatusData(TypedDict):
    """What users see of the modem (``ModemStatus.event_data``)."""

    state: str
    registered: bool
    voice: bool
    signal: int  # 0-5 bars
    dbm: int | None
    operator: str
    sim: str


class ModemRecovery(TypedDict):
    step: str
    reason: str
    outcome: str


class ModemCallOffered(TypedDict):
    number: str
    call: int  # the tracker's call counter


class ModemCallState(TypedDict):
    state: str
    direction: str
    number: str
    call: int
    reason: str  # why it ended: missed, no-answer, hangup...; "" while it lasts


class SmsStatus(TypedDict):
    sms_id: int
    status: str


class SmsReceived(TypedDict):
    sms_id: int
    partial: bool  # parts of a long message are still missing


class GsmGateway(TypedDict):
    reachable: bool
    audio: bool
    detail: str


class FailoverChanged(TypedDict):
    route: str  # trunk, gsm or none
    reason: str


# -- panel and the box ---------------------------------------------------------------------
class PanelLeds(TypedDict):
    """Each LED's pattern name."""

    green: str
    amber: str
    red: str
    blue: str


class NightMode(TypedDict):
    on: bool


class AnswerNext(TypedDict):
    station: str


class ProvisioningRun(TypedDict):
    run_id: str
    bundle: NotRequired[str]
    reason: NotRequired[str]


#: Each kind's payload.
PAYLOADS: Mapping[EventKind, type[Mapping[str, Any]]] = {
    "call.started": CallStarted,
    "call.ended": CallEnded,
    "call.busy": CallBusy,
    "trunk.up": TrunkChanged,
    "trunk.down": TrunkChanged,
    "queue.changed": QueueChanged,
    "agent.state": AgentState,
    "agent.station": AgentStation,
    "agent.ringing": AgentRinging,
    "agent.ring_cancelled": AgentRingCancelled,
    "agent.connected": AgentConnected,
    "callback.new": CallbackNew,
    "callback.result": CallbackResult,
    "callback.closed": CallbackClosed,
    "voicemail.new": VoicemailNew,
    "modem.status": ModemStatusData,
    "modem.recovery": ModemRecovery,
    "modem.call.incoming": ModemCallOffered,
    "modem.call.waiting": ModemCallOffered,
    "modem.call.state": ModemCallState,
    "modem.sms.status": SmsStatus,
    "modem.sms.received": SmsReceived,
    "gsm.gateway": GsmGateway,
    "failover.changed": FailoverChanged,
    "panel.leds": PanelLeds,
    "panel.night_mode": NightMode,
    "panel.answer_next": AnswerNext,
    "box.night_mode": NightMode,
    "store.locked": NoData,
    "store.unlocked": NoData,
    "reminders.paused": NoData,
    "reminders.resumed": NoData,
    "provisioning.started": ProvisioningRun,
    "provisioning.succeeded": ProvisioningRun,
    "provisioning.failed": ProvisioningRun,
    "waitlist.offered": WaitlistOffered,
    "waitlist.answered": WaitlistAnswered,
}
