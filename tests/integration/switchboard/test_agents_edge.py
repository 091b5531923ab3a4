"""Agents at the edges: a station that fails or rings out on a transfer or a
callback, a station that sleeps and wakes, and the ACD's view of a transfer."""

from __future__ import annotations

import time

from tests.integration.switchboard.conftest import DESKS
from tests.integration.switchboard.test_queue import A, enter_queue, waiting

QUEUES = {
    "front-desk": {
        "name": "Front desk",
        "ring_timeout_s": 5,
        "wrap_up_s": 1,
        "announce_every_s": 0,
        "max_wait_s": 60,
        "callback_key": "1",
        "mailbox": "general",
    },
    "appointments": {"name": "Appointments", "ring_timeout_s": 5, "wrap_up_s": 1, "mailbox": "general"},
}


def phone_station(contact: str, queues: list[str]) -> dict[str, object]:
    """A plain SIP desk phone at ``contact`` (a test UA that answers only when told)."""
    return {"name": "Phone 3", "queues": queues, "contact": contact}


def state_of(status: dict, station: str) -> str:
    return str(next(a for a in status["agents"] if a["station"] == station)["state"])


def caller_call(status: dict, number: str) -> dict:
    return next(c for c in status["calls"] if c["caller"] == number)


def transferred_to_phone(box, sipua, station_proc):
    """desk2 talks to caller A, then transfers A to the desk phone, which rings."""
    phone = sipua(name="phone3")
    b = box(
        stations={"desk2": DESKS["desk2"], "phone3": phone_station(phone.contact, ["appointments"])},
        overlay={"queues": QUEUES},
    )
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait(lambda s: caller_call(s, A)["agent"] == "desk2" if s["calls"] else False, timeout=20, what="A on desk2")
    b.control.call("call.transfer", station="desk2", to_station="phone3")
    incoming = phone.wait_for("incoming", timeout=10)
    b.wait(lambda s: caller_call(s, A)["agent"] is None, timeout=5, what="A off desk2, on hold music")
    return b, phone, caller, cid, incoming


def test_a_transfer_the_station_refuses_goes_back_to_the_queue(box, sipua, station_proc) -> None:
    b, phone, caller, cid, incoming = transferred_to_phone(box, sipua, station_proc)
    phone.answer(incoming["call"], code=486)  # the desk phone is busy
    b.wait(
        lambda s: any(c["caller"] == A and c["agent"] == "desk2" for c in s["calls"]),
        timeout=10,
        what="the caller back with desk2, the only agent left",
    )
    assert state_of(b.status(), "phone3") != "on-call"
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert (rec.disposition, rec.agent) == ("answered", "desk2")


def test_a_transfer_that_rings_out_goes_back_to_the_queue(box, sipua, station_proc) -> None:
    b, phone, caller, cid, _ = transferred_to_phone(box, sipua, station_proc)
    rang_at = time.monotonic()
    phone.wait_for("state", lambda e: e["state"] == "DISCONNECTED", timeout=10)  # nobody picked up: the box gave up
    assert 4.0 <= time.monotonic() - rang_at <= 8.0  # the queue's ring_timeout_s (5 s), not hours
    b.wait(
        lambda s: any(c["caller"] == A and c["agent"] == "desk2" for c in s["calls"]),
        timeout=10,
        what="the caller back with desk2",
    )
    assert state_of(b.status(), "phone3") not in ("on-call", "ringing")
    caller.hangup(cid)


def test_a_caller_who_hangs_up_during_a_transfer_stops_the_ringing(box, sipua, station_proc) -> None:
    b, phone, caller, cid, _ = transferred_to_phone(box, sipua, station_proc)
    caller.hangup(cid)
    phone.wait_for("state", lambda e: e["state"] == "DISCONNECTED", timeout=2)  # at once, not at ring timeout
    b.wait(lambda s: state_of(s, "phone3") != "on-call", timeout=5, what="phone3 free again")


def test_the_transfer_target_is_on_call_and_wraps_up(box, sipua, station_proc) -> None:
    b, phone, caller, cid, incoming = transferred_to_phone(box, sipua, station_proc)
    b.wait(lambda s: state_of(s, "phone3") == "on-call", timeout=5, what="phone3 on-call while it rings")
    phone.answer(incoming["call"])
    b.wait(lambda s: caller_call(s, A)["agent"] == "phone3", timeout=10, what="A talking to phone3")
    second = sipua(name="second")
    enter_queue(second, b, "+12125550002")  # appointments caller: phone3 serves it, but is busy
    time.sleep(1.5)
    assert phone.seen("incoming") == [incoming], "phone3 was rung for another caller during a transfer"
    caller.hangup(cid)
    b.wait(lambda s: state_of(s, "phone3") == "wrap-up", timeout=5, what="phone3 wrapping up")
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered"  # the record keeps the agent who answered first (desk2)
    b.wait_agent("phone3", "available", timeout=5)
    assert b.call_record(lambda r: r.caller == A and bool(r.wrap_seconds)).wrap_seconds >= 0.5


def test_a_callback_whose_agent_station_fails_goes_back_to_the_front(box, sipua) -> None:
    phone = sipua(name="phone3")
    b = box(stations={"phone3": phone_station(phone.contact, ["front-desk"])}, overlay={"queues": QUEUES})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)
    b.wait_agent("phone3", "available")
    b.control.call("agent.pause", station="phone3", reason="lunch")
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the caller to wait")
    caller.dtmf("1", cid)
    caller.wait_state("DISCONNECTED", cid, timeout=20)
    b.control.call("agent.unpause", station="phone3")  # its turn: the box calls A back
    pstn.wait_for("incoming", timeout=20)
    first = phone.wait_for("incoming", timeout=20)  # the reserved agent's phone is called
    phone.answer(first["call"], code=486)
    status = b.wait(
        lambda s: any(w["caller"] == A and not w["virtual"] for w in waiting(s)),
        timeout=5,
        what="the called-back patient waiting on the line again",
    )
    assert state_of(status, "phone3") != "on-call"
    second = phone.wait_for("incoming", timeout=15)  # after its rest the agent is offered them again
    phone.answer(second["call"])
    b.wait(
        lambda s: any(c["purpose"] == "callback" and c["agent"] == "phone3" for c in s["calls"]),
        timeout=10,
        what="the callback connected to phone3",
    )
    assert len(pstn.seen("incoming")) == 1


def test_a_station_that_sleeps_and_wakes_keeps_its_login(box, station_proc) -> None:
    b = box(stations={"desk1": DESKS["desk1"], "desk2": DESKS["desk2"]})
    desk1 = station_proc(b.config, station="desk1", core=b.core)
    desk2 = station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk1", "available")
    b.wait_agent("desk2", "available")
    b.control.call("agent.logout", station="desk2")
    b.wait_agent("desk2", "logged-out")
    desk1.stop()
    desk2.stop()  # the PCs go to sleep
    b.wait_agent("desk1", "unavailable")
    b.wait_agent("desk2", "unavailable")
    station_proc(b.config, station="desk1", core=b.core)
    station_proc(b.config, station="desk2", core=b.core)  # and wake up
    b.wait(lambda s: all(a["reachable"] for a in s["agents"]), timeout=10, what="both stations back")
    time.sleep(0.5)
    status = b.status()
    assert state_of(status, "desk1") == "available"  # logged in before: still logged in
    assert state_of(status, "desk2") == "logged-out"  # logged out before: stays out
