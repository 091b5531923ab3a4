"""One notifier per feature: the only code that names an event kind when emitting.

A feature announces what happened by calling a typed method of its
notifier (wazo-calld's ``notifier.py``), never by spelling a kind: mypy
checks the payload's keys and types against :mod:`appliance.events.kinds`,
and ``tests/unit/events`` fails on an ``emit("...")`` or ``Event("...")``
anywhere else.

A notifier wraps an :class:`~appliance.events.bus.Emit`: ``EventBus.emit``
(most services), the switchboard's publisher queue (its PJSUA2 thread
never runs subscribers), or a :class:`~appliance.events.bus.Collector` for
code that returns events instead of publishing them (the modem's call
tracker, the provisioning watcher).

Example:
    >>> from appliance.events import EventBus, CallNotifier
    >>> bus = EventBus()
    >>> seen = []
    >>> _ = bus.subscribe(seen.append, "call.")
    >>> CallNotifier(bus.emit).ended(call_id="c1", disposition="answered")
    >>> seen[0].kind, seen[0].data
    ('call.ended', {'call_id': 'c1', 'disposition': 'answered'})
"""

from __future__ import annotations

from typing import Unpack

from appliance.events.bus import Emit
from appliance.events.kinds import (
    AgentConnected,
    AgentRingCancelled,
    AgentRinging,
    AgentState,
    AgentStation,
    AnswerNext,
    CallbackClosed,
    CallbackNew,
    CallbackResult,
    CallBusy,
    CallEnded,
    CallStarted,
    FailoverChanged,
    GsmGateway,
    ModemCallOffered,
    ModemCallState,
    ModemRecovery,
    ModemStatusData,
    NightMode,
    PanelLeds,
    ProvisioningRun,
    QueueChanged,
    SmsReceived,
    SmsStatus,
    TrunkChanged,
    VoicemailNew,
    WaitlistAnswered,
    WaitlistOffered,
)


