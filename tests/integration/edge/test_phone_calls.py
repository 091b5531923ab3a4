"""A desk phone places calls with its own keys: the edge challenges its INVITE
(proxy digest, the registrar's HA1 table and lockout) and vouches for the
station to the core, which dials the number out through the trunk (the team's
ITSP peer, Kamailio) to a SIPp "patient" and bridges the two. A forged station
header from outside is stripped; a wrong password ends in the lockout."""

from __future__ import annotations

import socket
import time
import uuid

from appliance import sip
from tests.integration.edge.conftest import station_password, wait_registered, wait_rtp
from tests.integration.edge.test_desk_phones import _register
from tests.integration.sip.peers.kamailio import Kamailio
from tests.integration.sip.peers.sipp import _SDP, uas_xml
from tests.integration.switchboard.test_caller_id import received_invite

CALLER_ID = "+12125550100"
PATIENT = "+12125550123"
NATIONAL = "2125550123"  # as the front desk keys it in (clinic.country US)


def phone_invite_xml(user: str, *, expect: int, auth: bool = True, ruri_user: str = NATIONAL) -> str:
    """A desk phone's INVITE from ``user``: challenged (407), then again with digest
    credentials (SIPp's ``-au``/``-ap``); the final answer to the second must be
    ``expect``. Without ``auth`` only the first INVITE, whose answer must be ``expect``."""
    head = f"""INVITE sip:{ruri_user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]p[call_number]
      To: <sip:{ruri_user}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: Yealink SIP-T46U
      Content-Type: application/sdp
      Content-Length: [len]"""
    first = head.replace("Contact:", "CSeq: 1 INVITE\n      Contact:")
    second = head.replace("Contact:", "CSeq: 2 INVITE\n      [authentication]\n      Contact:")
    ack = """<send><![CDATA[
      ACK sip:{ruri}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]p[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: {n} ACK
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>"""
    steps = f"""  <send retrans="500"><![CDATA[
      {first}

      {_SDP}]]></send>
  <recv response="100" optional="true"/>
"""
    if not auth:
        steps += f'  <recv response="{expect}"/>\n'
    else:
        steps += f"""  <recv response="407" auth="true"/>
  {ack.format(ruri=ruri_user, user=user, n=1)}
  <send retrans="500"><![CDATA[
      {second}

      {_SDP}]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="{expect}"/>
  {ack.format(ruri=ruri_user, user=user, n=2)}
"""
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="desk-phone-invite">\n{steps}</scenario>\n'


def _call_from_phone(sipp, port: int, user: str, password: str, expect: int, source: str, *, as_user: str = "", **kw):
    """``as_user``: the From user, when the phone claims another station than it authenticates as."""
    run = sipp(
        phone_invite_xml(as_user or user, expect=expect, **kw),
        target=f"127.0.0.1:{port}",
        timeout_s=10,
        extra=["-au", user, "-ap", password, "-i", source],
    )
    return run.wait(15)


