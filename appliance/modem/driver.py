"""The AT driver: find the modem, bring it up, and the commands the box uses.

:class:`Modem` knows the command sequences (startup, status, SMS in PDU
mode, voice) and nothing about scheduling: :mod:`appliance.modem.service`
calls it from one worker thread. Startup: echo off, numeric errors, SIM
PIN (a PIN the SIM once rejected is never sent again: three wrong tries
lock the SIM), caller ID, PDU mode, new-message indications
(``+CMTI`` for SMS stored on the SIM, ``+CDS`` for delivery reports),
registration URCs, network time zone updates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from appliance.clock import EARLIEST_PLAUSIBLE
from appliance.config.modem import ModemSettings
from appliance.errors import ModemCommandError, ModemError, ModemNotFoundError, SimError
from appliance.modem import atparse
from appliance.modem.channel import AtChannel, Response, UrcHandler
from appliance.modem.hardware import ModemHardware
from appliance.modem.pdu import SubmitPdu
from appliance.modem.transport import PortBusyError, SerialTransport

log = logging.getLogger(__name__)

_DIAL = re.compile(r"^\+?[0-9*#]{1,30}$")


@dataclass(frozen=True)
class ModemInfo:
    port: str
    imei: str
    manufacturer: str
    model: str
    revision: str


@dataclass(frozen=True)
class NetworkStatus:
    sim: str  # ready, absent, pin-required, pin-rejected, puk, error
    registration: atparse.Registration | None
    signal: atparse.Signal | None
    operator: str


class ModemUnresponsiveError(ModemNotFoundError):
    """Ports are there but none answered as the configured modem (hung, or another IMEI)."""


class SimProblem(SimError):
    """The SIM is not usable; ``sim`` says why (absent, pin-required, pin-rejected, puk)."""

    def __init__(self, message: str, sim: str) -> None:
        super().__init__(message)
        self.sim = sim


class PinGuard:
    """Remembers PINs a SIM rejected, across restarts, so none is tried twice.

    Only a SHA-256 of the SIM's ICCID and the PIN is kept. A technician who
    corrects ``modem.pin``, or puts in another SIM, gets one try.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._rejected: set[str] = set()
        if path is not None and path.exists():
            try:
                self._rejected = set(json.loads(path.read_text()).get("rejected", []))
            except (OSError, ValueError):
                log.warning("cannot read %s; assuming no PIN was rejected", path)

    @staticmethod
    def _digest(pin: str, iccid: str) -> str:
        return hashlib.sha256(f"clinicbox-sim-pin:{iccid}:{pin}".encode()).hexdigest()

    def rejected(self, pin: str, iccid: str = "") -> bool:
        """Did this SIM (by ICCID, when the modem tells it) reject this PIN before?"""
        return self._digest(pin, iccid) in self._rejected

    def reject(self, pin: str, iccid: str = "") -> None:
        self._rejected.add(self._digest(pin, iccid))
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"rejected": sorted(self._rejected)}))
            tmp.chmod(0o600)
            tmp.replace(self.path)
        except OSError:
            log.exception("cannot record the rejected PIN in %s", self.path)


