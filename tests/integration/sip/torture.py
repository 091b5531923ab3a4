"""Sends RFC 4475's torture messages to a SIP element and reports what came back.

The messages are the RFC's own files, byte for byte (tests/fixtures/rfc4475,
source in its SOURCE.md). Only the top Via of a request is rewritten: its
sent-by becomes the test socket's address, so answers come back to the test;
transport, branch and every other octet stay. Responses are sent untouched.
Each message goes out on a fresh socket (UDP) or connection (TCP), so a
message that leaves a stream waiting for missing octets cannot swallow the
next one; after it a plain OPTIONS on the same transport checks the element
still answers.

    results = run_all("127.0.0.1", port, "udp")
    bad = [r for r in results if not r.as_expected]
"""

from __future__ import annotations

import re
import socket
import ssl
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rfc4475"
SOURCE = "RFC 4475 archive files, tests/fixtures/rfc4475 (see SOURCE.md there)"

_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_TOP_VIA = re.compile(rb"(?im)^(?:via|v)[ \t]*:")
_SENT_BY = re.compile(rb"\s*SIP\s*/\s*[0-9.]+\s*/\s*[A-Za-z]+\s+(\[[^\]]*\]|[^;,\s:]+)(:[0-9]+)?")
_STATUS = re.compile(rb"(?m)^SIP/2\.0 ([0-9]{3})[ \r]")


@dataclass(frozen=True)
class Torture:
    """One RFC 4475 message and what the RFC expects for it (expected.toml)."""

    name: str
    section: str
    kind: str
    data: bytes
    expected: dict[str, list[str]]
    rfc: str
    note: str = ""
    edge: list[str] = field(default_factory=list)


@dataclass
class Result:
    """What an element did with one message over one transport."""

    name: str
    transport: str
    statuses: list[int] = field(default_factory=list)
    options_answered: bool = False
    elapsed: float = 0.0
    expected: list[str] = field(default_factory=list)
    deviation: list[str] = field(default_factory=list)

    @property
    def final(self) -> int | None:
        """The first final status, or None (no final answer: dropped)."""
        return next((s for s in self.statuses if s >= 200), None)

    @property
    def outcome(self) -> str:
        return "drop" if self.final is None else str(self.final)

    @property
    def as_expected(self) -> bool:
        """The RFC's outcome, or the edge's documented deviation (expected.toml ``edge``)."""
        return outcome_allowed(self.final, self.expected) or (
            bool(self.deviation) and outcome_allowed(self.final, self.deviation)
        )

    @property
    def deviates(self) -> bool:
        """Whether the outcome is one the RFC does not allow (a documented deviation)."""
        return not outcome_allowed(self.final, self.expected)


def outcome_allowed(final: int | None, allowed: list[str]) -> bool:
    """Whether a final status (None: no answer) is one the table allows."""
    if final is None:
        return "drop" in allowed
    return "final" in allowed or str(final) in allowed


def load(fixtures: Path = FIXTURES) -> list[Torture]:
    """All 49 messages in RFC order, with their expected outcomes."""
    table = tomllib.loads((fixtures / "expected.toml").read_text(encoding="utf-8"))
    out = [
        Torture(
            name=name,
            section=row["section"],
            kind=row["kind"],
            data=(fixtures / f"{name}.dat").read_bytes(),
            expected={"udp": list(row["udp"]), "tcp": list(row["tcp"])},
            rfc=row["rfc"],
            note=row.get("note", ""),
            edge=list(row.get("edge", [])),
        )
        for name, row in table.items()
    ]
    return sorted(out, key=lambda t: [int(p) for p in t.section.split(".")])


def rewrite_top_via(data: bytes, host: str, port: int) -> bytes:
    """``data`` with the sent-by of its first Via set to ``host:port``; nothing else changes."""
    end = _HEADERS_END.search(data)
    limit = end.start() if end else len(data)
    first_line = data.find(b"\n")
    m = _TOP_VIA.search(data, first_line + 1 if first_line >= 0 else 0, limit)
    if m is None:
        return data
    s = _SENT_BY.match(data, m.end())
    if s is None:
        return data
    start, stop = s.start(1), (s.end(2) if s.group(2) else s.end(1))
    return data[:start] + f"{host}:{port}".encode() + data[stop:]


