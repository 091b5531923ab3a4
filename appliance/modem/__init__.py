"""The GSM/LTE modem: the box's second line when the SIP trunk is down.

Public API (what the core, the switchboard and the reminders module use)
-------------------------------------------------------------------------
``ModemService(cfg, bus, store, clock, *, hardware=None, simulator=None)``
    A core service (``name``, ``start()``, ``stop()``, ``healthy()``).
    Add it when ``cfg.modem.enabled``; config picks the simulator
    (``modem.simulate`` or the global ``simulate``) or the USB modem, and
    the composition root builds the simulator (``appliance.app.modem_simulation``)
    and hands it in as ``simulator``.
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
    ``svc.send_dtmf(digits)``, ``svc.call_state() -> CallSnapshot``,
    ``svc.voice_route() -> VoiceRoute`` (where the call's voice is: the
    modem's sound card or PCM on a serial port; named to the GSM gateway).
    A modem with no voice path (:mod:`.voicepath`) offers no calls.

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

Layout (by what each module is)
-------------------------------
- This face: the public names above, re-exported lazily, and the two ports
  the service is built on: :class:`ModemHardware` (where the AT port is and
  how to power-cycle the modem) and :class:`ModemSimulation` (the shipped
  fake as the service runs it). They live here, not beside an adapter, the
  way gpiozero keeps ``Factory`` in ``pins/__init__.py`` with ``MockFactory``
  in its own module: defining a port must not load an implementation, and
  importing this package loads nothing but ``typing``.
- :mod:`.wire`: the pure codecs (AT framing and parsers, GSM 7-bit, SMS
  PDUs and their fields, the network's PDUs, multipart reassembly); no
  I/O, no threads, table-tested.
- Pure policies: :mod:`.calls` (the voice line's state), :mod:`.health`
  (the recovery ladder), :mod:`.smspolicy` (SMS rate limit and backoff).
- The transport: :mod:`.transport` (pyserial), :mod:`.channel`,
  :mod:`.trace`.
- The real hardware adapter: :mod:`.hardware` (USB, via :mod:`.locate`,
  :mod:`.usbreset`), :mod:`.powerline`, :mod:`.pin`.
- The voice path per family: :mod:`.voicepath` (the AT steps),
  :mod:`.voiceline` (when the worker runs them).
- The driver and services: :mod:`.driver`, :mod:`.worker`,
  :mod:`.smsservice` (the SMS queue, reports and incoming messages),
  :mod:`.service`, :mod:`.failover`, :mod:`.status`, :mod:`.probe`.
- :mod:`.sim`: the shipped fake (the simulator's firmware, its pty, its
  control socket, :class:`~appliance.modem.sim.SimulatedHardware`). Only the
  composition roots (``appliance.app``, the CLI, the demo) and tests import
  it; the driver and the service never do, so a production core loads no
  simulator code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from appliance.modem.calls import CallSnapshot
    from appliance.modem.failover import FailoverPolicy
    from appliance.modem.service import ModemService
    from appliance.modem.smsservice import IncomingSms
    from appliance.modem.status import ModemStatus

# Re-exported lazily, so importing a pure module (appliance.modem.wire.pdu) does
# not pull in pyserial, the store and the service.
_EXPORTS = {
    "CallSnapshot": "appliance.modem.calls",
    "FailoverPolicy": "appliance.modem.failover",
    "IncomingSms": "appliance.modem.smsservice",
    "ModemService": "appliance.modem.service",
    "ModemStatus": "appliance.modem.status",
}

__all__ = [
    "CallSnapshot",
    "FailoverPolicy",
    "IncomingSms",
    "ModemHardware",
    "ModemService",
    "ModemSimulation",
    "ModemStatus",
]


class ModemHardware(Protocol):
    """The modem as hardware: where its AT port is, and how to power-cycle it.

    The real adapter is :class:`appliance.modem.hardware.UsbModemHardware`;
    the shipped fake is :class:`appliance.modem.sim.SimulatedHardware`.
    Tests may pass their own object with these four methods.
    """

    def ports(self) -> list[str]:
        """Port URLs to try, best first (empty while the modem is gone)."""
        ...

    def power_cycle(self) -> None:
        """Make the modem re-enumerate, as unplugging it would.

        Raises:
            ModemError: this box cannot do it (no sysfs access, disabled).
        """
        ...

    def remember(self, device: str) -> None:
        """The port at ``device`` turned out to be the modem."""
        ...

    def describe(self) -> str:
        """A line for logs and `clinicbox doctor`."""
        ...


class ModemSimulation(Protocol):
    """The shipped fake as the modem service runs it in simulate mode.

    A composition root builds it (:class:`appliance.modem.sim.Simulation`)
    when config says ``modem.simulate`` or ``simulate`` and hands it to
    :class:`~appliance.modem.service.ModemService`, which starts and stops
    it with itself and drives the modem through its :attr:`hardware`.
    """

    @property
    def hardware(self) -> ModemHardware:
        """The adapter the driver uses to find and power-cycle the fake."""
        ...

    def start(self) -> None:
        """Put the simulator on its pty (and its control socket), unless it runs."""
        ...

    def stop(self) -> None:
        """Stop the control socket and the simulator."""
        ...

    def set_power(self, on: bool) -> None:
        """The simulated supply, switched by the modem's GPIO power line."""
        ...


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'appliance.modem' has no attribute {name!r}")
