"""One PJSUA2 endpoint per process, owned by one thread: the station's and the
test user agent's shared plumbing.

PJSUA2 allows one Endpoint per process and aborts the process when a thread
it does not know touches it, so everything here runs on the thread that
called :meth:`UaRuntime.start` (the program's main thread): the program
loops :meth:`UaRuntime.poll` and does its own work between polls. Objects
PJSUA2 calls back into (calls, accounts, players, ports, buddies) must stay
referenced until PJSUA2 is done with them; every Call must be gone before
``libDestroy`` (a Call destroyed later asserts and aborts) while every
Account must outlive it (a MESSAGE still in flight reports to its account
during ``libDestroy``): the runtime keeps them and tears down in that order
in :meth:`UaRuntime.shutdown`.

Example:
    >>> rt = UaRuntime(UaConfig(bind="127.0.0.1"))  # doctest: +SKIP
    >>> rt.start(); rt.use_null_audio()              # doctest: +SKIP
    >>> while running: rt.poll()                     # doctest: +SKIP
    >>> rt.shutdown()                                # doctest: +SKIP
"""

from __future__ import annotations

import gc
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

from appliance.errors import StationError
from appliance.privacy import mask_digits
from appliance.station.alsa import SoundDevice

log = logging.getLogger(__name__)
pjlog = logging.getLogger("clinicbox.pjsip")

#: PJSIP log level → Python logging level.
_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

#: G.711 first (what the core and SIPp's pcaps speak); the rest off, to keep
#: the conference bridge at 8 kHz and the CPU low.
CODECS = ("PCMA/8000/1", "PCMU/8000/1")

#: How often the PJSUA2 thread collects cyclic garbage (see UaRuntime.start).
GC_EVERY_S = 2.0

STATE_NAMES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}


def keep_stdout_clean() -> int:
    """Point fd 1 at stderr and return a private duplicate of the old stdout.

    PJLIB prints its first lines to fd 1 before any log config applies; a
    program whose stdout is a protocol (the test user agent) writes to the
    returned descriptor instead.
    """
    sys.stdout.flush()
    private = os.dup(1)
    os.dup2(2, 1)
    return private


def _env_level(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) <= 6 else default


class _LogWriter(pj.LogWriter):  # type: ignore[misc]
    """PJSIP's log lines into Python logging, long digit runs masked."""

    def write(self, entry: Any) -> None:
        level = _LEVELS.get(int(entry.level), logging.DEBUG)
        pjlog.log(level, "%s", mask_digits(str(entry.msg).rstrip()))


@dataclass(frozen=True)
class UaConfig:
    bind: str = "127.0.0.1"
    port: int = 0  # 0 = any free port
    public: str = ""  # address in Contact and SDP; "" = bind (PJSIP's guess when bind is 0.0.0.0)
    max_calls: int = 4
    user_agent: str = "ClinicBox"
    rtp_port: int = 0  # first RTP port; 0 = a random one in 20000-39998
    sip_trace: bool = False  # PJSIP's message log into clinicbox.pjsip at DEBUG
    echo_cancel: bool = False  # a headset wants it; test agents do not


