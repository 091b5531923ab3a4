"""The agent console and the queue's rules end to end, with the real core:
hold and unhold, transfer to a queue and to an external number, overflow
when a queue is full, and a holiday on an otherwise open day."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.integration.switchboard.conftest import DESKS
from tests.integration.switchboard.test_queue import A, B, enter_queue, waiting

DESK3 = {"name": "Desk 3", "queues": ["billing"], "answer_mode": "auto"}
DOCTOR = "+12125550999"
CLINIC_TZ = "America/New_York"  # the demo clinic's time zone (appliance/demo/seed.py)


def heard_so_far(ua, call: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds of non-silent audio the UA has received on ``call`` up to now."""
    seen = ua.seen("audio", lambda e: e["call"] == call)
    return float(seen[-1]["heard"]) if seen else 0.0


def call_of(status: dict, number: str) -> dict:
    """The live call of ``number`` in the snapshot ({} when there is none)."""
    return next((c for c in status["calls"] if c["caller"] == number), {})


def on_desk2(box, sipua, station_proc, **options):  # type: ignore[no-untyped-def]
    """Patient A waits in front-desk and is connected to desk2 (auto-answer)."""
    stations = {"desk2": DESKS["desk2"], **options.pop("stations", {})}
    b = box(stations=stations, **options)
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    caller = sipua(name="patient")
    cid = enter_queue(caller, b, A)
    b.wait(lambda s: call_of(s, A).get("agent") == "desk2", timeout=20, what="A talking to desk2")
    b.wait_agent("desk2", "on-call", timeout=5)
    return b, caller, cid


def test_hold_plays_music_to_the_caller_and_the_cdr_counts_the_hold(box, sipua, station_proc) -> None:
    b, caller, cid = on_desk2(box, sipua, station_proc)
    time.sleep(1.0)  # talk (the station sends silence)
    before = heard_so_far(caller, cid)
    b.control.hold("desk2")
    held_at = time.monotonic()
    status = b.wait(lambda s: call_of(s, A).get("state") == "held", timeout=5, what="A held")
    assert call_of(status, A)["agent"] == "desk2"  # still desk2's caller while held
    caller.wait_heard(before + 1.5, cid, timeout=6)  # music on hold reaches the caller
    time.sleep(max(0.0, 3.0 - (time.monotonic() - held_at)))
    b.control.unhold("desk2")
    held_for = time.monotonic() - held_at
    b.wait(lambda s: call_of(s, A).get("state") == "talking", timeout=5, what="A talking again")
    assert b.agent("desk2")["state"] == "on-call"
    time.sleep(1.0)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered" and rec.agent == "desk2"
    assert abs(rec.hold_seconds - held_for) <= 1.0, (rec.hold_seconds, held_for)
    events = [e["event"] for e in b.query_events(rec.uuid)]
    assert "hold" in events and "unhold" in events and events.index("hold") < events.index("unhold")


def test_transfer_to_another_queue_reaches_an_agent_with_that_skill(box, sipua, station_proc) -> None:
    b, caller, cid = on_desk2(box, sipua, station_proc, stations={"desk3": DESK3})
    station_proc(b.config, station="desk3", core=b.core)  # billing only: never rung for front-desk
    b.wait_agent("desk3", "available")
    assert b.agent("desk3")["state"] == "available"
    b.control.transfer("desk2", to_queue="billing")
    status = b.wait(lambda s: call_of(s, A).get("agent") == "desk3", timeout=15, what="A connected to desk3 (billing)")
    assert call_of(status, A)["queue"] == "billing"
    b.wait_agent("desk2", "available", timeout=5)  # desk2 is free after its wrap-up
    time.sleep(1.0)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered"
    events = b.query_events(rec.uuid)
    assert [(e["event"], e["queue"], e["agent"]) for e in events if e["event"] in ("answer", "transfer")] == [
        ("answer", "front-desk", "desk2"),
        ("transfer", "billing", "desk2"),
        ("answer", "billing", "desk3"),
    ]
    # The record's queue, agent and answer time must tell one story (ASA and the
    # per-queue KPIs read them together): the queue whose agent answered at that time.
    answers = {e["queue"]: e for e in events if e["event"] == "answer"}
    assert rec.queue in answers
    assert (rec.agent, rec.agent_answered_at) == (answers[rec.queue]["agent"], answers[rec.queue]["at"])


