"""Virtual hold, overflow, abandoned callers, announcements and the wallboard snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from appliance.acd import (
    Acd,
    CallbackRequested,
    CallbackResult,
    CallerAbandoned,
    CancelCallback,
    CancelRing,
    ConnectAgent,
    DialCallback,
    LeftQueue,
    QueueEvent,
    RingAgent,
    StartMusic,
)
from appliance.clock import FakeClock
from appliance.errors import ValidationError
from appliance.ivr import Hangup, Play, PromptRef, StartTimer, StartVoicemail, StopPlayback
from tests.unit.acd.acd_helpers import one, only

A, B, C = "+48600000001", "+48600000002", "+48600000003"


def timer(acd: Acd, kind: str, key: str) -> str:
    (found,) = [t for t, (k, owner) in acd._timers.items() if k == kind and owner == key]
    return found


def busy_agent(make_acd: Callable[..., Acd], **front_desk: object) -> Acd:
    """One agent, on a call with 'first' so that new callers wait."""
    acd = make_acd({"d1": ["front-desk"]}, **front_desk)
    acd.enter("first", "front-desk", number="+48600000000")
    acd.agent_answered("first", "d1")
    return acd


def free_agent(acd: Acd, clock: FakeClock) -> list:
    clock.advance(60)
    wrap = one(acd.call_ended("first"), StartTimer)
    clock.advance(wrap.seconds)
    return acd.on_timer(wrap.timer_id)


def request_callback(acd: Acd, call_id: str) -> list:
    actions = acd.on_digit(call_id, "1")
    confirm = one(actions, Play)
    assert confirm.prompts == (PromptRef("callback_confirm"),) and not confirm.interruptible
    done = acd.on_prompt_done(call_id, confirm.play_id)
    assert done[0] == Hangup(call_id, "callback-requested")
    assert acd.call_ended(call_id) == []  # the box's own hang-up is not an abandon
    return actions


def test_callback_keeps_place_and_is_dialed_exactly_once(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    clock.advance(30)
    acd.enter("b", "front-desk", number=B)
    clock.advance(30)
    requested = one(request_callback(acd, "a"), CallbackRequested)
    assert (requested.request_id, requested.number, requested.source) == ("a", A, "requested")
    assert requested.waited_s == 60 and requested.place_at == clock.now() - timedelta(seconds=60)
    assert acd.on_digit("a", "1") == []  # a second press after hanging up does nothing
    clock.advance(30)
    acd.enter("c", "front-desk", number=C)
    # Wallboard: a still holds position 1 although its line is closed.
    callers = acd.snapshot().queues[0].callers
    assert [(c.call_id, c.position, c.state) for c in callers] == [
        ("a", 1, "callback"),
        ("b", 2, "waiting"),
        ("c", 3, "waiting"),
    ]
    dial = one(free_agent(acd, clock), DialCallback)
    assert dial == DialCallback("a", A, "d1", "front-desk", "en")
    assert acd.snapshot().agents[0].state == "on-call"
    connected = acd.callback_connected("a", "cb-call-1")
    assert one(connected, ConnectAgent) == ConnectAgent("cb-call-1", "d1", "front-desk", False)
    assert one(connected, CallbackResult).status == "done"
    assert acd.callback_connected("a", "cb-call-2") == []  # never twice
    assert acd.callback_failed("a", "no-answer") == []
    # After that call, b is next (not a again).
    clock.advance(120)
    wrap = one(acd.call_ended("cb-call-1"), StartTimer)
    clock.advance(wrap.seconds)
    after = acd.on_timer(wrap.timer_id)
    assert only(after, DialCallback) == [] and one(after, RingAgent).call_id == "b"


def test_second_press_and_other_keys_do_nothing(make_acd: Callable[..., Acd]) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    assert acd.on_digit("a", "5") == []
    assert one(acd.on_digit("a", "1"), CallbackRequested)
    assert acd.on_digit("a", "1") == []


def test_callback_request_while_ringing_frees_the_agent(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk", number=A)
    actions = acd.on_digit("a", "1")
    assert one(actions, CancelRing) == CancelRing("a", "d1")
    play = one(actions, Play)
    # The agent is free but the caller is still listening to the confirmation: not dialed yet.
    assert only(actions, DialCallback) == []
    dial = one(acd.on_prompt_done("a", play.play_id), DialCallback)
    assert dial.agent == "d1"


def test_caller_hanging_up_during_confirmation_still_gets_the_callback(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    acd.on_digit("a", "1")
    ended = acd.call_ended("a")
    assert only(ended, CallerAbandoned) == []
    assert one(free_agent(acd, clock), DialCallback).request_id == "a"


def test_failed_callback_is_reported_once_and_not_redialed(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    request_callback(acd, "a")
    acd.enter("b", "front-desk", number=B)
    one(free_agent(acd, clock), DialCallback)
    failed = acd.callback_failed("a", "no-answer")
    assert one(failed, CallbackResult) == CallbackResult("a", "failed", "no-answer", clock.now(), "d1")
    assert one(failed, RingAgent).call_id == "b"  # the agent moves on
    assert acd.callback_failed("a", "no-answer") == []


def test_callback_dial_that_never_reports_times_out(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    request_callback(acd, "a")
    free_agent(acd, clock)
    clock.advance(60)
    actions = acd.on_timer(timer(acd, "dial", "a"))
    assert one(actions, CancelCallback) == CancelCallback("a", "d1")
    assert one(actions, CallbackResult).outcome == "timeout"
    assert acd.snapshot().agents[0].state == "available"


def test_station_lost_while_dialing_puts_request_back_in_its_place(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.pause("d2")
    acd.enter("first", "front-desk")
    acd.agent_answered("first", "d1")
    acd.enter("a", "front-desk", number=A)
    request_callback(acd, "a")
    free_agent(acd, clock)
    actions = acd.station_down("d1")
    assert one(actions, CancelCallback) == CancelCallback("a", "d1")
    assert only(actions, CallbackResult) == []
    assert one(acd.unpause("d2"), DialCallback).agent == "d2"


def test_cancelled_callback_is_never_dialed(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    request_callback(acd, "a")
    assert acd.pending_callback(A) == "a"
    assert one(acd.cancel_callback("a"), CallbackResult).status == "cancelled"
    assert acd.pending_callback(A) is None
    assert only(free_agent(acd, clock), DialCallback) == []


def test_restored_callback_goes_before_newer_callers(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.pause("d1")
    acd.enter("new", "front-desk", number=B)
    acd.add_callback("cb-7", "front-desk", A, clock.now() - timedelta(minutes=10))
    assert one(acd.unpause("d1"), DialCallback).request_id == "cb-7"
    with pytest.raises(ValidationError, match="no number"):
        acd.add_callback("cb-8", "front-desk", "", clock.now())


def test_anonymous_caller_gets_no_callback_offer(make_acd: Callable[..., Acd]) -> None:
    acd = busy_agent(make_acd)
    actions = acd.enter("anon", "front-desk", number="")
    assert PromptRef.of("callback_offer", key="1") not in one(actions, Play).prompts
    assert acd.on_digit("anon", "1") == []


def test_abandon_records_the_wait_and_position(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    acd.enter("b", "front-desk", number=B)
    clock.advance(42)
    actions = acd.call_ended("b")
    abandoned = one(actions, CallerAbandoned)
    assert (abandoned.number, abandoned.waited_s, abandoned.position) == (B, 42, 2)
    assert one(actions, LeftQueue).outcome == "abandoned"
    assert [e.event for e in only(actions, QueueEvent)] == ["abandon"]
    assert acd.call_ended("b") == []  # reported once


def test_abandon_while_ringing_frees_the_agent(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk", number=A)
    actions = acd.call_ended("a")
    assert one(actions, CancelRing) == CancelRing("a", "d1")
    assert one(actions, CallerAbandoned).waited_s == 0
    assert acd.snapshot().agents[0].state == "available"


def test_max_wait_overflows_to_voicemail(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = busy_agent(make_acd)
    acd.enter("a", "front-desk", number=A)
    clock.advance(600)
    actions = acd.on_timer(timer(acd, "maxwait", "a"))
    assert one(actions, StartVoicemail) == StartVoicemail(
        "a", "general", (PromptRef("overflow"), PromptRef("leave_message")), "en"
    )
    assert one(actions, LeftQueue).outcome == "overflow"
    assert one(actions, QueueEvent).data == {"reason": "max-wait", "to": "voicemail"}
    assert acd.call_ended("a") == []  # in voicemail now, not an abandon


def test_max_wait_while_ringing_waits_for_the_ring(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]}, max_wait_s=30, ring_timeout_s=20)
    acd.enter("a", "front-desk", number=A)
    clock.advance(20)
    acd.on_timer(timer(acd, "ring", "a"))  # d1 missed it; rings again at once
    clock.advance(10)
    assert acd.on_timer(timer(acd, "maxwait", "a")) == []  # ringing: not yet
    clock.advance(10)
    actions = acd.on_timer(timer(acd, "ring", "a"))
    assert one(actions, StartVoicemail).call_id == "a"
    assert only(actions, RingAgent) == []


def test_full_queue_overflows_at_entry(make_acd: Callable[..., Acd]) -> None:
    acd = busy_agent(make_acd, max_length=2)
    acd.enter("a", "front-desk", number=A)
    acd.enter("b", "front-desk", number=B)
    actions = acd.enter("c", "front-desk", number=C)
    assert [e.event for e in only(actions, QueueEvent)] == ["enter", "overflow"]
    assert one(actions, StartVoicemail).call_id == "c"
    assert only(actions, StartMusic) == []


def test_callback_requests_do_not_fill_the_queue(make_acd: Callable[..., Acd]) -> None:
    acd = busy_agent(make_acd, max_length=1)
    acd.enter("a", "front-desk", number=A)
    request_callback(acd, "a")
    assert only(acd.enter("b", "front-desk", number=B), StartVoicemail) == []


def test_overflow_to_callback_keeps_place(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["results"]})
    acd.enter("first", "results", number="+48600000000")
    acd.agent_answered("first", "d1")
    acd.enter("a", "results", number=A)
    clock.advance(60)
    actions = acd.on_timer(timer(acd, "maxwait", "a"))
    assert one(actions, CallbackRequested).source == "overflow"
    assert one(actions, Play).prompts == (PromptRef("overflow"), PromptRef("callback_confirm"))
    anon = acd.enter("anon", "results")
    clock.advance(60)
    assert one(acd.on_timer(timer(acd, "maxwait", "anon")), StartVoicemail).call_id == "anon"
    assert only(anon, CallbackRequested) == []


def test_announcements_on_entry_and_every_period(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]}, wrap_up_s=0)
    acd.enter("first", "front-desk")
    acd.agent_answered("first", "d1")
    acd.enter("a", "front-desk", number=A)
    entry = acd.enter("b", "front-desk", number=B)
    assert one(entry, Play).prompts == (
        PromptRef("queue_hold"),
        PromptRef.of("queue_position", position=2),
        PromptRef.of("queue_wait", minutes=6),  # 2 x 180 s default handle time / 1 agent
        PromptRef.of("callback_offer", key="1"),
    )
    assert sorted(t.seconds for t in only(entry, StartTimer)) == [45, 600]  # announcements, max wait
    announce = timer(acd, "announce", "b")
    clock.advance(45)
    again = acd.on_timer(announce)
    assert one(again, Play).prompts[0] == PromptRef.of("queue_position", position=2)
    assert one(again, StartTimer).seconds == 45
    # The first call ends after 4 minutes: the handle time and b's position change.
    clock.advance(195)
    acd.call_ended("first")  # a rings now
    clock.advance(45)
    third = acd.on_timer(timer(acd, "announce", "b"))
    assert one(third, Play).prompts[:2] == (
        PromptRef.of("queue_position", position=2),
        PromptRef.of("queue_wait", minutes=8),  # 2 x 240 s / 1
    )
    acd.agent_answered("a", "d1")
    third_play = one(third, Play)
    answered = acd.call_ended("a") + acd.agent_answered("b", "d1")
    assert StopPlayback("b", third_play.play_id) in answered
    assert [t for t in acd._timers if ":b:" in t] == []


def test_no_announcements_when_disabled_and_no_wait_without_agents(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({})
    actions = acd.enter("a", "billing", number=A)  # announce_every_s = 0, no callback key
    assert one(actions, Play).prompts == (PromptRef("queue_hold"),)
    assert len(only(actions, StartTimer)) == 1  # max wait only
    actions = acd.enter("b", "front-desk", number=B)
    assert one(actions, Play).prompts == (
        PromptRef("queue_hold"),
        PromptRef.of("queue_position", position=1),
        PromptRef.of("callback_offer", key="1"),
    )


def test_snapshot_for_the_wallboard(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk", "billing"]})
    acd.pause("d2", "lunch")
    acd.enter("a", "front-desk", number=A)
    acd.agent_answered("a", "d1")
    acd.enter("b", "front-desk", number=B, priority=2)
    clock.advance(30)
    acd.enter("c", "front-desk", number=C)
    clock.advance(10)
    snap = acd.snapshot()
    desk = snap.queues[0]
    assert (desk.id, desk.name, desk.waiting, desk.callbacks, desk.longest_wait_s) == (
        "front-desk",
        "Front desk",
        2,
        0,
        40,
    )
    assert [(c.call_id, c.position, c.waited_s, c.priority) for c in desk.callers] == [("b", 1, 40, 2), ("c", 2, 10, 0)]
    assert (desk.agents_staffed, desk.agents_available) == (1, 0)
    assert desk.estimated_wait_s == 3 * 180
    agents = {a.id: a for a in snap.agents}
    assert (agents["d1"].state, agents["d1"].call_id) == ("on-call", "a")
    assert (agents["d2"].state, agents["d2"].reason) == ("paused", "lunch")
    data = snap.as_dict()
    assert data["queues"][0]["callers"][0]["number"] == B and isinstance(data["at"], str)


def test_has_call(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk", number=A)
    assert acd.has_call("a")
    acd.agent_answered("a", "d1")
    assert acd.has_call("a")
    acd.call_ended("a")
    assert not acd.has_call("a")
