"""Which line outbound traffic takes: the SIP trunk, the GSM modem, or none.

The switchboard publishes ``trunk.up`` / ``trunk.down`` (registration
plus OPTIONS keep-alive); the modem service publishes ``modem.status``
and ``modem.call.state``. :class:`FailoverPolicy` listens to both and
answers :meth:`route`. Every change of route is logged and published as
``failover.changed`` ``{route, reason}``. The modem carries one voice call
at a time: :meth:`reserve_voice` hands that one line to one caller.

Until the switchboard has said anything, a configured trunk counts as
down (so reminders can use the modem), and ``route()`` says why.

Example:
    >>> from appliance.events import TrunkNotifier
    >>> bus = EventBus()
    >>> policy = FailoverPolicy(bus, trunk_enabled=True)
    >>> TrunkNotifier(bus.emit).up()
    >>> policy.route()
    'trunk'
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from appliance.events import Event, EventBus, FailoverNotifier

log = logging.getLogger(__name__)

TRUNK = "trunk"
GSM = "gsm"
NONE = "none"


@dataclass(frozen=True)
class RouteState:
    route: str
    reason: str
    trunk_up: bool
    modem_ready: bool
    gsm_voice_free: bool


class FailoverPolicy:
    """Routes outbound traffic; thread-safe (events arrive on several threads).

    Args:
        bus: where trunk and modem events come from and ``failover.changed`` goes.
        trunk_enabled: a clinic without a SIP trunk routes everything to GSM.
    """

    def __init__(self, bus: EventBus, *, trunk_enabled: bool = True) -> None:
        self.bus = bus
        self.notify = FailoverNotifier(bus.emit)
        self.trunk_enabled = trunk_enabled
        self._lock = threading.Lock()
        self._trunk_up = False
        self._trunk_reason = "trunk state not reported yet" if trunk_enabled else "no SIP trunk configured"
        self._modem_ready = False
        self._modem_voice = False
        self._modem_reason = "modem state not reported yet"
        self._call_busy = False
        self._reserved = False
        self._route = NONE
        self._reason = "starting"
        self._unsubscribe = [
            bus.subscribe(self._on_event, "trunk."),
            bus.subscribe(self._on_event, "modem.status"),
            bus.subscribe(self._on_event, "modem.call.state"),
        ]
        self._update("start")

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- queries ----------------------------------------------------------------
    def route(self) -> str:
        """``"trunk"``, ``"gsm"`` or ``"none"`` for the next outbound call or reminder."""
        with self._lock:
            return self._route

    def state(self) -> RouteState:
        with self._lock:
            return RouteState(self._route, self._reason, self._trunk_up, self._modem_ready, self._voice_free())

    def voice_capacity(self) -> int:
        """Calls the GSM line can take right now (0 or 1)."""
        with self._lock:
            return 1 if self._voice_free() else 0

    def reserve_voice(self) -> bool:
        """Claim the GSM voice line for one outbound call; False if it is taken.

        Call :meth:`release_voice` when that call ends (or was never placed).
        """
        with self._lock:
            if not self._voice_free():
                return False
            self._reserved = True
            return True

    def release_voice(self) -> None:
        with self._lock:
            self._reserved = False

    def _voice_free(self) -> bool:
        return self._modem_voice and not self._call_busy and not self._reserved

    # -- events -----------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        data = event.data
        with self._lock:
            if event.kind == "trunk.up":
                self._trunk_up = True
                self._trunk_reason = "trunk registered"
            elif event.kind == "trunk.down":
                self._trunk_up = False
                self._trunk_reason = f"trunk down: {data.get('reason') or 'no reason given'}"
            elif event.kind == "modem.status":
                self._modem_ready = data.get("state") == "ready" and bool(data.get("registered"))
                self._modem_voice = self._modem_ready and data.get("voice", True) is not False
                self._modem_reason = f"modem {data.get('state', 'unknown')}"
            elif event.kind == "modem.call.state":
                self._call_busy = data.get("state") != "idle"
                if not self._call_busy:
                    self._reserved = False
                return
            else:
                return
        self._update(event.kind)

    def _update(self, cause: str) -> None:
        with self._lock:
            if self.trunk_enabled and self._trunk_up:
                route, reason = TRUNK, self._trunk_reason
            elif self._modem_ready:
                route, reason = GSM, f"{self._trunk_reason}; using the GSM modem"
            else:
                route, reason = NONE, f"{self._trunk_reason}; {self._modem_reason}"
            changed = route != self._route
            self._route, self._reason = route, reason
        if changed:
            log.warning("outbound route is now %s (%s)", route, reason)
            self.notify.changed(route=route, reason=reason)
