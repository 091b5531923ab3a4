"""The queue with real stations: order, abandons, virtual-hold callbacks,
a station that disappears while ringing, manual answer from the console."""

from __future__ import annotations

import time

from appliance.control import ControlClient
from tests.integration.switchboard.conftest import DESKS

A, B = "+12125550001", "+12125550002"


def enter_queue(caller, box, number: str) -> int:
    cid = caller.call(box.uri, from_user=number)
    caller.wait_state("CONFIRMED", cid)
    caller.dtmf("0", cid)
    return cid


def waiting(status, queue: str = "front-desk") -> list:
    return next(q for q in status["queues"] if q["id"] == queue)["waiting"]


def test_two_callers_one_agent_are_served_in_order(box, sipua, station_proc) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    first, second = sipua(name="first"), sipua(name="second")
    c1 = enter_queue(first, b, A)
    b.wait_agent("desk2", "on-call", timeout=20)
    c2 = enter_queue(second, b, B)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the second caller to wait")
    time.sleep(1.0)
    first.hangup(c1)
    b.wait(
        lambda s: any(c["caller"] == B and c["agent"] == "desk2" for c in s["calls"]),
        timeout=20,
        what="the second caller connected after wrap-up",
    )
    second.hangup(c2)
    r1 = b.call_record(lambda r: r.caller == A)
    r2 = b.call_record(lambda r: r.caller == B)
    assert r1.disposition == r2.disposition == "answered"
    assert r1.agent_answered_at < r2.agent_answered_at
    assert r2.queued_at < r1.ended_at <= r2.agent_answered_at  # B waited while A talked


def test_a_caller_who_hangs_up_while_waiting_is_on_the_callback_list(box, sipua) -> None:
    b = box(stations={})  # nobody to answer
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the caller to wait")
    time.sleep(2.0)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "abandoned"
    rows = b.rows("SELECT number, source, status, waited_seconds FROM callbacks")
    assert len(rows) == 1
    number, source, status, waited = rows[0]
    assert (number, source, status) == (A, "abandoned", "open")
    assert waited >= 1.5


def test_callback_request_keeps_the_place_and_calls_back_once(box, sipua, station_proc) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)  # the provider: where the box's calls go
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the caller to wait")
    caller.dtmf("1", cid)  # "call me back, I keep my place"
    caller.wait_state("DISCONNECTED", cid, timeout=20)  # the box confirms and hangs up
    status = b.wait(lambda s: any(w["virtual"] for w in waiting(s)), timeout=5, what="the kept place")
    assert waiting(status)[0]["caller"] == A
    station_proc(b.config, station="desk2", core=b.core)  # an agent comes free
    incoming = pstn.wait_for("incoming", timeout=20)
    assert A.lstrip("+") in incoming["to"]
    b.wait(
        lambda s: any(c["purpose"] == "callback" and c["agent"] == "desk2" for c in s["calls"]),
        timeout=20,
        what="the callback connected to desk2",
    )
    time.sleep(1.0)
    pstn.hangup(incoming["call"])
    first = b.call_record(lambda r: r.caller == A and r.direction == "inbound")
    assert first.disposition == "callback"
    back = b.call_record(lambda r: r.purpose == "callback")
    assert back.direction == "outbound" and back.agent == "desk2" and back.disposition == "answered"
    time.sleep(3.0)
    assert len(pstn.seen("incoming")) == 1, "the patient was called back more than once"
    assert b.query("SELECT status, outcome FROM callbacks") == [("done", "answered")]
    # Hanging up a caller who waited with music leaves nothing for the engine to complain of.
    assert "ERROR clinicbox.pjsip" not in b.log.read_text(errors="replace"), b.tail()


def test_a_station_unplugged_while_ringing_passes_the_call_on(box, sipua, station_proc) -> None:
    b = box(stations=DESKS)
    desk1 = station_proc(b.config, station="desk1", core=b.core)  # manual: rings, waits for the agent
    b.wait_agent("desk1", "available")
    caller = sipua(name="patient")
    enter_queue(caller, b, A)
    b.wait_agent("desk1", "ringing", timeout=20)
    station_proc(b.config, station="desk2", core=b.core)  # auto-answer, comes up while desk1 rings
    b.wait(lambda s: any(a["station"] == "desk2" and a["reachable"] for a in s["agents"]), timeout=10)
    desk1.stop()  # headset unplugged: the station signs off
    status = b.wait(
        lambda s: any(a["station"] == "desk2" and a["state"] == "on-call" for a in s["agents"]),
        timeout=5,
        what="the call moved to desk2 at once",
    )
    assert next(a for a in status["agents"] if a["station"] == "desk1")["state"] == "unavailable"


