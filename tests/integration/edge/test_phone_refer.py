"""A desk phone's transfer key (REFER), as the phone sees it on the wire (baresip's
own SIP trace): the box answers **202 Accepted**, NOTIFYs "SIP/2.0 100 Trying",
carries the transfer out itself, and NOTIFYs the outcome as message/sipfrag:
"SIP/2.0 200 OK" when the target answered (the phone then hangs up by itself),
the failure when it did not (the caller goes back to the queue). This needs the
ClinicBox engine with patch 0003 (``PJSUA_CALL_XFER_BY_APP``)."""

from __future__ import annotations

import re
import time

import pjsua2 as pj

from tests.integration.edge.conftest import DESK, station_password, wait_registered, wait_rtp
from tests.integration.edge.test_desk_phones import invites_seen
from tests.integration.edge.test_phone_hold import _queue_call_at_desk1
from tests.integration.sip.peers.common import tail

STATIONS = {**DESK, "desk2": {"name": "Desk 2", "queues": ["appointments"]}}
_SIPFRAG = re.compile(r"Content-Type: message/sipfrag.*?\r?\n\r?\n(SIP/2\.0 \d{3}[^\r\n]*)", re.S | re.I)


def _engine_has_patch_0003() -> None:
    assert hasattr(pj, "PJSUA_CALL_XFER_BY_APP"), "the PJSUA2 engine lacks patch 0003: `make` rebuilds it"


def _traced(baresip):
    return lambda **kw: baresip(sip_trace=True, **kw)


def _refer_answer(phone) -> str:
    """The status line of the box's answer to the phone's REFER."""
    text = phone.log.read_text(errors="replace")
    found = re.search(r"(SIP/2\.0 \d{3} [^\r\n]*)\r?\n(?:[^\r\n]+\r?\n)*?CSeq: *\d+ REFER", text)
    return found.group(1) if found else ""


def sipfrags(phone) -> list[str]:
    """The sipfrag status lines of the NOTIFYs the phone received, in order."""
    return _SIPFRAG.findall(phone.log.read_text(errors="replace"))


def _wait_sipfrags(phone, count: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(frags := sipfrags(phone)) < count:
        assert time.monotonic() < deadline, f"NOTIFYs seen: {frags}\n{tail(phone.log)}"
        time.sleep(0.1)
    return frags


def _desk2(b, edge, baresip):
    desk2 = baresip(user="desk2", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b, "desk2"))
    wait_registered(edge, "desk2")
    b.wait(lambda s: b.agent("desk2")["reachable"], timeout=10, what="desk2 reachable")
    return desk2


def test_a_blind_transfer_is_202_then_notify_trying_then_200_when_the_target_answers(edge_box, baresip, sipua) -> None:
    _engine_has_patch_0003()
    b, edge = edge_box(stations=STATIONS)
    phone, caller, cid = _queue_call_at_desk1(b, edge, _traced(baresip), sipua)
    desk2 = _desk2(b, edge, baresip)
    phone.command("transfer", f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    assert _wait_sipfrags(phone, 1, timeout=5) == ["SIP/2.0 100 Trying"]  # desk2 rings: no outcome yet
    assert _refer_answer(phone) == "SIP/2.0 202 Accepted"
    assert "ESTABLISHED" in str(phone.command("listcalls")["data"])  # desk1 still holds its leg meanwhile
    time.sleep(1.0)
    desk2.accept()
    desk2.wait_event("CALL_ESTABLISHED", timeout=5)
    assert _wait_sipfrags(phone, 2, timeout=5) == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    phone.wait_event("CALL_CLOSED", timeout=5)  # the phone hangs up by itself after the 200
    assert "transfer failed" not in phone.log.read_text(errors="replace")
    wait_rtp(desk2)
    b.wait(
        lambda s: [(c["agent"], c["state"]) for c in s["calls"]] == [("desk2", "talking")],
        timeout=5,
        what="the caller talking to desk2 alone",
    )
    assert invites_seen(edge) == 3  # caller → core, core → desk1, core → desk2: PJSUA placed no call of its own
    desk2.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    assert b.query("SELECT agent, data FROM queue_events WHERE event = 'transfer'") == [("desk1", '{"to": "desk2"}')]


def test_a_blind_transfer_the_target_does_not_answer_notifies_the_failure(edge_box, baresip, sipua) -> None:
    """desk2 rings out (the queue's ring_timeout_s, 6 s here): the phone gets a 480 sipfrag,
    its leg ends (baresip 1.0 hangs up after a failed transfer; else the box would), and
    the caller is back in the queue."""
    _engine_has_patch_0003()
    b, edge = edge_box(stations=STATIONS)
    phone, caller, cid = _queue_call_at_desk1(b, edge, _traced(baresip), sipua)
    desk2 = _desk2(b, edge, baresip)
    phone.command("transfer", f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    assert _refer_answer(phone) == "SIP/2.0 202 Accepted"
    frags = _wait_sipfrags(phone, 2, timeout=15)
    assert frags == ["SIP/2.0 100 Trying", "SIP/2.0 480 Temporarily Unavailable"], frags
    assert "transfer failed: 480" in phone.log.read_text(errors="replace")  # what the phone made of it
    b.wait(
        lambda s: [c["state"] in ("queued", "ringing") and c["agent"] != "desk1" for c in s["calls"]] == [True],
        timeout=10,
        what="the caller back in the queue",
    )
    caller.hangup(cid)
