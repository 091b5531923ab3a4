"""Provider traffic through the edge: the core registers to the provider (Kamailio,
the team's ITSP peer) through the edge, a SIPp caller authenticated at the
provider reaches the IVR and the queue, and a desk phone registered at the edge
answers and hangs up. The provider only ever sees the edge's address."""

from __future__ import annotations

import time

from appliance.config import load_config
from tests.integration.edge.conftest import station_password, wait_registered, wait_rtp
from tests.integration.sip.peers.sipp import _SDP, _steps

A = "callerA"  # the provider's "PSTN caller" account in the ITSP peer is "caller"


def provider_caller_xml(steps) -> str:
    """A PSTN caller at the provider: INVITE challenged with 407 (SIPp's -au/-ap answer
    it), then the call; follows the Record-Route of both proxies (rrs), and the box
    hangs up (the agent's BYE)."""
    head = """INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]"""
    first = head.replace("Contact:", "CSeq: 1 INVITE\n      Contact:")
    second = head.replace("Contact:", "CSeq: 2 INVITE\n      [authentication]\n      Contact:")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="provider-caller">
  <send retrans="500"><![CDATA[
      {first}

      {_SDP}]]></send>
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>
  <send retrans="500"><![CDATA[
      {second}

      {_SDP}]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true" rtd="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[remote_ip]:[remote_port]>;tag=[pid]c[call_number]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0
      ]]></send>
  {_steps(steps)}
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
      ]]></send>
</scenario>
"""


def test_a_provider_call_through_the_edge_rings_a_desk_phone(edge_box, kamailio, baresip, sipp) -> None:
    b, edge = edge_box(
        overlay={
            "trunk": {
                "enabled": True,
                "register": True,
                "registrar": kamailio.uri,
                "username": "trunk1",
                "password": "secret",
                "provider_networks": [],
                "keepalive_interval_s": 0,
            }
        }
    )
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="registration to the provider through the edge")
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=5, what="desk1 reachable")
    run = sipp(
        provider_caller_xml([("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)]),
        target=f"127.0.0.1:{kamailio.port}",
        service="trunk1",
        extra=["-au", "caller", "-ap", "callerpw"],
    )
    phone.wait_event("CALL_INCOMING", timeout=20)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)  # the core's audio reaches the phone's own media stack
    b.wait(
        lambda s: any(c["agent"] == "desk1" and c["state"] == "talking" for c in s["calls"]),
        timeout=5,
        what="the provider's caller bridged to desk1",
    )
    time.sleep(3.0)
    phone.hangup()
    result = run.wait(30)
    assert result.successful == 1, result.log
    rec = b.call_record(lambda r: r.agent == "desk1")
    assert rec.route == "trunk" and rec.disposition == "answered" and rec.queue == "front-desk"
    # The provider only ever heard from the edge (and its own caller), never from the core's port...
    provider_saw = [ln for ln in kamailio.log_text().splitlines() if "REQ " in ln]
    assert any(f"(127.0.0.1:{b.sip_port})" in ln for ln in provider_saw if "REQ REGISTER" in ln), provider_saw
    core_port = b.sip_port and load_config(b.config).edge.core_port
    assert not any(f":{core_port})" in ln for ln in provider_saw), provider_saw
    # ...and sent the call to the edge: the edge relayed both INVITEs (provider → core, core → desk phone).
    invites = edge.rpc.call("stats.get_statistics", "rcv_requests_invite")
    assert int(str(invites[0]).rsplit("=", 1)[1].strip()) >= 2, invites
