"""The GSM call's voice path, per modem family: which AT steps route a call's
audio to the box, run on the modem worker, and what they found.

Families (from the manufacturers' AT command manuals):

* **Quectel EC2x/EG25** - USB audio class (UAC). ``AT+QCFG="USBCFG"`` must
  have its last flag (UAC) on; the change is stored in the modem and takes
  effect after a restart. ``AT+QPCMV=1,2`` (voice over UAC) is set at every
  start (it is not kept across restarts). The voice is then on the modem's
  ALSA card, which the GSM gateway uses as its sound device.
* **SIMCom SIM7600** - PCM over a dedicated USB serial port (interface 4).
  ``AT+CPCMREG=1`` once the call is connected starts the PCM,
  ``AT+CPCMREG=0`` at hang-up stops it.
* **Huawei E1750/E173/E3531** - PCM on the stick's "voice" serial port
  (interface 1). ``AT^CVOICE?`` says whether the firmware has voice on
  (``^CVOICE: 0,8000,16,20``); ``AT^DDSETEX=2`` after the call connects
  starts the PCM.

Other modems get no voice path: "voice path: not supported on this modem";
the box then offers no GSM voice calls (SMS still work).

Every step goes through :class:`AtPort` (the driver's ``Modem``); an
``ERROR`` or garbage answer becomes a :class:`VoicePath` that says which step
failed, never an exception, so a modem with odd firmware still does SMS.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from appliance.errors import ModemError
from appliance.station.voiceroute import NONE, SERIAL_PCM, UAC, VoiceRoute

log = logging.getLogger(__name__)


class _Final(Protocol):
    @property
    def ok(self) -> bool: ...


class _Response(Protocol):
    @property
    def lines(self) -> list[str]: ...
    @property
    def final(self) -> _Final: ...


class AtPort(Protocol):
    """What the voice path needs of the driver: one AT command at a time."""

    def at(self, command: str, timeout: float | None = None, **kw: Any) -> Any:
        """Run ``command``; with ``check=False`` an ERROR answer is returned, not raised.

        Raises:
            ModemError: no answer (timeout) or the port is gone.
        """
        ...


@dataclass(frozen=True)
class Family:
    key: str  # quectel, simcom, huawei
    label: str
    route: str  # uac or serial-pcm
    voice_interface: int = -1  # USB interface of the voice serial port (serial-pcm)


QUECTEL = Family("quectel", "Quectel EC2x/EG25", UAC)
SIMCOM = Family("simcom", "SIMCom SIM7600", SERIAL_PCM, 4)
HUAWEI = Family("huawei", "Huawei E1750/E173/E3531", SERIAL_PCM, 1)

_QUECTEL_MODELS = re.compile(r"\b(EC2[015]|EG2[15])", re.IGNORECASE)
_SIMCOM_MODELS = re.compile(r"SIM7600", re.IGNORECASE)
_HUAWEI_MODELS = re.compile(r"^(E1750|E173|E3531)", re.IGNORECASE)
_VENDORS = {"2c7c": "quectel", "1e0e": "simcom", "12d1": "huawei"}


def family_of(manufacturer: str, model: str, vendor: str = "") -> Family | None:
    """The voice family of a modem from ``AT+CGMI``/``AT+CGMM`` (and its USB vendor id).

    The model decides: a Quectel BG96 (no voice) is not an EC25.
    """
    maker = manufacturer.upper()
    brand = _VENDORS.get(vendor.lower(), "")
    if (brand == "quectel" or "QUECTEL" in maker) and _QUECTEL_MODELS.search(model):
        return QUECTEL
    if (brand == "simcom" or "SIMCOM" in maker) and _SIMCOM_MODELS.search(model):
        return SIMCOM
    if (brand == "huawei" or "HUAWEI" in maker) and _HUAWEI_MODELS.search(model.strip()):
        return HUAWEI
    return None


@dataclass(frozen=True)
class VoicePath:
    """What the voice-path setup found; the status file and ``doctor`` show it."""

    route: str  # uac, serial-pcm, none
    family: str = ""  # the family's label ("" = unknown modem)
    ready: bool = False  # a call's voice can flow
    port: str = ""  # the voice serial port (serial-pcm)
    detail: str = ""  # why not ready, or what changed
    restart: bool = False  # a stored setting changed: the modem must restart first

    def describe(self) -> str:
        """One line for ``doctor`` and the log."""
        if self.route == UAC:
            text = "voice path: USB audio (UAC)"
        elif self.route == SERIAL_PCM:
            text = f"voice path: serial PCM on {self.port}" if self.port else "voice path: serial PCM"
        else:
            text = "voice path: not supported on this modem"
        return f"{text} ({self.detail})" if self.detail else text

    def as_route(self) -> VoiceRoute:
        return VoiceRoute(self.route if self.ready else NONE, self.port if self.ready else "")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.describe()}


def _values(lines: list[str], prefix: str) -> list[str] | None:
    """The comma-separated values after ``prefix`` in the first line that has it."""
    for line in lines:
        if line.upper().startswith(prefix.upper()):
            return [v.strip().strip('"') for v in line[len(prefix) :].split(",")]
    return None


def _step(port: AtPort, command: str) -> tuple[bool, list[str]]:
    """(answered OK, information lines); no answer at all raises ModemError."""
    resp = port.at(command, check=False)
    return bool(resp.final.ok), list(resp.lines)


def prepare(port: AtPort, family: Family | None, *, voice_port: str = "", fix: bool = True, who: str = "") -> VoicePath:
    """Check (and with ``fix``, set) what the family needs before calls.

    Args:
        voice_port: the family's voice serial port, as the hardware found it.
        fix: change settings (the core at start); ``False`` only looks
            (``doctor`` probing a modem the core does not run): a Quectel
            with USB audio on then counts as ready without ``AT+QPCMV``.
        who: the modem's maker and model, for the "not supported" reason.
    """
    if family is None:
        return VoicePath(NONE, detail=f"{who or 'this modem'}: no known voice path; GSM calls are not offered")
    try:
        if family is QUECTEL:
            return _prepare_uac(port, fix)
        return _prepare_serial(port, family, voice_port)
    except ModemError as exc:
        return VoicePath(family.route, family.label, detail=f"the modem did not answer the voice setup ({exc})")


def _prepare_uac(port: AtPort, fix: bool) -> VoicePath:
    q = QUECTEL.label
    ok, lines = _step(port, 'AT+QCFG="USBCFG"')
    values = _values(lines, '+QCFG: "USBCFG",') if ok else None
    if values is None or len(values) < 9:
        why = "answered ERROR" if not ok else "answered without a UAC flag"
        return VoicePath(UAC, q, detail=f'AT+QCFG="USBCFG" {why}: this firmware cannot switch USB audio on')
    if values[8] != "1":
        if not fix:
            return VoicePath(UAC, q, detail="USB audio (UAC) is off in USBCFG; the core switches it on at start")
        wanted = ",".join([*values[:8], "1", *values[9:]])
        ok, _ = _step(port, f'AT+QCFG="USBCFG",{wanted}')
        if not ok:
            return VoicePath(UAC, q, detail=f'switching USB audio on (AT+QCFG="USBCFG",{wanted}) answered ERROR')
        return VoicePath(
            UAC, q, restart=True, detail="USB audio (UAC) was off; switched on: the modem must restart once"
        )
    if not fix:
        return VoicePath(UAC, q, ready=True)  # the core sends AT+QPCMV=1,2 as it starts the modem
    ok, _ = _step(port, "AT+QPCMV=1,2")
    if not ok:
        return VoicePath(UAC, q, detail="AT+QPCMV=1,2 (voice over USB audio) answered ERROR")
    return VoicePath(UAC, q, ready=True)


def _prepare_serial(port: AtPort, family: Family, voice_port: str) -> VoicePath:
    if family is SIMCOM:
        ok, _ = _step(port, "AT+CPCMREG=?")
        if not ok:
            return VoicePath(SERIAL_PCM, family.label, detail="AT+CPCMREG=? answered ERROR: no PCM over USB")
    else:
        ok, lines = _step(port, "AT^CVOICE?")
        values = _values(lines, "^CVOICE:") if ok else None
        if not values or values[0] != "0":
            return VoicePath(
                SERIAL_PCM,
                family.label,
                detail="voice is switched off in this stick's firmware (AT^CVOICE? "
                + ("answered ERROR" if not ok else f"says {','.join(values or ['nothing'])}")
                + "); a firmware with voice is needed",
            )
        if values[1:3] and values[1:3] != ["8000", "16"]:
            return VoicePath(SERIAL_PCM, family.label, detail=f"unexpected PCM format {','.join(values[1:])}")
    if not voice_port:
        return VoicePath(
            SERIAL_PCM, family.label, detail=f"no voice serial port found (USB interface {family.voice_interface})"
        )
    return VoicePath(SERIAL_PCM, family.label, ready=True, port=voice_port)


def call_connected(port: AtPort, family: Family | None) -> str:
    """Start the call's PCM where the family needs a step once connected; "" or why it failed."""
    command = {SIMCOM.key: "AT+CPCMREG=1", HUAWEI.key: "AT^DDSETEX=2"}.get(family.key if family else "")
    if command is None:
        return ""
    try:
        ok, _ = _step(port, command)
    except ModemError as exc:
        return f"{command}: no answer ({exc})"
    return "" if ok else f"{command} answered ERROR: the call has no voice"


def call_ended(port: AtPort, family: Family | None) -> None:
    """Stop the PCM after a call (SIMCom); a failure is only logged."""
    if family is SIMCOM:
        try:
            port.at("AT+CPCMREG=0", check=False)
        except ModemError as exc:
            log.info("AT+CPCMREG=0 after the call: %s", exc)