def test_manual_station_rings_until_the_agent_answers_in_the_console(box, sipua, station_proc) -> None:
    b = box(stations={"desk1": DESKS["desk1"]})
    desk = station_proc(b.config, station="desk1", core=b.core)
    b.wait_agent("desk1", "available")
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait_agent("desk1", "ringing", timeout=20)
    desk.wait_log("ring", timeout=5)
    time.sleep(1.0)
    assert b.agent("desk1")["state"] == "ringing"  # nobody answered yet
    ControlClient(b.dir / "run" / "control.sock").answer("desk1")
    b.wait_agent("desk1", "on-call", timeout=10)
    ControlClient(b.dir / "run" / "control.sock").hangup("desk1")
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    rec = b.call_record(lambda r: r.caller == A)
    assert (rec.disposition, rec.agent, rec.hangup_by) == ("answered", "desk1", "agent")


def test_a_recorded_queue_stores_the_conversation_encrypted(box, sipua, station_proc, tone_wav) -> None:
    from appliance.store.media import MediaVault

    b = box(
        stations={"desk2": DESKS["desk2"]},
        overlay={
            "queues": {
                "front-desk": {
                    "name": "Front desk",
                    "ring_timeout_s": 6,
                    "wrap_up_s": 1,
                    "announce_every_s": 0,
                    "mailbox": "general",
                    "record": True,
                },
                "appointments": {"name": "A", "mailbox": "general"},
            }
        },
    )
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait_agent("desk2", "on-call", timeout=20)
    caller.play(tone_wav, cid, loop=True)
    time.sleep(3.0)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered"
    rows = b.rows("SELECT media_file, duration_s, agent, queue, expires_at > started_at FROM recordings")
    assert rows, b.tail()
    media, seconds, agent, queue, expires_later = rows[0]
    assert (agent, queue, expires_later) == ("desk2", "front-desk", 1) and seconds >= 2.0
    assert b"RIFF" not in (b.dir / "media" / media).read_bytes()[:64]
    wav = MediaVault(b.store).read_bytes(media)
    assert wav.startswith(b"RIFF") and len(wav) > 44 + 16000 * 2


def kept_place(b, caller, number: str) -> None:
    """``number`` asks to be called back and hangs up; the queue keeps their place."""
    cid = enter_queue(caller, b, number)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the caller to wait")
    caller.dtmf("1", cid)
    caller.wait_state("DISCONNECTED", cid, timeout=20)
    b.wait(lambda s: any(w["virtual"] for w in waiting(s)), timeout=5, what="the kept place")


def test_a_callback_closed_by_staff_is_not_dialled_again(box, sipua, station_proc) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)
    kept_place(b, sipua(name="patient"), A)
    (callback_id,) = b.query("SELECT id FROM callbacks WHERE number = ?", (A,))[0]
    b.control.call("callback.close", callback_id=callback_id, outcome="reached", actor="frontdesk")  # phoned them
    b.wait(lambda s: not waiting(s), timeout=5, what="the kept place given up")
    station_proc(b.config, station="desk2", core=b.core)  # an agent comes free
    b.wait_agent("desk2", "available")
    time.sleep(3.0)
    assert pstn.seen("incoming") == [], "the box called back a patient staff had already reached"
    assert b.query("SELECT status, outcome FROM callbacks") == [("done", "reached")]


def test_a_patient_who_rings_again_takes_the_kept_place_and_is_not_called_back(box, sipua, station_proc) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)
    patient = sipua(name="patient")
    kept_place(b, patient, A)
    cid = enter_queue(patient, b, A)  # they ring again before anyone is free
    status = b.wait(lambda s: len(waiting(s)) == 1 and not waiting(s)[0]["virtual"], timeout=20, what="one live place")
    assert waiting(status)[0]["caller"] == A
    station_proc(b.config, station="desk2", core=b.core)
    b.wait(
        lambda s: any(c["caller"] == A and c["agent"] == "desk2" for c in s["calls"]),
        timeout=20,
        what="the patient's own call connected",
    )
    patient.hangup(cid)
    time.sleep(3.0)
    assert pstn.seen("incoming") == [], "the box dialled a patient who was already on the line"
    assert b.query("SELECT status, outcome FROM callbacks") == [("cancelled", "called-in")]
