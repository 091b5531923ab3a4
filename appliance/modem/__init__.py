"""The GSM/LTE modem: the box's second line when the SIP trunk is down.

Public API (what the core, the switchboard and the reminders module use)
-------------------------------------------------------------------------
``ModemService(cfg, bus, store, clock, *, hardware=None, simulator=None)``
    A core service (``name``, ``start()``, ``stop()``, ``healthy()``).
    Add it when ``cfg.modem.enabled``; config picks the simulator
    (``modem.simulate`` or the global ``simulate``) or the USB modem.
    ``clock.offer_network_time(datetime)`` (SystemClock) receives NITZ time.

SMS (any thread; nothing blocks on the modem):
    ``svc.send_sms(number, text, reminder_attempt_id=None, patient_id=None) -> int``
        Queue an SMS, return its ``sms_messages`` id. Raises
        ``ValidationError`` for a bad number or text. Sent within
        ``modem.sms_per_minute``, retried with backoff, never sent twice.
    ``svc.on_incoming(hook)``
        ``hook(IncomingSms) -> str | bool | None`` runs on the modem worker
        for every complete incoming SMS; a truthy result claims it
        (``handled = 1``, ``handled_by`` = the string, or ``"system"``).
        Unclaimed messages stay for staff. ``IncomingSms`` has ``sms_id,
        number, text, sent_at, partial, patient_id``.

Voice (one call at a time; each returns a ``concurrent.futures.Future``
resolved when the modem took the command; progress comes as events):
    ``svc.dial(number)`` (raises ``ModemBusyError`` at once when the modem is
    not ready or busy), ``svc.answer()``, ``svc.hangup()``,
    ``svc.send_dtmf(digits)``, ``svc.call_state() -> CallSnapshot``.

Failover: ``svc.failover`` is a :class:`FailoverPolicy`:
    ``route() -> "trunk" | "gsm" | "none"``, ``voice_capacity() -> 0 | 1``,
    ``reserve_voice() -> bool`` / ``release_voice()``, ``state()``.

Status: ``svc.status`` (:class:`ModemStatus`); also written to
``<run_dir>/modem-status.json`` for ``clinicbox doctor`` and the CLI.

Events published on the bus
---------------------------
=====================  =====================================================
``modem.status``       ``{state, registered, voice, signal, dbm, operator, sim}``
                       state: starting, absent, busy, no-sim, sim-locked,
                       pin-rejected, searching, ready, unresponsive,
                       recovering, failed, stopped; signal: 0-5 bars
``modem.recovery``     ``{step, reason, outcome}`` step: reinit, radio-reset,
                       usb-reset, power-cut (when recovered: the last step
                       taken, the one that worked); outcome:
                       started, recovered
``modem.call.incoming`` ``{number, call}`` once per incoming call ("" = withheld)
``modem.call.state``   ``{state, direction, number, call, reason}`` state:
                       idle, ringing, dialing, alerting, active, held;
                       direction: in, out; reason (when idle): hangup,
                       local, busy, no-answer, missed, no-network
``modem.call.waiting`` ``{number, call}`` a second caller during call ``call``;
                       the modem turns it away (AT+CHLD=0)
``modem.sms.received`` ``{sms_id, partial}``
``modem.sms.status``   ``{sms_id, status}`` status: sent, unconfirmed, delivered, failed
``failover.changed``   ``{route, reason}`` route: trunk, gsm, none
=====================  =====================================================

Consumed: ``trunk.up`` / ``trunk.down`` ``{reason}`` (from the switchboard),
``store.unlocked`` (stored SMS are read once the store opens).

Modules: pure parsers and encoders (:mod:`.at`, :mod:`.atparse`,
:mod:`.gsm7`, :mod:`.pdu`, :mod:`.pdufields`, :mod:`.concat`,
:mod:`.calls`, :mod:`.health`, :mod:`.smsqueue`); the transport
(:mod:`.transport`, :mod:`.channel`, :mod:`.trace`); the hardware adapter
(:mod:`.hardware`, :mod:`.locate`); the driver and service
(:mod:`.driver`, :mod:`.worker`, :mod:`.sms`, :mod:`.service`,
:mod:`.failover`, :mod:`.status`); the simulator (:mod:`.simulator` and
its ``sim*`` modules, :mod:`.simpty`, :mod:`.simcontrol`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.modem.calls import CallSnapshot
    from appliance.modem.failover import FailoverPolicy
    from appliance.modem.service import ModemService
    from appliance.modem.sms import IncomingSms
    from appliance.modem.status import ModemStatus

# Re-exported lazily, so importing a pure module (appliance.modem.pdu) does
# not pull in pyserial, the store and the service.
_EXPORTS = {
    "CallSnapshot": "appliance.modem.calls",
    "FailoverPolicy": "appliance.modem.failover",
    "IncomingSms": "appliance.modem.sms",
    "ModemService": "appliance.modem.service",
    "ModemStatus": "appliance.modem.status",
}

__all__ = ["CallSnapshot", "FailoverPolicy", "IncomingSms", "ModemService", "ModemStatus"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'appliance.modem' has no attribute {name!r}")