def options(host: str, port: int, local_port: int, transport: str) -> bytes:
    """A plain, well-formed OPTIONS from the test socket."""
    branch, call_id = f"z9hG4bK{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    proto = transport.upper()
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{proto} 127.0.0.1:{local_port};branch={branch};rport\r\n"
        f"From: <sip:probe@127.0.0.1:{local_port}>;tag=p{local_port}\r\nTo: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def invite(host: str, port: int, local_port: int, transport: str = "udp") -> bytes:
    """A plain INVITE with an SDP offer, as a real caller sends it."""
    branch, call_id = f"z9hG4bK{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    sdp = (
        "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    )
    return (
        f"INVITE sip:clinic@{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:{local_port};branch={branch};rport\r\n"
        f"From: <sip:caller@127.0.0.1:{local_port}>;tag=c{local_port}\r\nTo: <sip:clinic@{host}:{port}>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{local_port}>\r\n"
        f"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def _client_tls() -> ssl.SSLContext:
    """A TLS client as a desk phone that accepts the box's self-signed certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _statuses(buf: bytes) -> list[int]:
    return [int(m.group(1)) for m in _STATUS.finditer(buf)]


def exchange(
    host: str, port: int, data: bytes, transport: str, *, rewrite: bool = True, wait: float = 0.6
) -> list[int]:
    """Send one message on a fresh socket; the statuses of every answer, in order.

    Stops ``settle`` seconds after the first final answer, or after ``wait``
    seconds with none, or when a TCP peer closes the connection.
    """
    settle, buf = 0.05, b""
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as raw:
        raw.bind(("127.0.0.1", 0))
        s = raw
        if transport in ("tcp", "tls"):
            raw.settimeout(wait if transport == "tcp" else max(wait, 2.0))  # (a TLS handshake first)
            raw.connect((host, port))
            if transport == "tls":  # the same octets inside TLS (RFC 3261 26.2: sips/TLS to the edge)
                s = _client_tls().wrap_socket(raw)
        local = s.getsockname()[1]
        payload = rewrite_top_via(data, "127.0.0.1", local) if rewrite else data
        if transport == "udp":
            s.sendto(payload, (host, port))
        else:
            s.sendall(payload)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            buf += chunk
            if any(code >= 200 for code in _statuses(buf)):
                deadline = min(deadline, time.monotonic() + settle)
        if s is not raw:
            s.close()
    return _statuses(buf)


def answer_time(host: str, port: int, wait: float = 1.0) -> tuple[int | None, float]:
    """A real caller's INVITE over UDP: its final status and how long it took (seconds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        started = time.monotonic()
        s.sendto(invite(host, port, s.getsockname()[1]), (host, port))
        deadline = started + wait
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                codes = _statuses(s.recv(65536))
            except TimeoutError:
                break
            final = next((c for c in codes if c >= 200), None)
            if final is not None:
                return final, time.monotonic() - started
    return None, wait


def ping(host: str, port: int, transport: str, wait: float = 1.0) -> bool:
    """Whether the element answers a plain OPTIONS (any final status)."""
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
    # the probe builds its own Via; exchange() would rewrite it to the same address anyway
    probe = options(host, port, local, transport)
    return any(code >= 200 for code in exchange(host, port, probe, transport, wait=wait))


def run_one(host: str, port: int, msg: Torture, transport: str) -> Result:
    started = time.monotonic()
    statuses = exchange(host, port, msg.data, transport, rewrite=msg.kind == "request")
    result = Result(msg.name, transport, statuses, expected=msg.expected[transport], deviation=msg.edge)
    result.elapsed = time.monotonic() - started
    result.options_answered = ping(host, port, transport)
    return result


def run_all(host: str, port: int, transport: str, messages: list[Torture] | None = None) -> list[Result]:
    """Every message over ``transport`` ("udp", "tcp" or "tls"), each followed by an OPTIONS."""
    return [run_one(host, port, m, transport) for m in (messages if messages is not None else load())]


def table(results: list[Result]) -> str:
    """A readable per-message report for assertion messages."""
    lines = [f"{'message':<12} {'via':<4} {'got':<6} {'allowed':<16} options  statuses"]
    for r in results:
        mark = "" if r.as_expected and r.options_answered else "  <-- WRONG"
        if r.as_expected and r.deviates:
            mark = "  (documented deviation)"
        lines.append(
            f"{r.name:<12} {r.transport:<4} {r.outcome:<6} {','.join(r.expected):<16} "
            f"{'yes' if r.options_answered else 'NO':<8} {r.statuses}{mark}"
        )
    return "\n".join(lines)
