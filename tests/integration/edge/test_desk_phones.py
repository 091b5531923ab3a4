"""Desk phones behind the SIP edge: baresip and SIPp register with digest auth
per station, ring for queue calls, answer and hang up; a wrong password locks
the phone's address out; a scanner from an untrusted address gets silence."""

from __future__ import annotations

import hashlib
import socket
import time
import uuid

from tests.integration.edge.conftest import station_password, wait_registered, wait_rtp
from tests.integration.sip.peers.sipp import uac_xml

A = "+12125550001"


def test_a_registered_desk_phone_rings_for_a_queue_call_and_talks(edge_box, baresip, sipp, peer_dir) -> None:
    b, edge = edge_box()
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")  # (baresip registers before its control socket is up: no event to wait for)
    b.wait(
        lambda s: any(a["station"] == "desk1" and a["reachable"] for a in s["agents"]),
        timeout=10,
        what="desk1 reachable once its phone registered",
    )
    assert edge.rpc.registrations().keys() == {"desk1"}
    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    phone.wait_event("CALL_INCOMING", timeout=20)  # the phone itself rings
    b.wait(lambda s: b.agent("desk1")["state"] == "ringing", timeout=3, what="the console showing desk1 ringing")
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)  # the core's audio reaches the phone's own media stack
    b.wait(
        lambda s: any(c["agent"] == "desk1" and c["state"] == "talking" for c in s["calls"]),
        timeout=5,
        what="the caller bridged to desk1",
    )
    b.wait(lambda s: b.agent("desk1")["state"] == "on-call", timeout=3, what="desk1 on-call")
    time.sleep(3.0)  # the caller's scenario has stopped talking and waits for the BYE
    phone.hangup()  # the agent hangs up with the phone's own key
    phone.wait_event("CALL_CLOSED", timeout=5)
    result = run.wait(30)
    assert result.successful == 1, result.log
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered" and rec.agent == "desk1" and rec.queue == "front-desk"
    assert "edge-security" not in edge.text()  # nothing of this was refused


def register_xml(user: str, *, expect: int) -> str:
    """A desk phone's REGISTER: challenged (401), then again with digest credentials
    (SIPp's ``-au``/``-ap``); the second answer must be ``expect``."""
    head = f"""REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]r[call_number]
      To: <sip:{user}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 300
      User-Agent: Yealink SIP-T46U
      Content-Length: 0"""
    first = head.replace("Contact:", "CSeq: 1 REGISTER\n      Contact:")
    second = head.replace("Contact:", "CSeq: 2 REGISTER\n      [authentication]\n      Contact:")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="desk-phone-register">
  <send retrans="500"><![CDATA[
      {first}
      ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      {second}
      ]]></send>
  <recv response="{expect}"/>
