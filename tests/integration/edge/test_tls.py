"""A desk phone over SIP/TLS at the edge (``edge.tls_port``): baresip trusts the
certificate the edge made itself at its first start, registers over TLS, and
rings and talks for a queue call the core sends it through the edge."""

from __future__ import annotations

import socket
import stat
import time

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