def test_a_desk_phone_calls_a_patient_out_through_the_trunk(edge_box, baresip, sipp, peer_dir, tmp_path) -> None:
    messages = tmp_path / "patient-messages.log"
    patient = sipp(
        uas_xml(steps=[("audio", 2.0)], hangup=False),
        timeout_s=40,
        extra=["-trace_msg", "-message_file", str(messages)],
    )
    with Kamailio(peer_dir / "itsp", pstn_port=patient.port) as itsp:
        b, edge = edge_box(
            overlay={
                "trunk": {
                    "enabled": True,
                    "register": True,
                    "registrar": itsp.uri,
                    "username": "trunk1",
                    "password": "secret",
                    "provider_networks": [],
                    "caller_id": CALLER_ID,
                    "caller_id_header": "pai",  # the ITSP checks From's user against the digest user
                }
            }
        )
        b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered through the edge")
        phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
        wait_registered(edge, "desk1")
        b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
        phone.dial(f"sip:{NATIONAL}@127.0.0.1:{b.sip_port}")  # the front desk keys in a national number
        phone.wait_event("CALL_ESTABLISHED", timeout=15)
        wait_rtp(phone)
        b.wait(
            lambda s: any(c["agent"] == "desk1" and c["state"] == "talking" for c in s["calls"]),
            timeout=5,
            what="the patient bridged to desk1",
        )
        assert b.agent("desk1")["state"] != "available"  # no queue call rings it meanwhile
        phone.command("hold")  # the phone's hold key on its own call: the patient gets the music
        b.wait(lambda s: any(c["state"] == "held" for c in s["calls"]), timeout=5, what="the call held")
        phone.command("resume")
        b.wait(lambda s: any(c["state"] == "talking" for c in s["calls"]), timeout=5, what="the call resumed")
        time.sleep(3.0)  # the patient talks (SIPp's 2 s of audio), then waits for the BYE
        phone.hangup()
        result = patient.wait(30)
        assert result.successful == 1, result.log
    rec = b.call_record(lambda r: r.direction == "outbound")
    assert (rec.agent, rec.callee, rec.caller, rec.route, rec.disposition) == (
        "desk1",
        PATIENT,
        CALLER_ID,
        "trunk",
        "answered",
    )
    invite = received_invite(messages)  # what the patient's side received, past the provider
    assert sip.uri_user(invite.header("to")) == PATIENT  # (the provider sent the Request-URI to its "PSTN")
    assert invite.header("p-asserted-identity").startswith(f"<sip:{CALLER_ID}@"), invite.header("p-asserted-identity")
    assert invite.header("x-clinicbox-station") == ""  # the station never leaves the box
    core_log = b.log.read_text(errors="replace")
    assert PATIENT not in core_log and NATIONAL not in core_log  # numbers are patient data: never logged


def test_a_phone_on_an_untrusted_address_must_authenticate_its_invite(edge_box, sipp) -> None:
    b, _ = edge_box(overlay={"trunk": {"enabled": False}})  # no way out: the core answers 480
    assert _register(sipp, b.sip_port, "desk1", station_password(b), 200, source="127.0.0.3").successful == 1
    result = _call_from_phone(sipp, b.sip_port, "desk1", station_password(b), 480, "127.0.0.3")
    assert result.successful == 1, result.log
    deadline = time.monotonic() + 5
    while "desk1 could not call out" not in b.log.read_text(errors="replace"):  # the core saw desk1's call
        assert time.monotonic() < deadline, b.tail()
        time.sleep(0.1)
    # Another station's name from the same phone: the phone calls as itself only.
    claims = _call_from_phone(sipp, b.sip_port, "desk1", station_password(b), 403, "127.0.0.3", as_user="desk2")
    assert claims.successful == 1, claims.log


def test_a_wrong_password_on_an_invite_ends_in_the_lockout_and_never_reaches_the_core(edge_box, sipp) -> None:
    b, edge = edge_box(overlay={"edge": {"lockout_tries": 3}})
    assert _register(sipp, b.sip_port, "desk1", station_password(b), 200, source="127.0.0.3").successful == 1
    for _ in range(3):
        assert _call_from_phone(sipp, b.sip_port, "desk1", "not-the-password", 403, "127.0.0.3").successful == 1
    # Locked: no challenge any more, so no password gets in; the registration goes the same way.
    locked = _call_from_phone(sipp, b.sip_port, "desk1", station_password(b), 403, "127.0.0.3", auth=False)
    assert locked.successful == 1, locked.log
    assert edge.rpc.locked_out() == ["127.0.0.3"]
    assert "edge-auth: 127.0.0.3 locked out for" in edge.text()
    # A trusted address claiming a station is challenged too (no free pass for the LAN).
    assert _call_from_phone(sipp, b.sip_port, "desk1", "x", 407, "127.0.0.1", auth=False).successful == 1
    time.sleep(0.5)
    assert b.status()["capacity"]["in_use"] == 0  # no PJSUA2 call object was made
    assert b.query("SELECT count(*) FROM calls") == [(0,)]
    assert "could not call out" not in b.log.read_text(errors="replace")