</scenario>
"""


def _register(sipp, port: int, user: str, password: str, expect: int, source: str = "127.0.0.2", tcp: bool = False):
    run = sipp(
        register_xml(user, expect=expect),
        target=f"127.0.0.1:{port}",
        timeout_s=10,
        extra=["-au", user, "-ap", password, "-i", source, *(["-t", "t1"] if tcp else [])],
    )
    return run.wait(15)


def test_sipp_registers_as_a_desk_phone_with_digest_auth(edge_box, sipp) -> None:
    b, edge = edge_box()
    result = _register(sipp, b.sip_port, "desk1", station_password(b), 200)
    assert result.successful == 1, result.log
    assert wait_registered(edge, "desk1")[0].startswith("sip:desk1@127.0.0.2:")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=5, what="desk1 reachable")
    assert b.agent("desk1")["state"] == "available"
    process, lockouts = doctor_edge(b)
    assert process.status == "OK" and "(udp/tcp)" in process.detail, process
    assert "1 desk phone(s) registered: desk1" in process.detail
    assert lockouts.status == "OK"
    edge.close()  # the technician's view of a dead edge
    (dead,) = doctor_edge(b)
    assert dead.status == "FAIL" and "kamailio is not running" in dead.detail and "clinicbox-edge" in dead.fix


def test_a_desk_phone_registers_over_tcp_on_the_same_port(edge_box, sipp) -> None:
    b, edge = edge_box()
    result = _register(sipp, b.sip_port, "desk1", station_password(b), 200, tcp=True)
    assert result.successful == 1, result.log
    wait_registered(edge, "desk1")


def test_a_wrong_password_locks_the_phone_out(edge_box, sipp) -> None:
    b, edge = edge_box(overlay={"edge": {"lockout_tries": 3}})
    for _ in range(3):
        assert _register(sipp, b.sip_port, "desk1", "not-the-password", 403).successful == 1
    # Locked: the phone is not even challenged any more, so no password can get in.
    xml = register_xml("desk1", expect=200)
    xml = xml[: xml.index('  <recv response="401"')] + '  <recv response="403"/>\n</scenario>\n'
    locked = sipp(xml, target=f"127.0.0.1:{b.sip_port}", timeout_s=10, extra=["-i", "127.0.0.2"])
    assert locked.wait(15).successful == 1
    assert edge.rpc.registrations() == {}
    assert edge.rpc.locked_out() == ["127.0.0.2"]
    _, lockouts = doctor_edge(b)
    assert (
        lockouts.status == "WARN"
        and "127.0.0.2" in lockouts.detail
        and "3 wrong desk-phone passwords" in lockouts.detail
    )
    log = edge.text()
    assert "edge-auth: 127.0.0.2 locked out for" in log
    assert station_password(b) not in log
    time.sleep(1.0)  # the core's poller saw nothing registered: desk1 stays unreachable
    assert b.agent("desk1")["reachable"] is False
    assert b.query("SELECT count(*) FROM calls") == [(0,)]


def invites_seen(edge) -> int:
    """INVITEs the edge received since it started (kamailio's core counter)."""
    (line,) = edge.rpc.call("stats.get_statistics", "rcv_requests_invite")
    return int(str(line).rsplit("=", 1)[1])


def doctor_edge(b):
    """What ``clinicbox doctor`` says about the edge of this box."""
    from appliance.config import load_config
    from appliance.doctor import Context
    from appliance.doctor.edge import edge

    return edge(Context(load_config(b.config)))


def _invite_from(source: str, port: int, user: str = "100") -> bytes:
    """One scanner INVITE (svwar-style) sent from ``source``; whatever came back within 2 s."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(2.0)
        lport = s.getsockname()[1]
        msg = (
            f"INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {source}:{lport};branch=z9hG4bK{uuid.uuid4().hex[:10]};rport\r\n"
            f"From: <sip:{user}@{source}>;tag={uuid.uuid4().hex[:8]}\r\nTo: <sip:{user}@127.0.0.1>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContact: <sip:{user}@{source}:{lport}>\r\n"
            "Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), ("127.0.0.1", port))
        try:
            return s.recv(4096)
        except TimeoutError:
            return b""


def test_a_scanner_invite_from_an_untrusted_address_gets_silence(edge_box) -> None:
    b, edge = edge_box()  # trusts 127.0.0.1 only (the demo's sip.trusted_networks and provider)
    for user in ("100", "101", "desk1"):
        assert _invite_from("127.0.0.2", b.sip_port, user) == b""
    assert "edge-security: untrusted INVITE from 127.0.0.2" in edge.text()
    assert edge.rpc.counters()["sec_untrusted"] == 3
    time.sleep(0.5)
    assert b.status()["capacity"]["in_use"] == 0  # no PJSUA2 call object was ever made
    assert b.query("SELECT count(*) FROM calls") == [(0,)]
    assert "127.0.0.2" not in b.log.read_text(errors="replace")  # the core never saw it
    # The same INVITE from the trusted loopback reaches the core (the IVR answers).
    assert _invite_from("127.0.0.1", b.sip_port).startswith(b"SIP/2.0 1")


def test_a_new_station_password_set_by_a_manager_reaches_the_edge_at_once(edge_box, sipp) -> None:
    b, edge = edge_box()
    old = station_password(b)
    # The core talks to the edge already (as on a running box): the time below is the write's alone.
    deadline = time.monotonic() + 20
    while not b.control.call("edge.status")["reachable"]:
        assert time.monotonic() < deadline, "the core never reached the edge"
        time.sleep(0.1)
    reply = b.control.call("secrets.set", name="stations.desk1.password", value="NewDeskPhonePw-42")
    assert reply["set"] is True
    table = (b.dir / "run" / "edge" / "credentials" / "credentials").read_text()
    assert "NewDeskPhonePw-42" not in table and old not in table  # hashes only
    new_ha1 = hashlib.md5(b"desk1:clinicbox:NewDeskPhonePw-42").hexdigest()
    deadline = time.monotonic() + 5
    while new_ha1 not in str(edge.rpc.call("htable.dump", "creds")):  # the core's poller has it reloaded
        assert time.monotonic() < deadline, "the edge never took the new password"
        time.sleep(0.1)
    assert _register(sipp, b.sip_port, "desk1", "NewDeskPhonePw-42", 200).successful == 1
    assert _register(sipp, b.sip_port, "desk1", old, 403, source="127.0.0.3").successful == 1
    wait_registered(edge, "desk1")


def test_the_desk_phone_holds_and_resumes_with_its_own_keys(edge_box, baresip, sipp) -> None:
    b, edge = edge_box()
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    phone.wait_event("CALL_INCOMING", timeout=20)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)  # the core's audio reaches the phone's own media stack
    b.wait(lambda s: b.agent("desk1")["state"] == "on-call", timeout=5, what="desk1 on-call")
    before = invites_seen(edge)
    phone.command("hold")  # re-INVITE a=sendonly from the phone, through the edge to the core
    time.sleep(2.0)
    phone.command("resume")  # and back to sendrecv
    time.sleep(1.0)
    assert invites_seen(edge) - before == 2  # both re-INVITEs went through the edge
    assert b.agent("desk1")["state"] == "on-call"  # the call survived both re-INVITEs
    assert any(c["agent"] == "desk1" and c["state"] == "talking" for c in b.status()["calls"])
    phone.hangup()
    assert run.wait(30).successful == 1
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered" and rec.agent == "desk1"