class Modem:
    """One modem over one AT channel.

    Args:
        settings: the ``[modem]`` section.
        hardware: where its ports are and how to power-cycle it.
        on_urc: URC handler, called on the reader thread (queue work only).
        pin_guard: remembers rejected PINs.
    """

    def __init__(
        self,
        settings: ModemSettings,
        hardware: ModemHardware,
        on_urc: UrcHandler,
        *,
        pin_guard: PinGuard | None = None,
        trace: bool = False,
    ) -> None:
        self.settings = settings
        self.hardware = hardware
        self.on_urc = on_urc
        self.pin_guard = pin_guard or PinGuard(None)
        self.trace = trace
        self.channel: AtChannel | None = None
        self.info: ModemInfo | None = None

    # -- connection --------------------------------------------------------------
    def connect(self) -> ModemInfo:
        """Open the first port whose modem has the configured IMEI.

        Raises:
            PortBusyError: another process holds the port.
            ModemNotFoundError: no port answered as the configured modem.
        """
        self.close()
        tried = []
        for url in self.hardware.ports():
            channel = AtChannel(SerialTransport(url, self.settings.baudrate), self.on_urc, trace=self.trace)
            try:
                channel.open()
                info = self._identify(channel, url)
            except PortBusyError:
                channel.close()
                raise
            except ModemError as exc:
                channel.close()
                tried.append(f"{url}: {exc}")
                continue
            if self.settings.imei and info.imei != self.settings.imei:
                channel.close()
                tried.append(f"{url}: IMEI ends {info.imei[-4:]}, not the configured one")
                continue
            self.channel, self.info = channel, info
            self.hardware.remember(url)
            log.info("modem %s %s (IMEI *%s) on %s", info.manufacturer, info.model, info.imei[-4:], url)
            return info
        if tried:
            raise ModemUnresponsiveError(f"no port answered as the modem: {'; '.join(tried)}")
        raise ModemNotFoundError("no modem found: no candidate port (is it plugged in?)")

    def _identify(self, channel: AtChannel, url: str) -> ModemInfo:
        self._sync(channel)
        imei = atparse.imei(channel.command("AT+CGSN", self.settings.command_timeout_s).lines)
        maker = atparse.first_text(channel.command("AT+CGMI", self.settings.command_timeout_s, check=False).lines)
        model = atparse.first_text(channel.command("AT+CGMM", self.settings.command_timeout_s, check=False).lines)
        rev = atparse.first_text(channel.command("AT+CGMR", self.settings.command_timeout_s, check=False).lines)
        return ModemInfo(url, imei, maker, model, rev)

    def _sync(self, channel: AtChannel, attempts: int = 3) -> None:
        """Get an OK to a bare AT (a booting modem may drop the first ones)."""
        last: Exception | None = None
        for _ in range(attempts):
            try:
                channel.command("AT", min(2.0, self.settings.command_timeout_s))
                return
            except ModemError as exc:
                last = exc
        raise ModemError(f"no answer to AT ({last})")

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        self.channel = None

    @property
    def connected(self) -> bool:
        return self.channel is not None and self.channel.alive

    def at(self, command: str, timeout: float | None = None, **kw: object) -> Response:
        """Run one command on the open channel (see :meth:`AtChannel.command`)."""
        if self.channel is None:
            raise ModemError("the modem is not connected")
        return self.channel.command(command, timeout or self.settings.command_timeout_s, **kw)  # type: ignore[arg-type]

    # -- startup ----------------------------------------------------------------------
    def initialize(self) -> None:
        """The startup sequence. Raises SimProblem when the SIM is not usable."""
        self.at("ATE0")
        self.at("AT+CMEE=1")
        self.unlock_sim()
        self.at("AT+CLIP=1")
        self.at("AT+CMGF=0")
        self.at("AT+CSMS=0", check=False)
        if not self.at('AT+CPMS="SM","SM","SM"', check=False).final.ok:
            self.at('AT+CPMS="ME","ME","ME"', check=False)
        for cnmi in ("AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,2,0", "AT+CNMI=1,1,0,1,0"):
            if self.at(cnmi, check=False).final.ok:
                break
        self.at("AT+CREG=2", check=False)
        self.at("AT+CEREG=2", check=False)
        if self.settings.network_time and not self.at("AT+CTZU=3", check=False).final.ok:
            self.at("AT+CTZU=1", check=False)
        if self.settings.smsc:
            self.at(f'AT+CSCA="{self.settings.smsc}"', check=False)

    def sim_state(self) -> str:
        """ready, absent, pin-required, puk (or error)."""
        resp = self.at("AT+CPIN?", check=False)
        if not resp.final.ok:
            return "absent" if resp.final.code in (10, 13) else "error"
        status = next((atparse.cpin(x) for x in resp.lines if x.startswith("+CPIN")), "")
        return {"READY": "ready", "SIM PIN": "pin-required", "SIM PUK": "puk", "NOT INSERTED": "absent"}.get(
            status, "error"
        )

    def iccid(self) -> str:
        """The SIM's serial number (readable before the PIN on most modems), or ""."""
        for command in ("AT+QCCID", "AT+CCID", "AT+CICCID"):
            resp = self.at(command, check=False)
            if resp.final.ok:
                found = re.search(r"(\d{18,20})", " ".join(resp.lines))
                if found:
                    return found[1]
        return ""

    def unlock_sim(self, wait_s: float = 10.0) -> None:
        """Enter the PIN if the SIM asks for one; never a PIN it rejected before.

        Raises:
            SimProblem: no SIM, no PIN configured, PIN rejected (now or
                earlier), or the SIM wants its PUK.
        """
        state = self.sim_state()
        if state == "ready":
            return
        if state == "absent":
            raise SimProblem("no SIM card in the modem; insert one and restart", "absent")
        if state == "puk":
            raise SimProblem("the SIM is locked (PUK needed); unlock it in a phone with the PUK", "puk")
        if state != "pin-required":
            raise SimProblem("the SIM does not answer; check it is seated", "error")
        pin = self.settings.pin
        if not pin:
            raise SimProblem("the SIM needs a PIN; set modem.pin in the secrets file", "pin-required")
        iccid = self.iccid()
        if self.pin_guard.rejected(pin, iccid):
            raise SimProblem(
                "the SIM rejected this PIN before; it is not tried again (a third wrong try locks the SIM). "
                "Correct modem.pin and restart",
                "pin-rejected",
            )
        try:
            self.at(f'AT+CPIN="{pin}"', 15.0)
        except ModemCommandError as exc:
            if exc.code in (12, 16):
                self.pin_guard.reject(pin, iccid)
                raise SimProblem(
                    "the SIM rejected modem.pin; it will not be tried again. Correct it and restart", "pin-rejected"
                ) from exc
            raise
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.sim_state() == "ready":
                return
            time.sleep(0.2)
        raise SimProblem("the SIM accepted the PIN but did not become ready", "error")

    # -- status ---------------------------------------------------------------------
    def network_status(self) -> NetworkStatus:
        sim = self.sim_state()
        reg: atparse.Registration | None = None
        for command in ("AT+CEREG?", "AT+CREG?"):
            resp = self.at(command, check=False)
            for line in resp.lines:
                if line.startswith(("+CEREG:", "+CREG:")):
                    candidate = atparse.registration(line, urc=False)
                    if reg is None or (candidate.registered and not reg.registered):
                        reg = candidate
        signal = None
        for line in self.at("AT+CSQ", check=False).lines:
            if line.startswith("+CSQ:"):
                signal = atparse.csq(line)
        operator = ""
        for line in self.at("AT+COPS?", check=False).lines:
            if line.startswith("+COPS:"):
                operator = atparse.cops(line).name
        return NetworkStatus(sim, reg, signal, operator)

    def wait_registered(self, timeout: float) -> NetworkStatus:
        """Poll until registered (a modem needs a few seconds after power-on)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.network_status()
            if (status.registration and status.registration.registered) or time.monotonic() >= deadline:
                return status
            time.sleep(0.25)

    def network_time(self) -> datetime:
        """The network's time (NITZ, through the modem's clock).

        Raises:
            ModemError: the modem's clock was never set by the network.
        """
        line = next((x for x in self.at("AT+CCLK?").lines if x.startswith("+CCLK")), "")
        moment = atparse.cclk(line)
        if moment < EARLIEST_PLAUSIBLE:
            raise ModemError("the modem's clock was not set by the network (no NITZ yet)")
        return moment

    def ping(self, timeout: float = 3.0) -> bool:
        try:
            self.at("AT", timeout)
            return True
        except ModemError:
            return False

    def radio_reset(self) -> None:
        """``AT+CFUN=1,1``: reboot the modem's firmware (USB re-enumerates)."""
        try:
            self.at("AT+CFUN=1,1", 10.0, check=False)
        finally:
            self.close()

    # -- SMS -----------------------------------------------------------------------------
    def send_pdu(self, part: SubmitPdu) -> int:
        """Send one PDU; returns the message reference (+CMGS).

        Raises:
            ModemCommandError: +CMS ERROR (``code`` says why).
            ModemTimeoutError: no answer within ``sms_timeout_s``.
        """
        if self.channel is None:
            raise ModemError("the modem is not connected")
        resp = self.channel.send_pdu(part.tpdu_length, part.hex, self.settings.sms_timeout_s)
        line = next((x for x in resp.lines if x.startswith("+CMGS")), "")
        return atparse.cmgs(line)

    def read_stored(self, index: int) -> atparse.StoredPdu:
        return atparse.cmgr(index, self.at(f"AT+CMGR={index}").lines)

    def list_stored(self) -> list[atparse.StoredPdu]:
        return atparse.cmgl(self.at("AT+CMGL=4", 20.0).lines)

    def delete_stored(self, index: int) -> None:
        self.at(f"AT+CMGD={index}")

    # -- voice ------------------------------------------------------------------------
    def dial(self, number: str) -> None:
        if not _DIAL.match(number):
            raise ModemError("a number to dial holds digits, *, # and an optional leading +")
        self.at(f"ATD{number};", 30.0, dialing=True)

    def answer(self) -> None:
        self.at("ATA", 20.0, dialing=True)

    def hangup(self) -> None:
        if not self.at("AT+CHUP", check=False).final.ok:
            self.at("ATH")

    def dtmf(self, digits: str) -> None:
        if not digits or any(ch not in "0123456789*#ABCD" for ch in digits):
            raise ModemError("DTMF digits are 0-9, *, # and A-D")
        for digit in digits:
            self.at(f'AT+VTS="{digit}"')

    def calls(self) -> list[atparse.CallInfo]:
        return atparse.clcc(self.at("AT+CLCC").lines)
