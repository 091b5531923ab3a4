"""The one thread that owns PJSUA2.

PJSUA2 aborts the process if a thread it does not know touches it, and
Python's GC destroys PJSUA2 objects nobody references. So: one thread
creates the Endpoint (``threadCnt = 0``, ``mainThreadOnly``), polls
``libHandleEvents`` in a loop, runs the commands other threads queue with
:meth:`PjLoop.submit`, fires timers, and is the only place any PJSUA2
object is touched. PJSUA2 callbacks only record what happened and queue
the reaction with :meth:`PjLoop.soon`, so no object is destroyed inside its
own callback. Nothing on this thread blocks: no DB writes, no TTS, no
serial I/O.

Any: 14, pjsua2 objects (4: endpoint, log entry, rejected-call parameters, accounts kept
alive) and the command queue (10: any function, with its arguments and result, runs on the loop).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import queue
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pjsua2 as pj

from appliance.config import Config
from appliance.errors import SwitchboardError
from appliance.privacy import mask_phone
from appliance.switchboard import budget, owned, siptls
from appliance.switchboard.capacity import Capacity, build_info, engine_name, probe_calls, probe_players
from appliance.switchboard.media import write_silence
from appliance.switchboard.timers import TimerHandle, TimerQueue

log = logging.getLogger(__name__)
pjlog = logging.getLogger("clinicbox.pjsip")
wire = logging.getLogger("clinicbox.wire.sip")

TICK_MS = 10
_NUMBER = re.compile(r"\+?\d{6,}")


class _LogWriter(pj.LogWriter):  # type: ignore[misc]
    """PJSIP's log, into Python logging; SIP messages to the wire logger, masked."""

    quiet = False  # during the capacity probe PJSIP's refusals are expected

    def write(self, entry: Any) -> None:
        text = entry.msg.rstrip()
        if self.quiet and entry.level > 0:
            pjlog.debug("%s", text)
            return
        masked = _NUMBER.sub(lambda m: mask_phone(m.group(0)), text)
        if "\n" in text and ("SIP/2.0" in text):
            wire.debug("%s", masked)
        elif entry.level <= 1:
            pjlog.error("%s", masked)
        elif entry.level <= 2:
            pjlog.warning("%s", masked)
        else:
            pjlog.debug("%s", masked)


