"""SIP edge benchmark: what Kamailio in front of the core costs.

    python -m bench.edge [--calls 100] [--registers 100] [--starts 5]

1. **edge start**: ``clinicbox edge`` (render + exec kamailio) until its RPC
   socket answers, ``--starts`` times;
2. **REGISTER round trip**: a desk phone (a plain UDP client on 127.0.0.2,
   untrusted: pike and the ACL run) REGISTERs, gets the 401 challenge and
   REGISTERs again with digest credentials; the time from the first
   REGISTER to the 200 (two round trips through the registrar);
3. **INVITE added latency**: the same caller (INVITE → 200 from the IVR,
   ACK, BYE; one call at a time, timed with perf_counter, since SIPp's
   -trace_rtt counts whole milliseconds) against a core without an edge
   and a core behind it; INVITE→200 p50/p95 of each, and the difference.

Not a test; never in CI. Prints its figures.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.calls import pct
from tests.conftest import free_port
from tests.integration.edge.conftest import Edge, station_password
from tests.integration.switchboard.box import Box

DESK = {"desk1": {"name": "Desk 1", "queues": ["front-desk"]}}


def _box(directory: Path, edge: bool) -> Box:
    overlay = {"sip": {"max_calls": 64}}
    if edge:
        overlay["edge"] = {"enabled": True, "core_port": free_port(), "pike_requests": 5000}  # type: ignore[assignment]
    return Box(directory, overlay, stations=DESK)


def _wait_port_free(port: int) -> None:
    """Kamailio's children leave a moment after its main process: wait until its TCP port is free."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                time.sleep(0.1)


def edge_starts(box: Box, count: int) -> list[float]:
    times = []
    for _ in range(count):
        e = Edge(box)
        times.append(e.start_s)
        e.close()
        _wait_port_free(box.sip_port)
    return times


def _exchange(sock: socket.socket, msg: str, port: int, want: str) -> tuple[float, str]:
    """Send one request; seconds until the final answer starting with ``want``, and that answer."""
    t0 = time.perf_counter()
    sock.sendto(msg.encode(), ("127.0.0.1", port))
    while True:
        data = sock.recv(65536).decode(errors="replace")
        if data.startswith("SIP/2.0 1"):
            continue
        if not data.startswith("SIP/2.0 "):
            continue  # a request (a retransmission of ours looped? an OPTIONS): not the answer
        assert data.startswith(want), data.splitlines()[0]
        return time.perf_counter() - t0, data


def _header(msg: str, name: str) -> str:
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def registers(box: Box, count: int) -> list[float]:
    """REGISTER → 401 → REGISTER with digest → 200, from 127.0.0.2 (untrusted), in ms."""
    password = station_password(box)
    port = box.sip_port
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        s.settimeout(5)
        lport = s.getsockname()[1]
        for i in range(count):
            call_id = uuid.uuid4().hex

            def reg(cseq: int, auth: str = "", i: int = i, call_id: str = call_id) -> str:
                return (
                    f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.2:{lport};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
                    f"From: <sip:desk1@127.0.0.1:{port}>;tag=b{i}\r\nTo: <sip:desk1@127.0.0.1:{port}>\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n{auth}"
                    f"Contact: <sip:desk1@127.0.0.2:{lport}>\r\nExpires: 300\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n"
                )

            t1, challenge = _exchange(s, reg(1), port, "SIP/2.0 401")
            params = dict(re.findall(r'(\w+)="([^"]*)"', _header(challenge, "WWW-Authenticate")))
            realm, nonce = params["realm"], params["nonce"]
            uri = f"sip:127.0.0.1:{port}"
            ha1 = hashlib.md5(f"desk1:{realm}:{password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
            response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
            auth = (
                f'Authorization: Digest username="desk1", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                f'response="{response}", algorithm=MD5\r\n'
            )
            t2, _ = _exchange(s, reg(2, auth), port, "SIP/2.0 200")
            out.append((t1 + t2) * 1000)
    return out


SDP = (
    "v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
)


def invites(box: Box, count: int) -> list[float]:
    """INVITE → 200 (the IVR answers) in ms, then ACK and BYE; one call at a time."""
    port = box.sip_port
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        lport = s.getsockname()[1]
        for i in range(count):
            call_id, tag = uuid.uuid4().hex, f"a{i}"
            base = (
                f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{{b}};rport\r\n"
                f"From: <sip:+12125550001@127.0.0.1:{lport}>;tag={tag}\r\n{{to}}\r\nCall-ID: {call_id}\r\n"
                f"Max-Forwards: 70\r\nContact: <sip:+12125550001@127.0.0.1:{lport}>\r\n"
            )
            to = f"To: <sip:+12125550100@127.0.0.1:{port}>"
            invite = (
                f"INVITE sip:+12125550100@127.0.0.1:{port} SIP/2.0\r\n"
                + base.format(b=uuid.uuid4().hex[:12], to=to)
                + f"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}"
            )
            took, ok = _exchange(s, invite, port, "SIP/2.0 200")
            out.append(took * 1000)
            to = "To: " + _header(ok, "To")
            for method, cseq in (("ACK", 1), ("BYE", 2)):
                msg = (
                    f"{method} sip:+12125550100@127.0.0.1:{port} SIP/2.0\r\n"
                    + base.format(b=uuid.uuid4().hex[:12], to=to)
                    + f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
                )
                if method == "ACK":
                    s.sendto(msg.encode(), ("127.0.0.1", port))
                else:
                    _exchange(s, msg, port, "SIP/2.0 200")
            time.sleep(0.05)
    return out


def describe(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p95 {pct(values, 95):.1f} ms (n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--registers", type=int, default=100)
    ap.add_argument("--starts", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        plain = _box(d / "plain", edge=False)
        try:
            direct = invites(plain, args.calls)
        finally:
            plain.stop()
        box = _box(d / "edge", edge=True)
        try:
            starts = edge_starts(box, args.starts)
            print(f"[edge] start (clinicbox edge → RPC answers): {', '.join(f'{s:.2f}' for s in starts)} s")
            edge = Edge(box)
            try:
                regs = registers(box, args.registers)
                print(f"[edge] REGISTER → 401 → REGISTER → 200: {describe(regs)}")
                through = invites(box, args.calls)
            finally:
                edge.close()
        finally:
            box.stop()
    print(f"[direct] INVITE→200: {describe(direct)}")
    print(f"[edge]   INVITE→200: {describe(through)}")
    print(
        f"[edge]   added: p50 {statistics.median(through) - statistics.median(direct):+.1f} ms, "
        f"p95 {pct(through, 95) - pct(direct, 95):+.1f} ms"
    )


if __name__ == "__main__":
    main()