def _raw_invite(port: int, station_header: str, source_port: int = 0) -> bytes:
    """An INVITE from the provider's (trusted) address with a forged station header."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", source_port))
        s.settimeout(3.0)
        lport = s.getsockname()[1]
        msg = (
            f"INVITE sip:{NATIONAL}@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex[:10]};rport\r\n"
            f"From: <sip:+12125550001@127.0.0.1>;tag={uuid.uuid4().hex[:8]}\r\nTo: <sip:{NATIONAL}@127.0.0.1>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{lport}>\r\n"
            f"X-ClinicBox-Station: {station_header}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), ("127.0.0.1", port))
        got = b""
        try:
            while b"SIP/2.0 1" not in got:
                got += s.recv(4096)
        except TimeoutError:
            pass
        return got


def test_a_forged_station_header_from_outside_is_stripped_and_not_believed(edge_box) -> None:
    from appliance.config import load_config

    b, _ = edge_box()
    # Through the edge: stripped, so the core sees an ordinary caller for the IVR.
    assert _raw_invite(b.sip_port, "desk1").startswith(b"SIP/2.0 1")
    # Straight to the core's port from another address/port: the core does not believe it.
    core_port = load_config(b.config).edge.core_port
    assert _raw_invite(core_port, "desk1").startswith(b"SIP/2.0 1")
    rows = b.rows("SELECT direction, agent, caller FROM calls")
    deadline = time.monotonic() + 5
    while len(rows) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = b.query("SELECT direction, agent, caller FROM calls")
    assert sorted(rows) == [("inbound", None, "+12125550001")] * 2, rows
    core_log = b.log.read_text(errors="replace")
    assert "calls out" not in core_log
    assert core_log.count("ignored a station header") == 1  # only the direct one carried it to the core


def test_a_desk_phones_transfer_key_sends_a_queue_caller_out_through_the_trunk(
    edge_box, baresip, sipua, sipp, peer_dir
) -> None:
    """A REFER naming a number: the box dials it through the trunk (Outbound) and hands the caller on."""
    from tests.integration.edge.test_phone_hold import _queue_call_at_desk1, _wait_phone_off_the_call

    patient = sipp(uas_xml(steps=[("audio", 1.0)], hangup=False), timeout_s=40)
    with Kamailio(peer_dir / "itsp", pstn_port=patient.port) as itsp:
        b, edge = edge_box(
            overlay={
                "trunk": {
                    "enabled": True,
                    "register": True,
                    "registrar": itsp.uri,
                    "username": "trunk1",
                    "password": "secret",
                    "provider_networks": [],
                    "caller_id": CALLER_ID,
                    "caller_id_header": "pai",
                }
            }
        )
        b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered through the edge")
        phone, caller, cid = _queue_call_at_desk1(b, edge, baresip, sipua)
        phone.command("transfer", f"sip:{NATIONAL}@127.0.0.1:{b.sip_port}")
        _wait_phone_off_the_call(phone, timeout=10)
        b.wait(
            lambda s: [(c["state"], c["agent"]) for c in s["calls"]] == [("talking", None)],
            timeout=15,
            what="the caller talking to the patient's side",
        )
        time.sleep(1.5)
        caller.hangup(cid)
        result = patient.wait(30)
        assert result.successful == 1, result.log  # the patient's side answered and got the BYE
    assert b.query("SELECT count(*) FROM calls") == [(1,)]
    assert b.call_record(lambda r: r.direction == "inbound").disposition == "transferred"
    assert NATIONAL not in b.log.read_text(errors="replace")  # numbers are never logged
