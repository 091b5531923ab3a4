"""Bad input at scale: a burst of INVITEs far beyond the line cap.

300 INVITEs in one second reach a core with 64 lines. Every caller gets an
answer (200, or a clean 486/503 when the lines are full), every one leaves
exactly one row in the call log (a busy caller also lands on the callback
list), and the control socket (the wallboard's and doctor's window on the
core) keeps answering within 100 ms through the burst.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from appliance.store import calls
from tests.integration.sip.peers.sipp import SippScenario

pytestmark = [pytest.mark.slow, pytest.mark.serial]

BURST = 300
LINES = 64

#: A caller that takes 200 (stays 3 s, hangs up) or a clean 486/503 (ACKs it).
_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="burst">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4930123[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:burst@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="486" optional="true" next="refused"/>
  <recv response="503" optional="true" next="refused"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4930123[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <pause milliseconds="3000"/>
  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4930123[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200"/>
  <nop next="done"/>
  <label id="refused"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4930123[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <label id="done"/>
</scenario>
"""


def test_a_burst_of_300_invites_gets_clean_answers_and_a_call_log_row_each(box, tmp_path: Path) -> None:
    b = box(overlay={"sip": {"max_calls": LINES, "rtp_port_range": 1000}}, stations={})  # every line for callers
    assert b.status()["capacity"]["allowed"] == LINES
    latencies: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            b.control.status()
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = SippScenario(
            _SCENARIO,
            tmp_path / "burst",
            target=f"127.0.0.1:{b.sip_port}",
            service="+12125550100",
            calls=BURST,
            concurrent=BURST,
            rate=BURST,
            timeout_s=60,
        )
        result = run.wait(90)
    finally:
        stop.set()
        watcher.join()
    assert (result.successful, result.failed) == (BURST, 0), result.log

    deadline = time.monotonic() + 20
    rows: list[calls.CallRecord] = []
    while time.monotonic() < deadline:
        rows = [r for r in calls.recent(b.store, 1000) if r.direction == "inbound" and r.disposition]
        if len(rows) >= BURST:
            break
        time.sleep(0.2)
    assert len(rows) == BURST, f"{len(rows)} call-log rows for {BURST} INVITEs"
    busy = [r for r in rows if r.disposition == "busy"]
    assert busy and all(r.sip_code in (486, 503) for r in busy)
    assert len(rows) - len(busy) >= LINES  # every line was used
    callbacks = b.rows("SELECT COUNT(*) FROM callbacks WHERE source = 'busy'")[0][0]
    assert callbacks == len(busy)  # each busy caller (a distinct number) is on the callback list
    assert latencies and max(latencies) < 100, f"control socket: max {max(latencies):.0f} ms"


def test_an_invite_retransmitted_at_the_cap_is_one_busy_caller(box, sipua) -> None:
    """PJSUA refuses statelessly when every slot is taken, so each UDP retransmission is refused again."""
    b = box(overlay={"sip": {"max_calls": 3}, "reminders": {"reserve_lines": 1}}, stations={})
    holders = sipua(name="holders")
    for n in range(3):  # every slot PJSUA has
        cid = holders.call(b.uri, from_user=f"+4930123400{n}")
        holders.wait_state("CONFIRMED", cid)
    caller = "+493012349999"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        invite = (
            f"INVITE {b.uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-retrans-1\r\n"
            f"From: <sip:{caller}@127.0.0.1:{port}>;tag=retrans\r\n"
            f"To: <{b.uri}>\r\n"
            "Call-ID: retransmitted-invite@127.0.0.1\r\n"
            "CSeq: 1 INVITE\r\n"
            f"Contact: <sip:{caller}@127.0.0.1:{port}>\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        codes = []
        for _ in range(3):  # the original and two retransmissions (Timer A)
            sock.sendto(invite, ("127.0.0.1", b.sip_port))
            codes.append(sock.recv(65535).split(b" ", 2)[1])
    assert codes == [b"486"] * 3
    rows = b.rows("SELECT disposition, sip_code FROM calls WHERE caller = ?", (caller,))
    time.sleep(1.0)  # a second row would come from the later refusals' callbacks
    assert b.query("SELECT disposition, sip_code FROM calls WHERE caller = ?", (caller,)) == rows == [("busy", 486)]
    assert b.query("SELECT COUNT(*) FROM callbacks WHERE number = ?", (caller,)) == [(1,)]
