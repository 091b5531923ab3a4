"""The voice path as the modem worker runs it: set up at every start-up, the
family's steps when a call connects and ends, and what it found in the status.

:mod:`appliance.modem.voicepath` knows the families' AT steps; this module
decides when they run (on the worker thread, the only one that sends AT
commands) and what follows from them: a modem without a voice path offers
no GSM calls, a call whose PCM cannot be started is hung up, and a Quectel
whose USB audio had to be switched on is restarted once - never in a loop.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from appliance.errors import ModemError
from appliance.modem import voicepath
from appliance.modem.calls import CallTracker
from appliance.station.voiceroute import NONE, VoiceRoute

if TYPE_CHECKING:
    from appliance.events import Event
    from appliance.modem.driver import Modem, ModemInfo
    from appliance.modem.status import ModemStatus

log = logging.getLogger(__name__)

STILL_OFF = "USB audio (UAC) is still off after a restart: the modem does not keep the setting"


class VoiceHost(Protocol):
    """What the voice setup uses of the modem service (the worker's host)."""

    @property
    def status(self) -> ModemStatus: ...
    def set_status(self, **changes: Any) -> None: ...
    def publish(self, events: list[Event]) -> None: ...


class VoiceSetup:
    """The voice path of the modem the worker drives.

    Args:
        host: where the status and the call events go.
        modem: the driver (only used on the worker thread).
        tracker, tracker_lock: the voice line's state, to end a call without voice.
    """

    def __init__(self, host: VoiceHost, modem: Modem, tracker: CallTracker, tracker_lock: threading.Lock) -> None:
        self.host = host
        self.modem = modem
        self.tracker = tracker
        self.tracker_lock = tracker_lock
        self.path: voicepath.VoicePath | None = None
        self.family: voicepath.Family | None = None
        self._restarted = False
        self._pcm_on = False  # the family's PCM step ran for the call in progress

    @property
    def offered(self) -> bool:
        return self.path is not None and self.path.ready

    def route(self) -> VoiceRoute:
        """What the gateway is told on each INVITE (``route=""`` before the first start-up)."""
        return self.path.as_route() if self.path is not None else VoiceRoute()

    def prepare(self, info: ModemInfo) -> bool:
        """Find the family and run its set-up; True when the modem restarts for it."""
        hardware = self.modem.hardware
        vendor_of = getattr(hardware, "usb_vendor", None)  # optional: a test's hardware may lack it
        family = voicepath.family_of(info.manufacturer, info.model, vendor_of() if callable(vendor_of) else "")
        finder = getattr(hardware, "voice_port", None)
        port = ""
        if family is not None and family.voice_interface >= 0 and callable(finder):
            port = str(finder(family.voice_interface) or "")
        who = f"{info.manufacturer} {info.model}".strip()
        path = voicepath.prepare(self.modem, family, voice_port=port, who=who)
        if path.restart and self._restarted:
            path = replace(path, restart=False, detail=STILL_OFF)
        self.family, self.path = family, path
        self.host.set_status(voice_path=path.as_dict(), voice=self.host.status.voice and path.ready)
        log.log(logging.INFO if path.ready else logging.WARNING, "modem %s", path.describe())
        if not path.restart:
            return False
        self._restarted = True
        log.warning("restarting the modem once so that its USB audio (UAC) appears")
        self.host.set_status(state="starting", detail="restarting the modem to switch its USB audio on")
        try:
            self.modem.radio_reset()
        except ModemError as exc:
            log.warning("the modem restart for USB audio failed: %s", exc)
        return True

    def connected(self) -> None:
        """The GSM call is connected: start its PCM (serial-PCM families).

        A step that fails ends the call (nobody would hear anybody) and
        stays in the status for ``doctor``.
        """
        path = self.path
        if path is None or not path.ready or path.route == NONE:
            return
        error = voicepath.call_connected(self.modem, self.family)
        if not error:
            self._pcm_on = True
            return
        log.error("GSM call without voice: %s; hanging up", error)
        self.path = replace(path, detail=f"last call: {error}")
        self.host.set_status(voice_path=self.path.as_dict())
        try:
            self.modem.hangup()
        except ModemError as exc:
            log.warning("could not hang up the call without voice: %s", exc)
        with self.tracker_lock:
            events = self.tracker.hung_up()
        self.host.publish(events)

    def ended(self) -> None:
        """The call ends (the box hangs up: before ``AT+CHUP``) or ended: stop its PCM (SIMCom), once."""
        if self._pcm_on and self.modem.connected:
            voicepath.call_ended(self.modem, self.family)
        self._pcm_on = False