class UaRuntime:
    """The process's PJSUA2 endpoint, its UDP transport and the objects it owns."""

    def __init__(self, config: UaConfig) -> None:
        self.config = config
        self.ep: Any = None
        self.transport_id = -1
        self.host = ""
        self.port = 0
        self.calls: dict[int, Any] = {}
        self.accounts: list[Any] = []
        self.objects: list[Any] = []
        self._graveyard: list[Any] = []
        self._answers: list[tuple[int, int]] = []
        self._next_gc = 0.0
        self._writer: _LogWriter | None = None
        self._rtp_base = config.rtp_port or random.randrange(20000, 40000, 2)

    # -- start -------------------------------------------------------------------
    def start(self) -> None:
        """Create the endpoint and the SIP transport.

        Python's cyclic garbage collector is switched to manual and run from
        :meth:`poll`: left automatic, it may run on PJMEDIA's clock thread
        (inside a media port's callback) and destroy a PJSUA2 object there.

        Raises:
            StationError: PJSUA2 could not start or the SIP port is taken.
        """
        gc.disable()
        c = self.config
        ep = pj.Endpoint()
        ep.libCreate()
        self.ep = ep
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = c.max_calls
        cfg.uaConfig.userAgent = c.user_agent
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.threadCnt = 1
        cfg.medConfig.ecTailLen = 200 if c.echo_cancel else 0
        self._writer = _LogWriter()
        cfg.logConfig.writer = self._writer
        # The writer receives what passes consoleLevel; nothing else is printed.
        # $CLINICBOX_PJSIP_LOG (0-6) raises PJSIP's own detail when debugging.
        level = 5 if c.sip_trace else _env_level("CLINICBOX_PJSIP_LOG", 2)
        cfg.logConfig.level = cfg.logConfig.consoleLevel = level
        cfg.logConfig.msgLogging = 1 if c.sip_trace else 0
        cfg.logConfig.decor = pj.PJ_LOG_HAS_SENDER
        try:
            ep.libInit(cfg)
            tcfg = pj.TransportConfig()
            tcfg.port = c.port
            tcfg.boundAddress = "" if c.bind == "0.0.0.0" else c.bind
            if c.public or c.bind != "0.0.0.0":
                tcfg.publicAddress = c.public or c.bind
            self.transport_id = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
            ep.libStart()
        except pj.Error as exc:
            self._abort()
            raise StationError(f"SIP could not start on {c.bind}:{c.port}: {exc.info()}") from None
        for info in ep.codecEnum2():
            ep.codecSetPriority(info.codecId, 255 - CODECS.index(info.codecId) if info.codecId in CODECS else 0)
        name = ep.transportGetInfo(self.transport_id).localName
        self.host, _, port = name.rpartition(":")
        self.port = int(port)

    def _abort(self) -> None:
        try:
            self.ep.libDestroy()
        except pj.Error:
            pass
        self.ep = None

    # -- audio -------------------------------------------------------------------
    def sound_devices(self) -> list[SoundDevice]:
        """Sound devices this PJSUA2 build offers ([] for the PyPI wheel)."""
        devices = []
        for i, d in enumerate(self.ep.audDevManager().enumDev2()):
            devices.append(SoundDevice(i, str(d.name), int(d.inputCount), int(d.outputCount)))
        return devices

    def use_null_audio(self) -> None:
        self.ep.audDevManager().setNullDev()

    def use_device(self, index: int) -> None:
        """Capture from and play to one device (a headset is both).

        Raises:
            StationError: the device cannot be opened.
        """
        adm = self.ep.audDevManager()
        try:
            adm.setCaptureDev(index)
            adm.setPlaybackDev(index)
        except pj.Error as exc:
            raise StationError(f"cannot open sound device {index}: {exc.info()}") from None

    def capture(self) -> Any:
        return self.ep.audDevManager().getCaptureDevMedia()

    def playback(self) -> Any:
        return self.ep.audDevManager().getPlaybackDevMedia()

    # -- accounts ------------------------------------------------------------------
    def contact(self, user: str) -> str:
        return f"sip:{user}@{self.host}:{self.port}" if user else f"sip:{self.host}:{self.port}"

    def account_config(
        self, id_uri: str, *, registrar: str = "", user: str = "", password: str = "", realm: str = "*"
    ) -> Any:
        """An account on this runtime's transport, media pinned to its address."""
        acfg = pj.AccountConfig()
        acfg.idUri = id_uri
        acfg.sipConfig.transportId = self.transport_id
        # No re-INVITE to "lock" the codec after a multi-codec answer: one
        # offer/answer per call keeps peers (baresip restarts its stream) simple.
        acfg.mediaConfig.lockCodecEnabled = False
        media = acfg.mediaConfig.transportConfig
        media.port = self._rtp_base
        media.portRange = 2000
        if self.config.bind != "0.0.0.0":
            media.boundAddress = self.config.bind
        if self.config.public or self.config.bind != "0.0.0.0":
            media.publicAddress = self.config.public or self.config.bind
        if registrar:
            acfg.regConfig.registrarUri = registrar
            acfg.regConfig.timeoutSec = 300
            acfg.regConfig.retryIntervalSec = 5
        else:
            acfg.regConfig.registerOnAdd = False
        if user:
            cred = pj.AuthCredInfo("digest", realm, user, 0, password)
            acfg.sipConfig.authCreds.append(cred)
        acfg.natConfig.iceEnabled = False
        acfg.natConfig.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
        acfg.natConfig.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
        return acfg

    def add_account(self, account: Any, acfg: Any) -> Any:
        """Create ``account`` (an ``pj.Account`` subclass) and keep it alive.

        Raises:
            StationError: PJSUA2 refused the account config.
        """
        try:
            account.create(acfg)
        except pj.Error as exc:
            raise StationError(f"cannot create SIP account {acfg.idUri}: {exc.info()}") from None
        self.accounts.append(account)
        return account

    # -- objects -------------------------------------------------------------------
    def keep(self, obj: Any) -> Any:
        """Keep a media object or buddy alive until :meth:`drop` or shutdown."""
        self.objects.append(obj)
        return obj

    def drop(self, obj: Any) -> None:
        """Release an object at the next poll (never inside its own callback)."""
        if obj in self.objects:
            self.objects.remove(obj)
        for cid, call in list(self.calls.items()):
            if call is obj:
                del self.calls[cid]
        self._graveyard.append(obj)

    def answer_soon(self, call_id: int, code: int) -> None:
        """Answer an incoming call right after the current callback returns.

        Answering (above all refusing) from inside ``onIncomingCall`` can
        trip PJSUA2's own bookkeeping: a sipvicious INVITE answered 403 there
        aborts the process on a freed rdata. Deferring to the next poll
        costs ~10 ms and is always safe.
        """
        self._answers.append((call_id, code))

    def poll(self, ms: int = 10) -> None:
        self._graveyard.clear()
        self.ep.libHandleEvents(ms)
        now = time.monotonic()
        if now >= self._next_gc:
            self._next_gc = now + GC_EVERY_S
            gc.collect()
        answers, self._answers = self._answers, []
        for call_id, code in answers:
            call = self.calls.get(call_id)
            if call is None:
                continue  # gone already (CANCEL)
            op = pj.CallOpParam()
            op.statusCode = code
            try:
                call.answer(op)
            except pj.Error as exc:
                log.debug("answering call %s with %s failed: %s", call_id, code, exc.info())

    # -- stop ----------------------------------------------------------------------
    def shutdown(self, release: Callable[[], None] | None = None, grace_s: float = 1.5) -> None:
        """Hang up, let the BYEs go out, drop every object, destroy the endpoint.

        Args:
            release: called after the calls ended and before anything is
                destroyed: the program drops its own references to PJSUA2
                objects there (a Call or player outliving the endpoint aborts
                the process).
            grace_s: how long hung-up calls may take to end.
        """
        if self.ep is None:
            return
        if self.calls:
            self.ep.hangupAllCalls()
            deadline = time.monotonic() + grace_s
            while self.calls and time.monotonic() < deadline:
                self.poll(20)
        self._unregister(grace_s)
        if release is not None:
            release()
        self.calls.clear()
        self._graveyard.clear()
        self.objects.clear()
        # Accounts stay alive through libDestroy: a MESSAGE still in flight
        # reports its status to its account during libDestroy, and an account
        # deleted earlier makes that abort. NO_NETWORK: the BYEs and
        # un-REGISTERs are done above; without it libDestroy waits a second.
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        self.ep = None
        self.accounts.clear()

    def _unregister(self, grace_s: float) -> None:
        registered = [a for a in self.accounts if a.isValid() and a.getInfo().regIsActive]
        for account in registered:
            try:
                account.setRegistration(False)
            except pj.Error as exc:
                log.debug("unregister failed: %s", exc.info())
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(a.isValid() and a.getInfo().regIsActive for a in registered):
            self.poll(20)
