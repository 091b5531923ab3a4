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


def test_an_attended_transfer_hands_the_caller_to_the_consulted_station(edge_box, baresip, sipua) -> None:
    """desk1 (a PJSUA2 desk phone) talks to a queue caller, calls desk2 (an internal call),
    then transfers with Replaces: 202, NOTIFY 100 then 200; the caller talks to desk2 on
    desk2's same call (no new INVITE); desk1's two legs end; both stations are free again."""
    _engine_has_patch_0003()
    b, edge = edge_box(stations=STATIONS)
    core = f"127.0.0.1:{b.sip_port}"
    desk1 = sipua(name="desk1", registrar=f"sip:{core}", user="desk1", password=station_password(b))
    wait_registered(edge, "desk1")
    desk2 = _desk2(b, edge, baresip)
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    caller = sipua(name="caller")
    cid = caller.call(f"sip:+12125550100@{core}", from_user="+12125550001")
    caller.wait_state("CONFIRMED", cid, timeout=10)
    time.sleep(1.0)
    caller.dtmf("0", cid)  # to the front desk
    queue_call = desk1.wait_for("incoming", timeout=20)["call"]
    desk1.answer(queue_call)
    b.wait(
        lambda s: [(c["agent"], c["state"]) for c in s["calls"]] == [("desk1", "talking")],
        timeout=10,
        what="the caller talking to desk1",
    )
    consult = desk1.call(f"sip:desk2@{core}")  # the colleague, before handing the caller over
    desk2.wait_event("CALL_INCOMING", timeout=10)
    desk2.accept()
    desk1.wait_state("CONFIRMED", consult, timeout=10)
    heard = caller.wait_heard(0.0, cid)["heard"]
    invites = invites_seen(edge)
    desk1.send("xfer_replaces", call=queue_call, dest=consult)
    final = desk1.wait_for("xfer", lambda e: e["call"] == queue_call and e["final"], timeout=10)
    notified = [(e["code"], e["reason"]) for e in desk1.seen("xfer", lambda e: e["call"] == queue_call)]
    # PJSUA reports the REFER's 2xx as (100, "Accepted"), then each NOTIFY's sipfrag.
    assert notified == [(100, "Accepted"), (100, "Trying"), (200, "OK")], notified
    assert final["final"] is True
    desk1.wait_state("DISCONNECTED", consult, timeout=5)  # replaced: the box ends the consultation leg
    desk1.wait_state("DISCONNECTED", queue_call, timeout=5)
    b.wait(
        lambda s: [(c["agent"], c["state"]) for c in s["calls"]] == [("desk2", "talking")],
        timeout=5,
        what="the caller talking to desk2",
    )
    caller.wait_heard(float(heard) + 1.0, cid, timeout=6)  # desk2's voice (its tone) reaches the caller
    assert invites_seen(edge) == invites  # no INVITE since: desk2 kept its call, PJSUA placed none
    b.wait(lambda s: b.agent("desk1")["state"] != "paused", timeout=5, what="desk1 back for the queues")
    assert b.agent("desk2")["state"] == "on-call"
    desk2.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    assert b.query("SELECT agent, data FROM queue_events WHERE event = 'transfer'") == [("desk1", '{"to": "desk2"}')]


def _sipua_desk1_transfers_to_desk2(edge_box, baresip, sipua):
    """A queue call answered on desk1 (the test UA, which reports NOTIFYs) and desk1's
    blind transfer to desk2 sent: (box, edge, core address, desk1, desk2, caller, caller's
    call, desk1's call)."""
    _engine_has_patch_0003()
    b, edge = edge_box(stations=STATIONS)
    core = f"127.0.0.1:{b.sip_port}"
    desk1 = sipua(name="desk1", registrar=f"sip:{core}", user="desk1", password=station_password(b))
    wait_registered(edge, "desk1")
    desk2 = _desk2(b, edge, baresip)
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    caller = sipua(name="caller")
    cid = caller.call(f"sip:+12125550100@{core}", from_user="+12125550001")
    caller.wait_state("CONFIRMED", cid, timeout=10)
    time.sleep(1.0)
    caller.dtmf("0", cid)
    queue_call = desk1.wait_for("incoming", timeout=20)["call"]
    desk1.answer(queue_call)
    b.wait(lambda s: [c["agent"] for c in s["calls"]] == ["desk1"], timeout=10, what="the caller with desk1")
    desk1.send("xfer", call=queue_call, uri=f"sip:desk2@{core}")
    return b, edge, core, desk1, desk2, caller, cid, queue_call


def test_a_phone_that_hangs_up_right_after_the_202_does_not_stop_the_transfer(edge_box, baresip, sipua) -> None:
    """Some phones end their call as soon as the REFER is accepted: the box's pending
    subscription ends without a NOTIFY (patch 0003), the caller still reaches desk2,
    and the core carries on (a later call is answered as usual)."""
    b, _edge, core, desk1, desk2, caller, cid, queue_call = _sipua_desk1_transfers_to_desk2(edge_box, baresip, sipua)
    accepted = desk1.wait_for("xfer", lambda e: e["call"] == queue_call, timeout=5)
    assert (accepted["code"], accepted["reason"]) == (100, "Accepted")  # the REFER's 2xx
    desk1.hangup(queue_call)  # at once, before any outcome
    desk1.wait_state("DISCONNECTED", queue_call, timeout=5)
    desk2.wait_event("CALL_INCOMING", timeout=10)
    time.sleep(1.0)
    desk2.accept()
    b.wait(
        lambda s: [(c["agent"], c["state"]) for c in s["calls"]] == [("desk2", "talking")],
        timeout=10,
        what="the caller talking to desk2",
    )
    assert not desk1.seen("xfer", lambda e: e["call"] == queue_call and e["final"])  # no NOTIFY after its BYE
    desk2.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    assert b.proc.poll() is None  # the core is still running
    again = caller.call(f"sip:+12125550100@{core}", from_user="+12125550001")
    caller.wait_state("CONFIRMED", again, timeout=10)
    caller.hangup(again)


def test_a_second_transfer_while_the_first_is_pending_gets_491_and_the_first_goes_on(edge_box, baresip, sipua) -> None:
    """The transfer key pressed twice: while desk2 still rings for the first REFER,
    the second is answered 491 Request Pending (RFC 3515 allows one at a time per
    dialog), desk2 is not rung twice, and the first transfer completes."""
    b, edge, core, desk1, desk2, caller, cid, queue_call = _sipua_desk1_transfers_to_desk2(edge_box, baresip, sipua)
    accepted = desk1.wait_for("xfer", lambda e: e["call"] == queue_call, timeout=5)
    assert (accepted["code"], accepted["reason"]) == (100, "Accepted")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    desk1.send("xfer", call=queue_call, uri=f"sip:desk2@{core}")  # pressed again while desk2 rings
    refused = desk1.wait_for("xfer", lambda e: e["call"] == queue_call and e["code"] == 491, timeout=5)
    assert refused["final"]
    time.sleep(1.0)
    desk2.accept()
    desk2.wait_event("CALL_ESTABLISHED", timeout=5)
    done = desk1.wait_for("xfer", lambda e: e["call"] == queue_call and e["code"] == 200, timeout=10)
    assert done["final"]  # the first transfer's outcome still reached the phone
    b.wait(
        lambda s: [(c["agent"], c["state"]) for c in s["calls"]] == [("desk2", "talking")],
        timeout=10,
        what="the caller talking to desk2",
    )
    assert invites_seen(edge) == 3  # caller → core, core → desk1, core → desk2 once
    desk2.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