class _Endpoint(pj.Endpoint):  # type: ignore[misc]
    """The endpoint, reporting calls PJSUA refused on its own (over its call cap)."""

    def __init__(self, on_rejected: Callable[[str, int, str], None]) -> None:
        super().__init__()
        self._on_rejected = on_rejected
        self.on_tls_checked: Callable[[siptls.Rejection | None], None] = lambda rejection: None
        self.tls_host = ""  # the host outgoing TLS connections go to (the provider's)

    def onRejectedIncomingCall(self, prm: Any) -> None:
        try:
            source = str(prm.rdata.srcAddress)
            whole = str(prm.rdata.wholeMsg)
        except Exception:
            source, whole = "", ""
        self._on_rejected(source, int(prm.statusCode), whole)

    def onTransportState(self, prm: Any) -> None:
        try:
            rejection = siptls.rejection_from(prm)
            verified = rejection is None and siptls.verified_peer(prm)
            if verified and (rejection := siptls.alt_name_mismatch(prm, self.tls_host)) is not None:
                self.transportShutdown(prm.hnd)  # now: before PJSIP sends the REGISTER waiting on it
        except Exception:
            log.exception("reading a TLS transport state failed")
            return
        if rejection is not None:
            self.on_tls_checked(rejection)
        elif verified:
            self.on_tls_checked(None)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class PjLoop:
    """Start with :meth:`start`; everything PJSUA2 then happens on its thread."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.ep: Any = None
        self.capacity: Capacity | None = None
        self._commands: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Future[Any] | None]] = (
            queue.SimpleQueue()
        )
        self._soon: collections.deque[Callable[[], None]] = collections.deque()  # append is thread-safe
        self._timers = TimerQueue()
        self._thread: threading.Thread | None = None
        self._ready: Future[Capacity] = Future()
        self._running = False
        self._writer: _LogWriter | None = None
        self.last_tick = 0.0
        self.collector = owned.Collector()
        self.budget = budget.for_config(cfg)
        self.tls_error = ""
        self.udp_transport: int | None = None
        self.tls_transport: int | None = None
        # A provider certificate PJSIP refused (called on this thread).
        self.on_tls_checked: Callable[[siptls.Rejection | None], None] = lambda rejection: None
        self.keepalive: list[Any] = []  # objects that must outlive libDestroy (accounts)
        self.on_started: list[Callable[[], None]] = []  # run on the loop after the endpoint starts
        self.on_stopping: list[Callable[[], None]] = []  # run on the loop before libDestroy
        self.on_tick: list[Callable[[], None]] = []  # every ~100 ms
        # (source, status, raw INVITE) of calls PJSUA refused by itself; called on this thread.
        self.on_rejected: Callable[[str, int, str], None] = lambda source, code, msg: None
        # Work queued from another thread would wait for libHandleEvents' timeout
        # (up to TICK_MS). A CRLF keep-alive (RFC 5626) sent to our own SIP port
        # ends the poll at once; PJSIP drops it without a trace.
        self._wake_to: tuple[str, int] | None = None
        self._wake_sock: socket.socket | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> Capacity:
        self._thread = threading.Thread(target=self._main, name="pjsua2", daemon=True)
        self._thread.start()
        return self._ready.result(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if self._thread is None:
            return
        self._running = False
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            log.error("the PJSUA2 thread did not stop within %.0f s", timeout)

    def healthy(self, max_stall_s: float = 5.0) -> bool:
        return self._running and time.monotonic() - self.last_tick < max_stall_s

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    # -- cross-thread API ------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` on the PJSUA2 thread; the future carries its result."""
        fut: Future[Any] = Future()
        if not self._running:
            fut.set_exception(SwitchboardError("the switchboard is not running"))
            return fut
        self._commands.put((fn, args, fut))
        self._wake()
        return fut

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 5.0) -> Any:
        """:meth:`submit` and wait (for control-socket commands)."""
        if self.in_loop:
            return fn(*args)
        return self.submit(fn, *args).result(timeout=timeout)

    # -- loop-thread API ---------------------------------------------------------
    def soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on this thread right after the current callback returns.

        Safe from any thread (media callbacks such as end-of-prompt may come
        from PJMEDIA's clock thread): the deque's append is atomic.
        """
        self._soon.append(fn)
        if threading.current_thread() is not self._thread:
            self._wake()

    def _wake(self) -> None:
        """End the PJSUA2 thread's poll now (called from other threads)."""
        sock, to = self._wake_sock, self._wake_to
        if sock is not None and to is not None:
            try:
                sock.sendto(b"\r\n\r\n", to)
            except OSError:
                pass  # a full socket buffer means the loop is awake already

    def later(self, seconds: float, fn: Callable[[], None]) -> TimerHandle:
        return self._timers.add(time.monotonic() + max(0.0, seconds), fn)

    def pump(self, seconds: float) -> None:
        """Handle PJSUA2 events for ``seconds`` (start-up and shutdown only)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ep.libHandleEvents(TICK_MS)
        self._run_soon()

    # -- the thread ----------------------------------------------------------------
    def _main(self) -> None:
        owned.adopt(self._thread)
        self.collector.start()
        try:
            self._init_endpoint()
        except Exception as exc:
            log.exception("PJSUA2 failed to start")
            self._ready.set_exception(SwitchboardError(f"the SIP engine failed to start: {exc}"))
            self._destroy()
            return
        self._running = True
        try:
            for fn in self.on_started:
                fn()
        except Exception as exc:
            log.exception("switchboard start-up failed")
            self._running = False
            self._ready.set_exception(SwitchboardError(f"the switchboard failed to start: {exc}"))
            self._destroy()
            return
        assert self.capacity is not None
        self._ready.set_result(self.capacity)
        next_tick = 0.0
        while self._running:
            self.last_tick = time.monotonic()
            try:
                self.ep.libHandleEvents(TICK_MS)
                self._run_soon()
                self._run_commands()
                self._run_timers()
                if self.last_tick >= next_tick:
                    next_tick = self.last_tick + 0.1
                    for fn in self.on_tick:
                        fn()
                    self.collector.tick()
                self._run_soon()
                owned.release()
            except Exception:
                log.exception("error in the switchboard loop (continuing)")
        try:
            for fn in self.on_stopping:
                fn()
        except Exception:
            log.exception("switchboard shutdown step failed")
        self._destroy()

    def _run_soon(self) -> None:
        for _ in range(10000):
            try:
                fn = self._soon.popleft()
            except IndexError:
                return
            try:
                fn()
            except Exception:
                log.exception("switchboard task failed")

    def _run_commands(self) -> None:
        for _ in range(64):
            try:
                fn, args, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            if fut is not None and not fut.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                if fut is not None:
                    fut.set_exception(exc)
                else:
                    log.exception("switchboard command failed")
            else:
                if fut is not None:
                    fut.set_result(result)
            self._run_soon()

    def _run_timers(self) -> None:
        now = time.monotonic()
        while (handle := self._timers.pop_due(now)) is not None:
            try:
                handle.callback()
            except Exception:
                log.exception("switchboard timer failed")
            self._run_soon()

    def _init_endpoint(self) -> None:
        cfg = self.cfg
        ep = _Endpoint(lambda source, code, msg: self.soon(lambda: self.on_rejected(source, code, msg)))
        ep.on_tls_checked = lambda rejection: self.soon(lambda: self.on_tls_checked(rejection))
        ep.tls_host = siptls.trunk_host(cfg) if cfg.trunk.enabled else ""
        with _quiet_stdout():  # pjlib prints its banner before any log config applies
            ep.libCreate()
        self.ep = ep
        ep_cfg = pj.EpConfig()
        ua = ep_cfg.uaConfig
        ua.maxCalls = cfg.sip.max_calls
        ua.threadCnt = 0
        ua.mainThreadOnly = True
        ua.userAgent = cfg.sip.user_agent or "SIP UA"  # pjsua's default names itself and its version
        log_cfg = ep_cfg.logConfig
        self._writer = _LogWriter()
        log_cfg.writer = self._writer
        log_cfg.level = 5 if cfg.logging.sip_trace else 2
        log_cfg.consoleLevel = log_cfg.level  # a LogWriter only gets lines at or below consoleLevel
        log_cfg.msgLogging = bool(cfg.logging.sip_trace)
        log_cfg.decor = 0
        med = ep_cfg.medConfig
        med.clockRate = 8000
        med.sndClockRate = 8000
        med.channelCount = 1
        med.noVad = True
        med.ecTailLen = 0
        med.maxMediaPorts = self.budget.ports  # the bridge sized for the config's load (budget.py)
        ep.libInit(ep_cfg)
        tcfg = pj.TransportConfig()
        # Behind the SIP edge the core listens on the loopback only: every request reaches it through Kamailio.
        sip_address, sip_port = (
            ("127.0.0.1", cfg.edge.core_port) if cfg.edge.enabled else (cfg.sip.bind_address, cfg.sip.port)
        )
        tcfg.port = sip_port
        tcfg.boundAddress = sip_address
        if cfg.sip.public_address and not cfg.edge.enabled:
            tcfg.publicAddress = cfg.sip.public_address
        try:
            udp = self.udp_transport = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        except pj.Error as exc:
            key = "edge.core_port" if cfg.edge.enabled else "sip.port"
            raise SwitchboardError(
                f"cannot listen for SIP on {sip_address}:{sip_port} ({exc.reason}); "
                f"is another PBX or a second ClinicBox running? Change {key} or stop it"
            ) from None
        host, _, port = ep.transportGetInfo(udp).localName.rpartition(":")
        if ":" not in host:  # IPv4 (the loop then simply polls for IPv6 binds)
            self._wake_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._wake_sock.setblocking(False)
            self._wake_to = ("127.0.0.1" if host in ("0.0.0.0", "") else host, int(port))
        self.tls_error = ""
        if cfg.sip.tls:
            tls = pj.TransportConfig()
            tls.port = cfg.sip.tls_port
            tls.boundAddress = cfg.sip.bind_address
            if cfg.sip.public_address:
                tls.publicAddress = cfg.sip.public_address
            try:
                siptls.configure_transport(tls.tlsConfig, siptls.listener_files(cfg))
                self.tls_transport = ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, tls)
            except (pj.Error, OSError, ValueError) as exc:
                self.tls_error = f"SIP over TLS unavailable ({getattr(exc, 'reason', None) or exc})"
                log.error("%s; the trunk will not be used over UDP instead", self.tls_error)
        ep.libStart()
        ep.audDevManager().setNullDev()
        self._set_codecs()
        tls, srtp, devices = build_info(pj, ep)
        calls_allowed = self._probe()
        if self._writer is not None:
            self._writer.quiet = True  # the probe's last player is refused by design
        try:
            players = probe_players(pj, write_silence(cfg.prompt_cache_dir / "probe-silence.wav"), self.budget.players)
        finally:
            if self._writer is not None:
                self._writer.quiet = False
        allowed = min(calls_allowed, budget.lines_for_players(self.budget, players))
        limited_by = "" if allowed >= cfg.sip.max_calls else ("calls" if allowed == calls_allowed else "players")
        self.capacity = Capacity(
            requested=cfg.sip.max_calls,
            allowed=allowed,
            players_max=int(ep.mediaMaxPorts()),  # conference bridge slots: every player, recorder and call
            tls=tls,
            srtp=srtp,
            sound_devices=devices,
            pjsip_version=ep.libVersion().full,
            engine=engine_name(),
            players_allowed=players,
            budget=self.budget.as_dict(),
            limited_by=limited_by,
        )
        log.info("switchboard capacity: %s", self.capacity.describe())
        if limited_by:
            log.warning(
                "this PJSUA2 build allows only %d concurrent calls (sip.max_calls = %d; limited by its %s); "
                "callers beyond it get busy and a callback. Build the engine with firmware/pjproject",
                allowed,
                cfg.sip.max_calls,
                limited_by,
            )

    def _set_codecs(self) -> None:
        wanted = [c.upper() for c in self.cfg.sip.codecs]
        for info in self.ep.codecEnum2():
            name = info.codecId.split("/")[0].upper()
            priority = 255 - wanted.index(name) if name in wanted else 0
            self.ep.codecSetPriority(info.codecId, priority)

    def _probe(self) -> int:
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = "sip:capacity-probe@127.0.0.1"
        acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        acc_cfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        account = pj.Account()
        account.create(acc_cfg, False)
        if self._writer is not None:
            self._writer.quiet = True
        try:
            return probe_calls(pj, self.ep, account, self.cfg.sip.max_calls, self.pump)
        finally:
            if self._writer is not None:
                self._writer.quiet = False
            account.shutdown()
            del account

    def _destroy(self) -> None:
        try:
            self._destroy_endpoint()
        finally:
            owned.adopt(None)
            self.collector.stop()
            sock, self._wake_to, self._wake_sock = self._wake_sock, None, None
            if sock is not None:
                sock.close()

    def _destroy_endpoint(self) -> None:
        if self.ep is None:
            return
        try:
            self.ep.hangupAllCalls()
            self.pump(0.3)
        except Exception:
            pass
        # A Call or player that outlives libDestroy aborts the process when Python
        # finally frees it; timers and queued tasks hold them in closures.
        self._timers = TimerQueue()
        self._soon.clear()
        while not self._commands.empty():
            _, _, fut = self._commands.get_nowait()
            if fut is not None and not fut.done():
                fut.set_exception(SwitchboardError("the switchboard stopped"))
        owned.release()
        gc.collect()
        try:
            # Accounts stay referenced through libDestroy (a MESSAGE in flight reports
            # to its account); BYEs and un-REGISTERs are already out: no network wait.
            self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        except Exception:
            log.exception("libDestroy failed")
        self.ep = None
        self.keepalive.clear()
        self._running = False