def test_transfer_to_an_external_number_bridges_the_caller(box, sipua, station_proc, tone_wav) -> None:
    b, caller, cid = on_desk2(box, sipua, station_proc)
    pstn = sipua(name="pstn", port=b.pstn_port, auto_answer=True)  # the provider: the doctor's mobile
    b.control.transfer("desk2", to_number=DOCTOR)
    incoming = pstn.wait_for("incoming", timeout=10)
    assert DOCTOR.lstrip("+") in incoming["to"]
    pstn.wait_state("CONFIRMED", incoming["call"], timeout=5)
    b.wait(lambda s: call_of(s, A).get("state") == "talking", timeout=10, what="A bridged to the doctor")
    before = heard_so_far(caller, cid)
    pstn.play(tone_wav, incoming["call"], loop=True)  # the doctor speaks
    caller.wait_heard(before + 1.0, cid, timeout=6)  # and the patient hears them
    b.wait(lambda s: b.agent("desk2")["state"] != "on-call", timeout=5, what="desk2 off the call")
    caller.hangup(cid)
    pstn.wait_state("DISCONNECTED", incoming["call"], timeout=5)  # the doctor's leg ends with the caller's
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "transferred"
    assert rec.agent == "desk2"  # who answered first
    time.sleep(0.5)
    assert b.query("SELECT count(*) FROM callbacks") == [(0,)]


def full_queue(overflow: str) -> dict:
    return {
        "queues": {
            "front-desk": {"max_length": 1, "overflow": overflow, "mailbox": "general", "callback_key": "1"},
        }
    }


def test_a_full_queue_sends_the_next_caller_to_voicemail(box, sipua) -> None:
    b = box(stations={}, overlay=full_queue("voicemail"))
    first, second = sipua(name="first"), sipua(name="second")
    c1 = enter_queue(first, b, A)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the first caller to wait")
    c2 = enter_queue(second, b, B)
    b.wait(lambda s: call_of(s, B).get("state") == "voicemail", timeout=20, what="B in voicemail")
    assert [w["caller"] for w in waiting(b.status())] == [A]  # A keeps their place
    second.hangup(c2)
    first.hangup(c1)
    rec = b.call_record(lambda r: r.caller == B)
    assert rec.disposition == "overflow"  # hung up in the mailbox without leaving a message
    events = b.query_events(rec.uuid)
    overflow = [e for e in events if e["event"] == "overflow"]
    assert overflow, events


def test_a_full_queue_offers_the_next_caller_a_callback(box, sipua) -> None:
    b = box(stations={}, overlay=full_queue("callback"))
    first, second = sipua(name="first"), sipua(name="second")
    c1 = enter_queue(first, b, A)
    b.wait(lambda s: len(waiting(s)) == 1, timeout=20, what="the first caller to wait")
    c2 = enter_queue(second, b, B)
    second.wait_state("DISCONNECTED", c2, timeout=20)  # "we will call you back", then the box hangs up
    rows = b.rows("SELECT number, source, status FROM callbacks")
    assert rows == [(B, "overflow", "open")]
    first.hangup(c1)
    rec = b.call_record(lambda r: r.caller == B)
    assert rec.disposition == "callback"


def test_a_holiday_on_an_open_day_takes_the_closed_path(box, sipua) -> None:
    today = datetime.now(ZoneInfo(CLINIC_TZ)).date().isoformat()
    b = box(open_hours=True, overlay={"hours": {"holidays": [today]}})
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=A)
    caller.wait_state("CONFIRMED", cid)
    caller.wait_heard(1.0, cid, timeout=15)
    caller.hangup(cid)
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.ivr_path[:2] == ["hours", "closed"]
    assert rec.queue is None
