"""The AT driver: find the modem, bring it up, and the commands the box uses.

:class:`Modem` knows the command sequences (startup, status, SMS in PDU
mode, voice) and nothing about scheduling: :mod:`appliance.modem.service`
calls it from one worker thread. Startup: echo off, numeric errors, SIM
PIN (see :mod:`appliance.modem.pin`: a PIN that did not unlock the SIM
is never sent again, three wrong tries lock it), caller ID, PDU mode,
new-message indications (``+CMTI`` for SMS stored on the SIM, ``+CDSI`` for
delivery reports stored in the modem, so that neither is lost while the
box restarts or its store is locked; direct ``+CDS`` only on modems that
cannot store reports), registration URCs, network time zone updates.
Messages are read from the storage their URC names (``"SR"`` holds the
status reports on SIMCom and Huawei modems).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from appliance.clock import EARLIEST_PLAUSIBLE
from appliance.config.modem import ModemSettings
from appliance.errors import ModemError, ModemNotFoundError, SimError
from appliance.modem import ModemHardware
from appliance.modem import pin as pins
from appliance.modem.channel import AtChannel, Response, UrcHandler
from appliance.modem.pin import PinGuard
from appliance.modem.transport import PortBusyError, SerialTransport
from appliance.modem.wire import atparse
from appliance.modem.wire.pdu import SubmitPdu

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
    """The SIM is not usable; ``sim`` says why (absent, pin-required, last-try, pin-rejected, puk)."""

    def __init__(self, message: str, sim: str) -> None:
        super().__init__(message)
        self.sim = sim


class Modem:
    """One modem over one AT channel.

    Args:
        settings: the ``[modem]`` section.
        hardware: where its ports are and how to power-cycle it.
        on_urc: URC handler, called on the reader thread (queue work only).
        pin_guard: remembers PINs that did not unlock the SIM.
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
        # (PIN, ICCID) sent on this connection that did not unlock the SIM in time;
        # forgiven if the SIM turns READY later on the same connection.
        self._unconfirmed: tuple[str, str] | None = None
        #: Where AT+CMGR/CMGL/CMGD read (AT+CPMS's first storage) between commands.
        self.read_storage = "SM"
        #: Other storages holding messages for the box ("SR": delivery reports).
        self.extra_storages: tuple[str, ...] = ()
        self._pointed_at = ""  # the storage AT+CPMS reads now; "" = not known

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
        self._unconfirmed = None

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
        self.read_storage, self._pointed_at = "SM", ""
        if not self.at('AT+CPMS="SM","SM","SM"', check=False).final.ok:
            self.read_storage = "ME"
            if self.at('AT+CPMS="ME","ME","ME"', check=False).final.ok:
                self._pointed_at = "ME"
        else:
            self._pointed_at = "SM"
        offered = self.at("AT+CPMS=?", check=False).lines
        self.extra_storages = ("SR",) if any('"SR"' in line.split(")")[0] for line in offered) else ()
        # Stored reports (ds=2) first: a direct +CDS that arrives while the store
        # is locked or the core restarts is gone, a stored one waits.
        for cnmi in ("AT+CNMI=2,1,0,2,0", "AT+CNMI=1,1,0,2,0", "AT+CNMI=2,1,0,1,0", "AT+CNMI=1,1,0,1,0"):
            if self.at(cnmi, check=False).final.ok:
                if cnmi.endswith(",1,0"):
                    log.warning(
                        "this modem cannot store delivery reports; one arriving while the store is locked is lost"
                    )
                break
        # Present a second caller during a call (+CCWA): the box turns them away onto
        # the callback list instead of losing them. Local only; the network side is
        # switched on later by activate_call_waiting, which may be slow or refused.
        self.at("AT+CCWA=1", check=False)
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
        state = {"READY": "ready", "SIM PIN": "pin-required", "SIM PUK": "puk", "NOT INSERTED": "absent"}.get(
            status, "error"
        )
        if state == "ready" and self._unconfirmed is not None:
            self._ready_after_all()
        return state

    def _ready_after_all(self) -> None:
        """The SIM turned READY after a PIN that seemed to fail: the PIN was right."""
        assert self._unconfirmed is not None
        pin, iccid = self._unconfirmed
        self._unconfirmed = None
        if self.iccid() == iccid:
            self.pin_guard.forgive(pin, iccid)
            log.info("the SIM became ready after all: modem.pin was right and may be used again")

    def iccid(self) -> str:
        """The SIM's serial number (readable before the PIN on most modems), or ""."""
        for command in ("AT+QCCID", "AT+CCID", "AT+CICCID"):
            resp = self.at(command, check=False)
            if resp.final.ok:
                found = re.search(r"(\d{18,20})", " ".join(resp.lines))
                if found:
                    return found[1]
        return ""

    def pin_tries_left(self) -> int | None:
        """SIM PIN tries left, when the modem can tell (see :data:`pin.TRIES_COMMANDS`)."""
        for command in pins.TRIES_COMMANDS:
            resp = self.at(command, check=False)
            if resp.final.ok:
                left = pins.tries_left(resp.lines)
                if left is not None:
                    return left
        return None

    def unlock_sim(self, wait_s: float = 10.0) -> None:
        """Enter the PIN if the SIM asks for one, at most once per PIN and SIM.

        The PIN is recorded as refused before it is sent, and forgiven only
        when the SIM answers ``OK`` and then turns READY; a wrong PIN, any
        other error, a timeout or a crash in between leave it recorded
        (:class:`~appliance.modem.pin.PinGuard`). The SIM's last try is
        never spent.

        Raises:
            SimProblem: no SIM, no PIN configured, PIN not accepted (now or
                earlier), one try or none left, or the SIM wants its PUK.
            ModemError: the modem stopped answering before the PIN was sent.
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
        guard = self.pin_guard
        if guard.rejected(pin, iccid):
            raise SimProblem(pins.refused_before(guard), "pin-rejected")
        left = self.pin_tries_left()
        if left == 0:
            raise SimProblem(pins.NO_TRIES, "puk")
        if left == 1:
            raise SimProblem(pins.LAST_TRY, "last-try")
        try:
            guard.reject(pin, iccid)  # first: whatever happens once it is sent, it is not sent again
        except OSError as exc:
            raise SimProblem(
                f"cannot record the PIN attempt in {guard.where} ({exc}), so the PIN is not sent "
                "(it could be sent again after a restart). Make the state directory writable and restart",
                "pin-required",
            ) from exc
        log.info("entering the SIM PIN (%s tries left)", "unknown" if left is None else left)
        why = self._enter_pin(pin, wait_s)
        if not why:
            guard.forgive(pin, iccid)
            return
        self._unconfirmed = (pin, iccid)
        after, left = "", None
        try:
            after = self.sim_state()  # READY after all forgives the PIN
            left = self.pin_tries_left() if after == "pin-required" else None
        except ModemError:
            pass  # the modem stopped answering: the PIN stays refused all the same
        if after == "ready":
            return
        if after == "puk":
            raise SimProblem(pins.PUK_NOW, "puk")
        log.error("the SIM did not accept modem.pin (%s); it will not be sent again", why)
        raise SimProblem(pins.not_accepted(why, left, guard), "pin-rejected")

    def _enter_pin(self, pin: str, wait_s: float) -> str:
        """Send ``AT+CPIN`` once; "" when the SIM then turned READY, else why not."""
        try:
            # SIM operations are slower than ordinary commands.
            self.at(f'AT+CPIN="{pin}"', 3 * self.settings.command_timeout_s)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if self.sim_state() == "ready":
                    return ""
                time.sleep(0.2)
        except ModemError as exc:
            return str(exc)
        return f"it answered OK but the SIM was not ready {wait_s:g} s later"

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

    def read_stored(self, index: int, storage: str = "") -> atparse.StoredPdu:
        """The message at ``index`` of ``storage`` (as ``+CMTI``/``+CDSI`` named it)."""
        with self._reading(storage):
            return atparse.cmgr(index, self.at(f"AT+CMGR={index}").lines)

    def list_stored(self, storage: str = "") -> list[atparse.StoredPdu]:
        with self._reading(storage):
            return atparse.cmgl(self.at("AT+CMGL=4", 20.0).lines)

    def delete_stored(self, index: int, storage: str = "") -> None:
        with self._reading(storage):
            self.at(f"AT+CMGD={index}")

    @contextmanager
    def _reading(self, storage: str) -> Iterator[None]:
        """Point AT+CPMS's first storage at ``storage`` for one step, then back.

        A switch back that fails leaves the storage unknown: the next step
        sets it again before it reads, so no message is read from (or
        deleted in) the wrong storage.
        """
        storage = storage.upper() or self.read_storage
        if not re.fullmatch(r"[A-Z]{2}", storage):
            raise ModemError(f"not a message storage: {storage[:8]!r}")
        if storage != self._pointed_at:
            self._pointed_at = ""
            self.at(f'AT+CPMS="{storage}"')
            self._pointed_at = storage
        try:
            yield
        finally:
            if storage != self.read_storage:
                self._pointed_at = ""
                try:
                    if self.at(f'AT+CPMS="{self.read_storage}"', check=False).final.ok:
                        self._pointed_at = self.read_storage
                except ModemError as exc:
                    log.warning("could not point the modem back at its message storage: %s", exc)

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

    def activate_call_waiting(self) -> bool:
        """``AT+CCWA=1,1,1``: ask the network to let second callers wait (voice).

        Without it the network gives them busy and the box never learns who
        called. The network may take seconds or refuse (not offered on the
        SIM's plan); that is logged and the modem carries on.
        """
        try:
            # A network request: slower than a local command, bounded all the same (the
            # worker waits on it, and calls wait on the worker).
            ok = self.at("AT+CCWA=1,1,1", 3 * self.settings.command_timeout_s, check=False).final.ok
        except ModemError as exc:
            log.warning("the network did not answer the call-waiting request: %s", exc)
            return False
        if not ok:
            log.warning("the network refused call waiting; a second mobile caller will hear busy unrecorded")
        return ok

    def release_waiting(self) -> None:
        """``AT+CHLD=0``: turn away the waiting call (its caller hears busy)."""
        self.at("AT+CHLD=0", 10.0)

    def dtmf(self, digits: str) -> None:
        if not digits or any(ch not in "0123456789*#ABCD" for ch in digits):
            raise ModemError("DTMF digits are 0-9, *, # and A-D")
        for digit in digits:
            self.at(f'AT+VTS="{digit}"')

    def calls(self) -> list[atparse.CallInfo]:
        return atparse.clcc(self.at("AT+CLCC").lines)
