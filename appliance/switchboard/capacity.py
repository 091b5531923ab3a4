"""What this PJSUA2 build can really do, measured at start-up.

PJSUA silently caps concurrent calls at its compile-time ``PJSUA_MAX_CALLS``
(4 in the PyPI wheel, 256 in ClinicBox's engine) whatever the config asks
for, and offers no way to read the cap back. So the box places calls to a
loopback responder until PJSUA refuses one (place-and-count), and reports
both numbers. The responder answers ``486 Busy Here``, so every probe call
ends at once and leaves no trace. The player table is counted the same way.

Any: 8, the pjsua2 module, endpoint and account handed to the probes (6) and the capacity as JSON (2).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appliance import sip

log = logging.getLogger(__name__)

# pjlib's status for "too many objects": every call slot of the build is in use.
PJ_ETOOMANY = 70010


@dataclass(frozen=True)
class Capacity:
    requested: int
    allowed: int
    players_max: int  # conference bridge ports (every call, player and capture)
    tls: bool
    srtp: bool
    sound_devices: int
    pjsip_version: str
    engine: str = ""  # the binding's distribution and version (which build this box runs)
    players_allowed: int = 0  # prompt/music players the build gave, up to what the budget asked
    budget: dict[str, Any] = field(default_factory=dict)  # the media budget (budget.MediaBudget.as_dict)
    limited_by: str = ""  # "calls", "players" or "" when the box takes every line asked for

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        limit = (
            f"{self.allowed} concurrent calls (asked for {self.requested}; the build's {self.limited_by} limit)"
            if self.allowed < self.requested
            else f"{self.allowed} concurrent calls"
        )
        return (
            f"{self.engine or 'PJSUA2'} (PJSIP {self.pjsip_version}): {limit}, TLS {'yes' if self.tls else 'no'}, "
            f"SRTP {'yes' if self.srtp else 'no'}, {self.sound_devices} sound devices, "
            f"{self.players_max} media ports, {self.players_allowed} players"
        )


def engine_name() -> str:
    """Which PJSUA2 binding is installed: ClinicBox's own build, or another (the PyPI wheel)."""
    from importlib import metadata

    for dist in ("clinicbox-pjsua2", "pjsua2-python", "pjsua2"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "pjsua2 (unknown build)"


class LoopbackResponder:
    """Answers every INVITE (and its retransmissions) with 486 Busy Here, on 127.0.0.1.

    The probe counts call slots when it places the calls (PJSUA refuses the
    one past its cap at once), so the answer only has to end each call
    quickly and cleanly: a final 486 frees the slot as soon as PJSUA reads
    it, with no CANCEL and no transaction left waiting for its timeout.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # a burst of 256 INVITEs
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capacity-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                msg = sip.parse(data)
            except sip.SipParseError:
                continue
            if msg.method == "INVITE":
                self.sock.sendto(sip.build_response(msg, 486, "Busy Here", to_tag="probe"), addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sock.close()


def probe_calls(pj: Any, ep: Any, account: Any, requested: int, pump: Callable[[float], None]) -> int:
    """Place calls until PJSUA refuses; return how many it allowed.

    Runs on the PJSUA2 thread before any real call. ``pump(seconds)``
    runs the event loop. Every probe call has ended before it returns, so
    the slots are free for real callers.
    """
    responder = LoopbackResponder()
    calls = []
    allowed = 0
    try:
        for _ in range(requested):
            call = pj.Call(account)
            try:
                call.makeCall(f"sip:probe@127.0.0.1:{responder.port}", pj.CallOpParam(True))
            except pj.Error as exc:
                if exc.status != PJ_ETOOMANY:
                    log.warning("capacity probe stopped early: %s", exc.reason)
                del call
                break
            calls.append(call)
            allowed += 1
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and any(c.isActive() for c in calls):
            pump(0.01)
        stuck = sum(1 for c in calls if c.isActive())
        if stuck:
            log.warning("capacity probe: %d probe calls still active after 10 s", stuck)
    finally:
        calls.clear()
        pump(0.05)
        responder.close()
    return allowed


def probe_players(pj: Any, silence: Path, wanted: int) -> int:
    """Create up to ``wanted`` players of ``silence``; return how many the build allowed.

    pjsua's player table is compiled in (``PJSUA_MAX_PLAYERS``) and cannot be
    read back, so like the call limit it is counted. Runs on the PJSUA2
    thread at start-up; every probe player is freed before it returns.
    """
    players = []
    try:
        for _ in range(wanted):
            player = pj.AudioMediaPlayer()
            try:
                player.createPlayer(str(silence), pj.PJMEDIA_FILE_NO_LOOP)
            except pj.Error as exc:
                if exc.status != PJ_ETOOMANY:
                    log.warning("player probe stopped early: %s", exc.reason)
                break
            players.append(player)
        return len(players)
    finally:
        players.clear()


def build_info(pj: Any, ep: Any) -> tuple[bool, bool, int]:
    """(TLS available, SRTP available, number of sound devices)."""
    tls = True
    try:
        cfg = pj.TransportConfig()
        cfg.port = 0
        cfg.boundAddress = "127.0.0.1"
        tid = ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, cfg)
        ep.transportClose(tid)
    except pj.Error:
        tls = False
    try:
        srtp = len(list(ep.srtpCryptoEnum())) > 0
    except (pj.Error, AttributeError):
        srtp = False
    try:
        devices = len(ep.audDevManager().enumDev2())
    except pj.Error:
        devices = 0
    return tls, srtp, devices
