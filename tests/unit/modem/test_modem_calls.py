"""The voice line's state from URCs and +CLCC, and the events it produces."""

from __future__ import annotations

from appliance.events import Event
from appliance.modem.calls import CallTracker
from appliance.modem.wire.atparse import CallInfo

NUMBER = "+48601234567"


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.kind, e.data.get("state", e.data.get("number", ""))) for e in events]


def test_incoming_call_ring_clip_answer_remote_hangup() -> None:
    t = CallTracker()
    assert kinds(t.on_urc("RING")) == [("modem.call.state", "ringing")]
    events = t.on_urc(f'+CLIP: "{NUMBER}",145,"",0,"",0')
    assert [(e.kind, e.data["number"]) for e in events] == [("modem.call.incoming", NUMBER)]
    assert t.on_urc("RING") == []  # rings again: nothing new
    assert t.on_urc(f'+CLIP: "{NUMBER}",145,"",0,"",0') == []  # announced once
    assert kinds(t.answered()) == [("modem.call.state", "active")]
    ended = t.on_urc("NO CARRIER")
    assert [(e.data["state"], e.data["reason"], e.data["number"]) for e in ended] == [("idle", "hangup", NUMBER)]
    assert not t.busy


def test_clip_without_ring_first_still_starts_the_call() -> None:
    t = CallTracker()
    events = t.on_urc(f'+CLIP: "{NUMBER}",145,"",0,"",0')
    assert [e.kind for e in events] == ["modem.call.state", "modem.call.incoming"]


def test_withheld_number_is_announced_as_empty() -> None:
    t = CallTracker()
    t.on_urc("RING")
    events = t.on_urc('+CLIP: "",128,"",0,"",1')
    assert events[0].data["number"] == ""


def test_ring_without_caller_id_is_announced_from_clcc() -> None:
    t = CallTracker()
    t.on_urc("RING")
    events = t.on_clcc([CallInfo(1, False, "incoming", True, NUMBER)])
    assert [(e.kind, e.data.get("number")) for e in events] == [("modem.call.incoming", NUMBER)]


def test_caller_gives_up_before_answer_is_a_missed_call() -> None:
    t = CallTracker()
    t.on_urc("RING")
    events = t.on_clcc([])
    assert events[0].data["reason"] == "missed" and events[0].data["state"] == "idle"


def test_outgoing_call_progress_from_clcc() -> None:
    t = CallTracker()
    assert kinds(t.dialed(NUMBER)) == [("modem.call.state", "dialing")]
    assert kinds(t.on_clcc([CallInfo(1, True, "dialing", True, NUMBER)])) == []
    assert kinds(t.on_clcc([CallInfo(1, True, "alerting", True, NUMBER)])) == [("modem.call.state", "alerting")]
    assert kinds(t.on_clcc([CallInfo(1, True, "active", True, NUMBER)])) == [("modem.call.state", "active")]
    end = t.hung_up()
    assert end[0].data["reason"] == "local" and end[0].data["direction"] == "out"


def test_busy_and_unanswered_outgoing_calls() -> None:
    t = CallTracker()
    t.dialed(NUMBER)
    assert t.on_urc("BUSY")[0].data["reason"] == "busy"
    t.dialed(NUMBER)
    assert t.on_urc("NO ANSWER")[0].data["reason"] == "no-answer"
    t.dialed(NUMBER)
    assert t.on_clcc([])[0].data["reason"] == "no-answer"  # ended while still alerting


def test_vendor_end_lines() -> None:
    for line in ("VOICE CALL: END: 000023", "^CEND:1,0,104,16"):
        t = CallTracker()
        t.dialed(NUMBER)
        t.on_clcc([CallInfo(1, True, "active", True, NUMBER)])
        assert t.on_urc(line)[0].data["state"] == "idle"


def test_call_numbers_tell_calls_apart_and_data_calls_are_ignored() -> None:
    t = CallTracker()
    t.dialed(NUMBER)
    first = t.snapshot().call
    t.hung_up()
    t.on_urc("RING")
    assert t.snapshot().call == first + 1
    t2 = CallTracker()
    assert t2.on_clcc([CallInfo(1, True, "active", False, "")]) == []


def test_nothing_happens_when_idle() -> None:
    t = CallTracker()
    assert t.on_urc("NO CARRIER") == [] and t.hung_up() == [] and t.answered() == []
    assert t.on_urc("+CSQ: 20,99") == []


def test_a_second_caller_waiting_is_announced_and_the_line_stays_with_the_first() -> None:
    t = CallTracker()
    t.on_urc("RING")
    t.on_urc(f'+CLIP: "{NUMBER}",145,"",0,"",0')
    t.answered()
    events = t.on_urc('+CCWA: "+48601999888",145,1,,0')
    assert [(e.kind, e.data["number"], e.data["call"]) for e in events] == [("modem.call.waiting", "+48601999888", 1)]
    both = [CallInfo(1, False, "active", True, NUMBER), CallInfo(2, False, "waiting", True, "+48601999888")]
    assert t.on_clcc(both) == []  # the waiting caller does not take over the line
    assert (t.state, t.number) == ("active", NUMBER)


def test_a_waiting_notice_after_the_call_ended_is_ignored() -> None:
    assert CallTracker().on_urc('+CCWA: "+48601999888",145,1') == []


def test_after_a_waiting_caller_end_notices_wait_for_clcc_and_repeats_are_ignored() -> None:
    """Releasing the waiting caller may produce NO CARRIER / ^CEND: the first call must not be dropped."""
    t = CallTracker()
    t.on_urc("RING")
    t.on_urc(f'+CLIP: "{NUMBER}",145,"",0,"",0')
    t.answered()
    assert len(t.on_urc('+CCWA: "+48601999888",145,1')) == 1
    assert t.on_urc('+CCWA: "+48601999888",145,1') == []  # announced again by the modem: one callback
    for notice in ("NO CARRIER", "^CEND:2,0,104,16", "VOICE CALL: END: 000012"):
        assert t.on_urc(notice) == []
    assert t.state == "active"
    assert t.on_clcc([CallInfo(1, False, "active", True, NUMBER)]) == []  # +CLCC: the first call is still on
    ended = t.on_clcc([])  # and when +CLCC shows no call, the line is idle
    assert [(e.data["state"], e.data["number"]) for e in ended] == [("idle", NUMBER)]
    t.on_urc("RING")  # the next call: the same second caller is news again
    assert [e.data["call"] for e in t.on_urc('+CCWA: "+48601999888",145,1')] == [2]
