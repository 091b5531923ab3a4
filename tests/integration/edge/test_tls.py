"""A desk phone over SIP/TLS at the edge (``edge.tls_port``): baresip trusts the
certificate the edge made itself at its first start, registers over TLS, and
rings and talks for a queue call the core sends it through the edge."""

from __future__ import annotations

import socket
import ssl
import stat
import time
import uuid

from tests.conftest import free_port
from tests.integration.edge.conftest import station_password, wait_registered, wait_rtp
from tests.integration.sip.peers.sipp import uac_xml

A = "+12125550011"


def test_a_desk_phone_registers_over_tls_and_rings_for_a_queue_call(edge_box, baresip, sipp) -> None:
    tls_port = free_port(socket.SOCK_STREAM)
    b, edge = edge_box({"edge": {"tls_port": tls_port}})
    cert, key = b.dir / "edge-state" / "tls" / "edge.crt", b.dir / "edge-state" / "tls" / "edge.key"
    assert cert.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # the edge's user only
    phone = baresip(
        user="desk1",
        registrar=f"sip:127.0.0.1:{tls_port}",
        password=station_password(b),
        transport="tls",
        cafile=cert,
    )
    contacts = wait_registered(edge, "desk1")
    assert all("transport=tls" in c.lower() for c in contacts), contacts
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable over TLS")
    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    phone.wait_event("CALL_INCOMING", timeout=20)  # the edge reached the phone over TLS
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)
    time.sleep(3.0)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", timeout=5)
    assert run.wait(30).successful == 1
    assert b.call_record(lambda r: r.caller == A).agent == "desk1"


def test_a_scanner_invite_over_tls_from_an_untrusted_address_gets_silence(edge_box) -> None:
    """The same rules over TLS: an INVITE from an address the box does not trust gets no
    answer at all, and the core never sees it."""
    tls_port = free_port(socket.SOCK_STREAM)
    b, edge = edge_box({"edge": {"tls_port": tls_port}})
    ctx = ssl.create_default_context(cafile=str(b.dir / "edge-state" / "tls" / "edge.crt"))
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", tls_port), timeout=5, source_address=("127.0.0.2", 0))
    with ctx.wrap_socket(raw) as s:
        lport = s.getsockname()[1]
        msg = (
            f"INVITE sip:100@127.0.0.1:{tls_port};transport=tls SIP/2.0\r\n"
            f"Via: SIP/2.0/TLS 127.0.0.2:{lport};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
            f"From: <sip:100@127.0.0.2>;tag={uuid.uuid4().hex[:8]}\r\nTo: <sip:100@127.0.0.1>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@127.0.0.2:{lport};transport=tls>\r\n"
            "Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendall(msg.encode())
        s.settimeout(3.0)
        try:
            answer = s.recv(4096)
        except TimeoutError:
            answer = b""
    assert answer == b"", answer[:200]
    assert "edge-security: untrusted INVITE from 127.0.0.2" in edge.text()
    assert edge.rpc.counters()["sec_untrusted"] == 1
    assert b.query("SELECT count(*) FROM calls") == [(0,)]
    assert "127.0.0.2" not in b.log.read_text(errors="replace")  # the core never saw it


def test_an_idle_phone_connection_stays_open_as_long_as_its_registration(edge_box) -> None:
    """A desk phone on TCP/TLS is reached over the connection it registered on: the running
    edge keeps an idle one for the longest registration plus a minute (not Kamailio's
    120 s), with keep-alives on, as Kamailio itself reports over its RPC."""
    tls_port = free_port(socket.SOCK_STREAM)
    _box, edge = edge_box({"edge": {"tls_port": tls_port, "register_max_expires_s": 900}})
    tcp = edge.rpc.call("core.tcp_options")
    assert tcp["connection_lifetime"] == 960, tcp
    assert tcp["keepalive"] == 1 and tcp["keepidle"] == 60, tcp
    tls = edge.rpc.call("tls.options")
    assert tls["connection_timeout"] == 960, tls
