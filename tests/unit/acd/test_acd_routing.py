"""Routing: order, priority, longest idle, ring timeout rollover, lost stations, skills."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.acd import (
    Acd,
    AgentStateChanged,
    CancelRing,
    ConnectAgent,
    LeftQueue,
    QueueEvent,
    RingAgent,
    WrapUpDone,
)
from appliance.clock import FakeClock
from appliance.errors import ValidationError
from appliance.ivr import CancelTimer, Play, PromptRef, StartTimer
from tests.unit.acd.acd_helpers import one, only

NUM = "+48601234567"


def answer_and_finish(acd: Acd, clock: FakeClock, call_id: str, agent: str, talk_s: float = 60) -> list:
    acd.agent_answered(call_id, agent)
    clock.advance(talk_s)
    ended = acd.call_ended(call_id)
    wrap = one(ended, StartTimer)
    clock.advance(wrap.seconds)
    return acd.on_timer(wrap.timer_id)


def test_two_callers_one_agent_are_served_in_order(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    first = acd.enter("a", "front-desk", number=NUM)
    assert one(first, RingAgent) == RingAgent("a", "d1", "front-desk", 15.0, NUM)
    clock.advance(2)
    second = acd.enter("b", "front-desk", number=NUM)
    assert only(second, RingAgent) == []  # the only agent is busy ringing
    connect = acd.agent_answered("a", "d1")
    assert one(connect, ConnectAgent) == ConnectAgent("a", "d1", "front-desk", False)
    assert one(connect, LeftQueue).outcome == "answered"
    clock.advance(90)
    ended = acd.call_ended("a")
    assert one(ended, AgentStateChanged).state == "wrap-up"
    assert only(ended, RingAgent) == []  # not during wrap-up
    wrap = one(ended, StartTimer)
    clock.advance(10)
    after = acd.on_timer(wrap.timer_id)
    assert one(after, RingAgent).call_id == "b"


@pytest.mark.parametrize(
    ("arrivals", "served"),
    [
        ([("a", 0), ("b", 0), ("c", 3)], ["c", "a", "b"]),  # reminder caller who pressed 3
        ([("a", 5), ("b", 3), ("c", 5)], ["a", "c", "b"]),  # equal priority keeps arrival order
        ([("a", 0), ("b", 0), ("c", 0)], ["a", "b", "c"]),
    ],
)
def test_priority_then_arrival_order(
    make_acd: Callable[..., Acd], clock: FakeClock, arrivals: list[tuple[str, int]], served: list[str]
) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.pause("d1", "lunch")
    for call_id, priority in arrivals:
        acd.enter(call_id, "front-desk", priority=priority, number=NUM)
        clock.advance(5)
    order = []
    actions = acd.unpause("d1")
    for _ in arrivals:
        ring = one(actions, RingAgent)
        order.append(ring.call_id)
        actions = answer_and_finish(acd, clock, ring.call_id, "d1")
    assert order == served


def test_longest_idle_agent_gets_the_call(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    # d1 became idle first (added first); after it takes a call it goes to the back.
    assert one(acd.enter("a", "front-desk"), RingAgent).agent == "d1"
    assert one(acd.enter("b", "front-desk"), RingAgent).agent == "d2"
    answer_and_finish(acd, clock, "a", "d1")
    clock.advance(30)
    answer_and_finish(acd, clock, "b", "d2")
    assert one(acd.enter("c", "front-desk"), RingAgent).agent == "d1"


def test_ring_timeout_rolls_over_to_next_agent_and_back(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    ring = one(acd.enter("a", "front-desk"), RingAgent)
    assert ring.agent == "d1"
    timer = [t for t in only(acd.enter("x", "billing"), StartTimer)]  # unrelated queue: no agent
    assert all("ring" not in t.timer_id for t in timer)
    ring_timer = next(t for t in acd._timers if t.startswith("acd:ring:a:"))
    clock.advance(15)
    actions = acd.on_timer(ring_timer)
    assert one(actions, CancelRing) == CancelRing("a", "d1")
    assert one(actions, RingAgent).agent == "d2"
    assert [e.event for e in only(actions, QueueEvent)] == ["ring-timeout", "ring"]
    # d2 does not answer either: back to d1 (nobody else), the caller is never stuck.
    ring_timer = next(t for t in acd._timers if t.startswith("acd:ring:a:"))
    clock.advance(15)
    assert one(acd.on_timer(ring_timer), RingAgent).agent == "d1"


def test_missed_ring_sends_agent_to_back_of_idle_order(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.enter("a", "front-desk")
    ring_timer = next(t for t in acd._timers if t.startswith("acd:ring:a:"))
    clock.advance(15)
    acd.on_timer(ring_timer)  # d1 missed it; d2 rings now
    acd.agent_answered("a", "d2")
    assert one(acd.enter("b", "front-desk"), RingAgent).agent == "d1"  # the only free one
    acd.agent_answered("b", "d1")


def test_station_lost_while_ringing_moves_the_call_at_once(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    assert one(acd.enter("a", "front-desk"), RingAgent).agent == "d1"
    actions = acd.station_down("d1")
    assert actions.index(one(actions, CancelRing)) < actions.index(one(actions, RingAgent))
    assert one(actions, RingAgent).agent == "d2"
    assert [s.state for s in only(actions, AgentStateChanged)] == ["unavailable", "ringing"]
    assert only(acd.station_up("d1"), AgentStateChanged)[0].state == "available"


def test_station_lost_with_no_other_agent_keeps_caller_waiting(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk")
    actions = acd.station_down("d1")
    assert one(actions, CancelRing) and only(actions, RingAgent) == []
    assert acd.snapshot().queues[0].callers[0].state == "waiting"
    assert one(acd.station_up("d1"), RingAgent).call_id == "a"


def test_declined_call_goes_to_next_agent(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.enter("a", "front-desk")
    actions = acd.agent_declined("a", "d1")
    assert one(actions, RingAgent).agent == "d2"
    assert acd.agent_declined("a", "d1") == []  # not ringing d1 any more


def test_answer_from_an_agent_not_ringing_is_ignored(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.enter("a", "front-desk")
    assert acd.agent_answered("a", "d2") == []
    assert acd.agent_answered("zzz", "d1") == []


def test_agent_serves_only_its_skills_and_oldest_caller_across_queues(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"billing-only": ["billing"], "both": ["front-desk", "billing"]})
    acd.pause("billing-only")
    acd.pause("both")
    acd.enter("fd", "front-desk")
    clock.advance(5)
    acd.enter("bill", "billing")
    assert one(acd.unpause("billing-only"), RingAgent).call_id == "bill"
    assert one(acd.unpause("both"), RingAgent).call_id == "fd"


def test_paused_and_logged_out_agents_get_no_calls(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    pause = acd.pause("d1", "lunch")
    assert one(pause, AgentStateChanged).reason == "lunch"
    acd.logout("d2")
    assert only(acd.enter("a", "front-desk"), RingAgent) == []
    assert one(acd.login("d2"), RingAgent).agent == "d2"


def test_pause_while_ringing_moves_the_call(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.enter("a", "front-desk")
    actions = acd.pause("d1", "patient at counter")
    assert one(actions, CancelRing).agent == "d1" and one(actions, RingAgent).agent == "d2"


def test_pause_during_call_takes_effect_after_it(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]}, wrap_up_s=0)
    acd.enter("a", "front-desk")
    acd.agent_answered("a", "d1")
    assert only(acd.pause("d1", "break"), AgentStateChanged) == []  # still on-call
    clock.advance(30)
    assert [s.state for s in only(acd.call_ended("a"), AgentStateChanged)] == ["paused"]


def test_agent_ready_ends_wrap_up_early(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk")
    acd.enter("b", "front-desk")
    acd.agent_answered("a", "d1")
    wrap = one(acd.call_ended("a"), StartTimer)
    actions = acd.agent_ready("d1")
    assert CancelTimer(wrap.timer_id) in actions and one(actions, RingAgent).call_id == "b"
    assert acd.on_timer(wrap.timer_id) == []  # a late wrap timer does nothing


def test_wrap_up_time_is_reported_for_the_call(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]})  # wrap_up_s = 10
    acd.enter("a", "front-desk")
    acd.agent_answered("a", "d1")
    clock.advance(60)
    wrap = one(acd.call_ended("a"), StartTimer)
    clock.advance(4)
    assert one(acd.agent_ready("d1"), WrapUpDone) == WrapUpDone("a", "d1", 4.0)  # done early from the console
    acd.enter("b", "front-desk")
    acd.agent_answered("b", "d1")
    wrap = one(acd.call_ended("b"), StartTimer)
    clock.advance(10)
    assert one(acd.on_timer(wrap.timer_id), WrapUpDone) == WrapUpDone("b", "d1", 10.0)  # the full wrap-up


def test_recorded_queue_rings_an_agent_only_after_the_notice(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]}, record=True)
    actions = acd.enter("a", "front-desk")
    notice = one(actions, Play)
    assert notice.prompts[0] == PromptRef("recording_notice")
    assert only(actions, RingAgent) == []  # an auto-answer station would cut the notice short
    ring = one(acd.on_prompt_done("a", notice.play_id), RingAgent)  # heard to the end
    assert ring.agent == "d1"
    assert one(acd.agent_answered("a", "d1"), ConnectAgent).record is True


def test_bad_input_is_refused(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    with pytest.raises(ValidationError, match="unknown queue 'nope'"):
        acd.enter("a", "nope")
    acd.enter("a", "front-desk")
    with pytest.raises(ValidationError, match="already in the queue"):
        acd.enter("a", "front-desk")
    with pytest.raises(ValidationError, match="unknown queue 'x'"):
        acd.add_agent("d9", ["x"])
    assert acd.login("ghost") == []
    assert acd.on_timer("acd:ring:zzz:1") == []
    assert acd.call_ended("never-seen") == []