class Notifier:
    """A feature's voice on the bus; subclasses add one method per event."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit


class CallNotifier(Notifier):
    def started(self, **data: Unpack[CallStarted]) -> None:
        self._emit("call.started", **data)

    def ended(self, **data: Unpack[CallEnded]) -> None:
        self._emit("call.ended", **data)

    def busy(self, **data: Unpack[CallBusy]) -> None:
        self._emit("call.busy", **data)


class TrunkNotifier(Notifier):
    def up(self, **data: Unpack[TrunkChanged]) -> None:
        self._emit("trunk.up", **data)

    def down(self, **data: Unpack[TrunkChanged]) -> None:
        self._emit("trunk.down", **data)


class QueueNotifier(Notifier):
    def changed(self, **data: Unpack[QueueChanged]) -> None:
        self._emit("queue.changed", **data)


class AgentNotifier(Notifier):
    def state(self, **data: Unpack[AgentState]) -> None:
        self._emit("agent.state", **data)

    def station(self, **data: Unpack[AgentStation]) -> None:
        self._emit("agent.station", **data)

    def ringing(self, **data: Unpack[AgentRinging]) -> None:
        self._emit("agent.ringing", **data)

    def ring_cancelled(self, **data: Unpack[AgentRingCancelled]) -> None:
        self._emit("agent.ring_cancelled", **data)

    def connected(self, **data: Unpack[AgentConnected]) -> None:
        self._emit("agent.connected", **data)


class CallbackNotifier(Notifier):
    def new(self, **data: Unpack[CallbackNew]) -> None:
        self._emit("callback.new", **data)

    def result(self, **data: Unpack[CallbackResult]) -> None:
        self._emit("callback.result", **data)

    def closed(self, **data: Unpack[CallbackClosed]) -> None:
        self._emit("callback.closed", **data)


class VoicemailNotifier(Notifier):
    def new(self, **data: Unpack[VoicemailNew]) -> None:
        self._emit("voicemail.new", **data)


class ModemNotifier(Notifier):
    def status(self, **data: Unpack[ModemStatusData]) -> None:
        self._emit("modem.status", **data)

    def recovery(self, **data: Unpack[ModemRecovery]) -> None:
        self._emit("modem.recovery", **data)


class ModemCallNotifier(Notifier):
    def incoming(self, **data: Unpack[ModemCallOffered]) -> None:
        self._emit("modem.call.incoming", **data)

    def waiting(self, **data: Unpack[ModemCallOffered]) -> None:
        self._emit("modem.call.waiting", **data)

    def state(self, **data: Unpack[ModemCallState]) -> None:
        self._emit("modem.call.state", **data)


class SmsNotifier(Notifier):
    def status(self, **data: Unpack[SmsStatus]) -> None:
        self._emit("modem.sms.status", **data)

    def received(self, **data: Unpack[SmsReceived]) -> None:
        self._emit("modem.sms.received", **data)


class GsmNotifier(Notifier):
    def gateway(self, **data: Unpack[GsmGateway]) -> None:
        self._emit("gsm.gateway", **data)


class FailoverNotifier(Notifier):
    def changed(self, **data: Unpack[FailoverChanged]) -> None:
        self._emit("failover.changed", **data)


class PanelNotifier(Notifier):
    def leds(self, **data: Unpack[PanelLeds]) -> None:
        self._emit("panel.leds", **data)

    def night_mode(self, **data: Unpack[NightMode]) -> None:
        self._emit("panel.night_mode", **data)

    def answer_next(self, **data: Unpack[AnswerNext]) -> None:
        self._emit("panel.answer_next", **data)


class BoxNotifier(Notifier):
    def night_mode(self, **data: Unpack[NightMode]) -> None:
        self._emit("box.night_mode", **data)


class StoreNotifier(Notifier):
    def locked(self) -> None:
        self._emit("store.locked")

    def unlocked(self) -> None:
        self._emit("store.unlocked")


class ReminderNotifier(Notifier):
    def paused(self) -> None:
        self._emit("reminders.paused")

    def resumed(self) -> None:
        self._emit("reminders.resumed")


class ProvisioningNotifier(Notifier):
    def started(self, **data: Unpack[ProvisioningRun]) -> None:
        self._emit("provisioning.started", **data)

    def succeeded(self, **data: Unpack[ProvisioningRun]) -> None:
        self._emit("provisioning.succeeded", **data)

    def failed(self, **data: Unpack[ProvisioningRun]) -> None:
        self._emit("provisioning.failed", **data)


class SwitchboardNotifiers:
    """The notifiers of the switchboard's features, over its one publisher queue."""

    def __init__(self, emit: Emit) -> None:
        self.calls = CallNotifier(emit)
        self.agents = AgentNotifier(emit)
        self.callbacks = CallbackNotifier(emit)
        self.voicemail = VoicemailNotifier(emit)
        self.queue = QueueNotifier(emit)
        self.gsm = GsmNotifier(emit)
        self.box = BoxNotifier(emit)
        self.store = StoreNotifier(emit)
        self.reminders = ReminderNotifier(emit)


class WaitlistNotifier(Notifier):
    def offered(self, **data: Unpack[WaitlistOffered]) -> None:
        self._emit("waitlist.offered", **data)

    def answered(self, **data: Unpack[WaitlistAnswered]) -> None:
        self._emit("waitlist.answered", **data)


#: Every feature's notifier (the unit tests check each declared kind has a method).
NOTIFIERS: tuple[type[Notifier], ...] = (
    CallNotifier,
    TrunkNotifier,
    QueueNotifier,
    AgentNotifier,
    CallbackNotifier,
    VoicemailNotifier,
    ModemNotifier,
    ModemCallNotifier,
    SmsNotifier,
    GsmNotifier,
    FailoverNotifier,
    PanelNotifier,
    BoxNotifier,
    StoreNotifier,
    ReminderNotifier,
    ProvisioningNotifier,
    WaitlistNotifier,
)
