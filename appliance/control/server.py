"""The control socket server in the core.

Each connection gets a thread (there are a handful: the web UI, doctor, a
technician's script). Commands go to a :class:`Handler` (in the core, the
:class:`~appliance.control.commands.CommandTable` the services fill), which
must answer quickly and never block on PJSUA2: the switchboard's commands
queue work for its thread and wait on a future with a timeout.
Subscribers receive a snapshot on connect and whenever it changes (at
most every ``min_interval`` seconds), plus individual events. A peer the
:class:`~appliance.control.peers.PeerPolicy` does not allow gets one
``forbidden`` reply and is disconnected before it can send a command.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import queue
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from appliance.control.peers import PeerCred, PeerPolicy, peer_credentials
from appliance.control.protocol import ProtocolError, Request, parse_request, push, reply_error, reply_ok
from appliance.errors import ClinicBoxError
from appliance.events import Event, EventBus, EventPrefix

log = logging.getLogger(__name__)

#: Events forwarded to subscribers (prefixes).
FORWARDED: tuple[EventPrefix, ...] = (
    "agent.",
    "call.",
    "queue.",
    "trunk.",
    "modem.",
    "failover.",
    "voicemail.",
    "callback.",
    "store.",
)


class Handler(Protocol):
    def handle(self, request: Request) -> Any:
        """Execute a command; raise ClinicBoxError (shown to the user) on refusal."""
        ...

    def snapshot(self) -> dict[str, Any]: ...


class ControlServer:
    name = "control socket"

    def __init__(
        self,
        path: Path,
        handler: Handler,
        bus: EventBus,
        group: str = "",
        min_interval: float = 0.2,
        *,
        peers: PeerPolicy | None = None,
    ) -> None:
        self.path = Path(path)
        # Default: root, this process's user and the socket group's members.
        self.peers = peers if peers is not None else PeerPolicy.for_config(group)
        self.handler = handler
        self.bus = bus
        self.group = group
        self.min_interval = min_interval
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._dirty = threading.Event()
        # Publishers (the switchboard thread among them) never wait for a
        # subscriber's socket: events queue here and a pusher thread sends.
        self._pushes: queue.Queue[bytes | None] = queue.Queue(maxsize=10000)

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o117)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        if self.group:
            try:
                os.chown(self.path, -1, grp.getgrnam(self.group).gr_gid)
            except (KeyError, PermissionError) as exc:
                log.warning("control socket group %s not applied: %s", self.group, exc)
        os.chmod(self.path, 0o660 if self.group else 0o600)
        sock.listen(16)
        sock.settimeout(0.5)
        self._sock = sock
        self._unsubscribe = self.bus.subscribe(self._on_event)
        for target in (self._accept_loop, self._snapshot_loop, self._push_loop):
            t = threading.Thread(target=target, name=f"control-{target.__name__}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("control socket listening on %s", self.path)

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        self._pushes.put(None)
        if self._unsubscribe:
            self._unsubscribe()
        if self._sock:
            self._sock.close()
        with self._lock:
            subs = list(self._subscribers)
        for sub in subs:
            sub.close()
        for t in self._threads:
            t.join(timeout=2)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def healthy(self) -> bool:
        return all(t.is_alive() for t in self._threads) and not self._stop.is_set()

    # -- connections ----------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="control-conn", daemon=True).start()

    def _admit(self, conn: socket.socket) -> bool:
        """Is the peer allowed? A refused one hears why, once, and is logged."""
        try:
            peer = peer_credentials(conn)
        except OSError as exc:
            log.warning("control socket: no peer credentials (%s); connection refused", exc)
            return False
        if self.peers.allows(peer):
            return True
        log.warning("control socket: refused pid %d (uid %d, gid %d): not allowed", peer.pid, peer.uid, peer.gid)
        with contextlib.suppress(OSError):
            conn.sendall(reply_error(None, "forbidden", _refusal(peer)))
            # Take (and drop) the peer's first line before closing: closing at
            # once would turn the peer's send into EPIPE, and it would never
            # read why it was refused.
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(1.0)
            conn.recv(4096)
        return False

    def _serve(self, conn: socket.socket) -> None:
        if not self._admit(conn):
            with contextlib.suppress(OSError):
                conn.close()
            return
        conn.settimeout(None)
        reader = conn.makefile("rb")
        sub: _Subscriber | None = None
        try:
            for line in reader:
                if not line.strip():
                    continue
                try:
                    request = parse_request(line)
                except ProtocolError as exc:
                    conn.sendall(reply_error(None, exc.code, str(exc)))
                    continue
                if request.cmd == "subscribe":
                    sub = _Subscriber(conn)
                    with self._lock:
                        self._subscribers.add(sub)
                    sub.send(reply_ok(request.id, {"subscribed": True}))
                    sub.send(push("snapshot", self.handler.snapshot()))
                    continue
                conn.sendall(self._dispatch(request))
        except (OSError, ValueError):
            pass
        finally:
            if sub is not None:
                with self._lock:
                    self._subscribers.discard(sub)
            with contextlib.suppress(OSError):
                conn.close()

    def _dispatch(self, request: Request) -> bytes:
        try:
            if request.cmd == "ping":
                return reply_ok(request.id, {"pong": True})
            if request.cmd == "status":
                return reply_ok(request.id, self.handler.snapshot())
            return reply_ok(request.id, self.handler.handle(request))
        except ClinicBoxError as exc:
            return reply_error(request.id, getattr(exc, "code", "refused"), str(exc))
        except Exception as exc:
            log.exception("control command %s failed", request.cmd)
            return reply_error(request.id, "internal", f"the box failed to run {request.cmd}: {exc}")

    # -- pushes -----------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if not event.kind.startswith(FORWARDED):
            return
        self._dirty.set()
        try:
            self._pushes.put_nowait(push(event.kind, event.data))
        except queue.Full:
            log.warning("control socket push queue full; dropping %s", event.kind)

    def _push_loop(self) -> None:
        while not self._stop.is_set():
            line = self._pushes.get()
            if line is None:
                return
            with self._lock:
                subs = list(self._subscribers)
            for sub in subs:
                sub.send(line)

    def _snapshot_loop(self) -> None:
        last: dict[str, Any] | None = None
        while not self._stop.is_set():
            self._dirty.wait(timeout=1.0)
            self._dirty.clear()
            if self._stop.is_set():
                return
            with self._lock:
                subs = list(self._subscribers)
            if not subs:
                last = None
                continue
            try:
                snap = self.handler.snapshot()
            except Exception:
                log.exception("snapshot failed")
                continue
            if snap != last:
                line = push("snapshot", snap)
                for sub in subs:
                    sub.send(line)
                last = snap
            self._stop.wait(self.min_interval)


def _refusal(peer: PeerCred) -> str:
    return (
        f"uid {peer.uid} may not command the ClinicBox core; "
        "allowed: root, the core's user, the control socket's group and control.allowed_users"
    )


class _Subscriber:
    """One subscribed connection; a slow reader is dropped, never waited for."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self.closed = False
        # A send timeout only: a timeout set with settimeout() would also end
        # the connection's read loop (which waits, blocking, for more commands).
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 2, 0))

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        with self._lock:
            try:
                self.conn.sendall(data)
            except OSError:
                self.close()

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)
