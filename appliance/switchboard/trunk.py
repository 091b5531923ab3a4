"""Is the SIP trunk usable? Registration state plus an OPTIONS keep-alive.

A registered trunk can still be dead (the provider's proxy gone, the
internet down with the registration not yet expired), so the box also
pings a UDP trunk with SIP OPTIONS from its own small socket: any reply,
even 401 or 404, proves the provider is there. A TLS trunk is not pinged
that way: the provider listens for TLS on that port, so a UDP OPTIONS gets
no answer and would report a working trunk as down. Its health is the
registration state alone (PJSIP re-registers and keeps the TLS connection
alive); a lost connection shows as a failed re-registration. The verdict
is published as ``trunk.up`` / ``trunk.down`` events (the modem's failover
consumes them) and shown in the snapshot.

Any: 1, the trunk's state as JSON.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance import sip
from appliance.config import Config
from appliance.events import Emit, TrunkNotifier

log = logging.getLogger(__name__)
MISSES_BEFORE_DOWN = 3


def registrar_address(registrar: str) -> tuple[str, int] | None:
    """('host', port) of a registrar URI such as sip:provider.example:5080."""
    if not registrar:
        return None
    rest = registrar.split(":", 1)[1] if ":" in registrar else registrar
    rest = rest.split(";")[0].split("@")[-1]
    host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if not host:
        host, port = rest, ""
    return host, int(port) if port.isdigit() else 5060


class TrunkMonitor:
    name = "trunk monitor"

    def __init__(self, cfg: Config, emit: Emit) -> None:
        self.cfg = cfg
        self.notify = TrunkNotifier(emit)
        self._lock = threading.Lock()
        self.enabled = cfg.trunk.enabled
        self.registered: bool | None = None if cfg.trunk.register else True
        self.reg_detail = ""
        self.cert_problem = ""  # the provider's TLS certificate refused (siptls.certificate_problem)
        # OPTIONS go over UDP only; a TLS trunk relies on its registration (see the module doc).
        self.pings = bool(cfg.trunk.keepalive_interval_s) and cfg.trunk.transport == "udp"
        self.options_ok: bool | None = None if self.pings else True
        self.misses = 0
        self.last_reply = 0.0
        self.state = "disabled" if not self.enabled else "registering"
        self.detail = "no trunk configured" if not self.enabled else "starting"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Called (loop thread, must not block) after each successful registration.
        self.on_registered: list[Callable[[], None]] = []

    def start(self) -> None:
        if not self.enabled:
            self.notify.down(reason="disabled")
            return
        if self.cfg.trunk.keepalive_interval_s and not self.pings:
            log.info(
                "trunk keep-alive: %s trunk, judged by its registration (no UDP OPTIONS)", self.cfg.trunk.transport
            )
        if self.pings:
            self._thread = threading.Thread(target=self._ping_loop, name="trunk-options", daemon=True)
            self._thread.start()
        self._update()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def on_registration(self, code: int, reason: str, active: bool) -> None:
        with self._lock:
            self.registered = active and 200 <= code < 300
            self.reg_detail = f"{code} {reason}".strip()
            if self.registered:
                self.cert_problem = ""
        if not self.registered:
            log.warning("trunk registration failed: %s", self.reg_detail)
        else:
            for hook in self.on_registered:
                hook()
        self._update()

    def on_certificate(self, problem: str) -> None:
        """The provider's TLS certificate was refused (the trunk is down for that reason), or
        ``""``: a server's certificate passed, which lifts an earlier refusal."""
        with self._lock:
            if not problem:
                if not self.cert_problem:
                    return
                self.cert_problem = ""
                if not self.cfg.trunk.register:  # nothing else would say it is up again
                    self.registered = True
            else:
                repeated, self.cert_problem = problem == self.cert_problem, problem
                self.registered = False
        if problem and not repeated:  # PJSIP retries every 30 s
            log.error("trunk: %s", problem)
        self._update()

    def _ping_loop(self) -> None:
        target = registrar_address(self.cfg.trunk.registrar)
        if target is None:
            return
        interval = self.cfg.trunk.keepalive_interval_s
        bind = self.cfg.sip.bind_address if self.cfg.sip.bind_address != "0.0.0.0" else ""
        while not self._stop.is_set():
            ok = self._ping(target, bind)
            with self._lock:
                if ok:
                    self.misses, self.options_ok, self.last_reply = 0, True, time.monotonic()
                else:
                    self.misses += 1
                    if self.misses >= MISSES_BEFORE_DOWN:
                        self.options_ok = False
            self._update()
            self._stop.wait(interval if ok else min(interval, 5))

    def _ping(self, target: tuple[str, int], bind: str) -> bool:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((bind, 0))
                sock.settimeout(2.0)
                host, port = sock.getsockname()
                uri = f"sip:{target[0]}:{target[1]}"
                data, call_id = sip.build_options(uri, bind or host, port)
                sock.sendto(data, target)
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    reply, _ = sock.recvfrom(65535)
                    try:
                        msg = sip.parse(reply)
                    except sip.SipParseError:
                        continue
                    if msg.status is not None and msg.status >= 200 and msg.header("call-id") == call_id:
                        return True
        except (OSError, TimeoutError):
            return False
        return False

    def _update(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            if self.registered is False and self.cert_problem:
                state, detail = "down", self.cert_problem
            elif self.registered is False:
                state, detail = "down", f"registration failed ({self.reg_detail})"
            elif self.options_ok is False:
                state, detail = "down", f"the provider does not answer OPTIONS ({self.misses} misses)"
            elif self.registered is None or self.options_ok is None:
                state, detail = "registering", "waiting for the provider"
            else:
                state, detail = "up", "registered" if self.cfg.trunk.register else "provider answers"
            changed = state != self.state
            self.state, self.detail = state, detail
        if changed:
            log.info("trunk %s: %s", state, detail)
            if state == "up":
                self.notify.up(reason=detail)
            elif state == "down":
                self.notify.down(reason=detail)

    def reconfigure(self, cfg: Config, *, reregister: bool) -> None:
        """A reloaded ``[trunk]``: ping the (new) registrar afresh; ``reregister``: the
        trunk registers again (``trunk_live``), so its registration is judged afresh too."""
        if cfg.trunk == self.cfg.trunk:
            self.cfg = cfg
            return
        self.stop()
        with self._lock:
            was, target = self.state, self.cfg.trunk.registrar
            self.cfg = cfg
            self.enabled = cfg.trunk.enabled
            if reregister or not cfg.trunk.register:
                self.registered = None if cfg.trunk.register else True
            pings = bool(cfg.trunk.keepalive_interval_s) and cfg.trunk.transport == "udp"
            if pings != self.pings or target != cfg.trunk.registrar:  # a new target: no answer from it yet
                self.options_ok, self.misses = (None if pings else True), 0
            self.pings = pings
            if not self.enabled:
                self.state, self.detail = "disabled", "no trunk configured"
            elif was == "disabled":
                self.state = "registering"
        self._stop = threading.Event()
        self._thread = None
        if self.enabled:
            self.start()
        elif was != "disabled":
            self.notify.down(reason="disabled")

    def view(self) -> dict[str, Any]:
        with self._lock:
            return {"state": self.state, "detail": self.detail}
