"""The MLLP listener: a thin TCP adapter between a practice system and :class:`~appliance.feeds.intake.Intake`.

MLLP frames a message as ``<VT> message <FS><CR>``; each message gets an
acknowledgement in the same framing on the same connection, sent only after
the intake has committed it. The listener itself only guards the door:

* a sender whose address is not on ``allowed_senders`` is closed at once,
  unanswered (its address is logged; it is not patient data);
* a frame longer than ``max_message_kb`` is answered AR and the connection
  closed, nothing applied;
* a frame that does not end within ``read_timeout_s`` of its start is
  dropped with its connection, nothing applied;
* with a certificate (``tls_cert_file``), MLLP runs inside TLS and a
  sender that does not complete the handshake in time is dropped;
* at most :data:`MAX_CONNECTIONS` senders at once; an idle connection is
  closed after :data:`IDLE_S`.

Nothing here logs message content.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import ClinicBoxError

log = logging.getLogger(__name__)

START, END, CR = b"\x0b", b"\x1c", b"\r"
MAX_CONNECTIONS = 16
IDLE_S = 600.0
#: What the listener hands a frame's payload to; returns the ACK text.
Handler = Callable[[bytes], str]
#: Builds the AR for an oversized frame from its first bytes (to echo the control ID).
Oversize = Callable[[bytes, int], str]


@dataclass
class Limits:
    allowed: list[str]
    max_bytes: int
    read_timeout_s: float
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(init=False)

    def __post_init__(self) -> None:
        self.networks = [ipaddress.ip_network(a, strict=False) for a in self.allowed]

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)


@dataclass
class Counters:
    connections: int = 0
    refused_senders: int = 0
    frames: int = 0
    oversized: int = 0
    timeouts: int = 0
    last_refused: str = ""


class MllpListener:
    """Accepts MLLP connections on ``host:port`` and answers each frame through ``handler``.

    Example:
        >>> listener = MllpListener("127.0.0.1", 0, Limits(["127.0.0.1"], 65536, 10.0), intake_ack, oversize_ack)
        >>> listener.start(); port = listener.port  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str,
        port: int,
        limits: Limits,
        handler: Handler,
        oversize: Oversize,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.tls = tls
        self.limits = limits
        self.handler = handler
        self.oversize = oversize
        self.counters = Counters()
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1]) if self._sock else self._requested_port

    @property
    def listening(self) -> bool:
        return self._sock is not None

    def start(self) -> None:
        """Bind and start accepting.

        Raises:
            ClinicBoxError: the address cannot be bound (in use, or not this box's).
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise ClinicBoxError(
                f"the HL7 listener cannot use {self.host}:{self._requested_port} ({exc.strerror}); "
                "set feeds.hl7.host/port to a free address of this box"
            ) from None
        sock.listen(32)
        sock.settimeout(0.5)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="hl7-mllp", daemon=True)
        self._thread.start()
        log.info("HL7 listener on %s:%d", self.host, self.port)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            for conn in list(self._open):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.1)
                continue
            address = str(addr[0])
            if not self.limits.allows(address):
                self.counters.refused_senders += 1
                self.counters.last_refused = address
                log.warning("HL7 connection from %s refused: not in feeds.hl7.allowed_senders", address)
                conn.close()
                continue
            if not self._slots.acquire(blocking=False):
                log.warning("HL7 connection from %s refused: %d connections already open", address, MAX_CONNECTIONS)
                conn.close()
                continue
            self.counters.connections += 1
            threading.Thread(target=self._serve, args=(conn, address), name="hl7-conn", daemon=True).start()

    def _serve(self, conn: socket.socket, address: str) -> None:
        with self._lock:
            self._open.add(conn)
        try:
            if self.tls is not None:
                conn.settimeout(self.limits.read_timeout_s)
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    log.warning("HL7 TLS handshake with %s failed: %s", address, getattr(exc, "reason", None) or exc)
                    return
            self._frames(conn, address)
        except OSError as exc:
            log.info("HL7 connection from %s ended: %s", address, exc.strerror or type(exc).__name__)
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()
            self._slots.release()

    def _frames(self, conn: socket.socket, address: str) -> None:
        buffer = b""
        started: float | None = None  # monotonic time the current frame began
        while not self._stop.is_set():
            if started is None:
                conn.settimeout(IDLE_S)
            else:
                left = started + self.limits.read_timeout_s - time.monotonic()
                if left <= 0:
                    self._timed_out(address)
                    return
                conn.settimeout(left)
            try:
                data = conn.recv(65536)
            except TimeoutError:
                if started is not None:
                    self._timed_out(address)
                return
            if not data:
                if started is not None:
                    log.warning("HL7 sender %s closed the connection inside a frame; nothing applied", address)
                return
            buffer += data
            while True:
                if started is None:
                    at = buffer.find(START)
                    if at < 0:
                        buffer = b""  # noise between frames (stray CR/LF) is dropped
                        break
                    buffer = buffer[at + 1 :]
                    started = time.monotonic()
                end = buffer.find(END)
                limit = self.limits.max_bytes
                if (end < 0 and len(buffer) > limit) or end > limit:
                    self.counters.oversized += 1
                    log.warning("HL7 message from %s is larger than %d bytes: refused", address, limit)
                    conn.sendall(START + self.oversize(buffer[:4096], limit).encode("utf-8") + END + CR)
                    return
                if end < 0:
                    break
                payload, buffer = buffer[:end], buffer[end + 1 :]
                if buffer.startswith(CR):
                    buffer = buffer[1:]
                started = None
                self.counters.frames += 1
                answer = self.handler(payload)
                conn.sendall(START + answer.encode("utf-8") + END + CR)

    def _timed_out(self, address: str) -> None:
        self.counters.timeouts += 1
        log.warning(
            "HL7 frame from %s did not end within %.1f s: dropped, nothing applied", address, self.limits.read_timeout_s
        )
