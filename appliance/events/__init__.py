"""Events: what happened in the box, declared once, announced by notifiers, carried by the bus.

- :mod:`~appliance.events.kinds`: every event kind and its payload (the wire format).
- :mod:`~appliance.events.notifiers`: one notifier per feature, the only emitters.
- :mod:`~appliance.events.bus`: the in-process publish/subscribe bus.

A base module: it imports nothing else from the box.
"""

from appliance.events.bus import Collector, Emit, Event, EventBus, Subscriber
from appliance.events.kinds import PAYLOADS, EventKind, EventPrefix
from appliance.events.notifiers import (
    NOTIFIERS,
    AgentNotifier,
    BoxNotifier,
    CallbackNotifier,
    CallNotifier,
    FailoverNotifier,
    GsmNotifier,
    ModemCallNotifier,
    ModemNotifier,
    Notifier,
    PanelNotifier,
    ProvisioningNotifier,
    QueueNotifier,
    ReminderNotifier,
    SmsNotifier,
    StoreNotifier,
    SwitchboardNotifiers,
    TrunkNotifier,
    VoicemailNotifier,
    WaitlistNotifier,
)

__all__ = [
    "NOTIFIERS",
    "PAYLOADS",
    "AgentNotifier",
    "BoxNotifier",
    "CallNotifier",
    "CallbackNotifier",
    "Collector",
    "Emit",
    "Event",
    "EventBus",
    "EventKind",
    "EventPrefix",
    "FailoverNotifier",
    "GsmNotifier",
    "ModemCallNotifier",
    "ModemNotifier",
    "Notifier",
    "PanelNotifier",
    "ProvisioningNotifier",
    "QueueNotifier",
    "ReminderNotifier",
    "SmsNotifier",
    "StoreNotifier",
    "Subscriber",
    "SwitchboardNotifiers",
    "TrunkNotifier",
    "VoicemailNotifier",
    "WaitlistNotifier",
]
