"""Calls put straight through to an agent (transfers) and connections that fail
before the agent comes on the line (a transfer or a callback's reserved agent)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.acd import Acd, AgentStateChanged, CancelRing, ConnectAgent, RingAgent, WrapUpDone
from appliance.clock import FakeClock
from appliance.errors import ValidationError
from appliance.ivr import StartTimer
from tests.unit.acd.acd_helpers import one, only

NUM = "+48601234567"


def states(acd: Acd) -> dict[str, str]:
    return {a.id: a.state for a in acd.snapshot().agents}


def talking(acd: Acd, call_id: str, agent: str) -> None:
    ring = one(acd.enter(call_id, "front-desk", number=NUM), RingAgent)
    assert ring.agent == agent
    one(acd.agent_answered(call_id, agent), ConnectAgent)


def test_a_transfer_target_is_on_call_and_the_first_agent_wraps_up(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    talking(acd, "a", "d1")
    clock.advance(60)
    moved = acd.connect_direct("a", "d2", "front-desk")
    assert states(acd) == {"d1": "wrap-up", "d2": "on-call"}
    assert {(s.agent, s.state) for s in only(moved, AgentStateChanged)} == {("d1", "wrap-up"), ("d2", "on-call")}
    # d2 is busy: a new caller is not offered to it.
    assert only(acd.enter("b", "front-desk", number=NUM), RingAgent) == []
    clock.advance(120)
    ended = acd.call_ended("a")
    assert one(ended, AgentStateChanged) == AgentStateChanged("d2", "wrap-up", "", clock.now())
    wrap = [t for t in only(ended, StartTimer) if t.timer_id.startswith("acd:wrap:d2")][0]
    clock.advance(wrap.seconds)
    done = acd.on_timer(wrap.timer_id)
    assert one(done, WrapUpDone).agent == "d2"
    assert acd.handle_times.average("front-desk") is not None


def test_a_transfer_to_an_agent_being_rung_passes_its_caller_on(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"], "d3": ["front-desk"]})
    talking(acd, "a", "d1")
    assert one(acd.enter("b", "front-desk", number=NUM), RingAgent).agent == "d2"
    moved = acd.connect_direct("a", "d2", "front-desk")
    assert one(moved, CancelRing) == CancelRing("b", "d2")
    assert one(moved, RingAgent).agent == "d3"  # b goes to the next agent at once
    assert states(acd)["d2"] == "on-call"


def test_a_transfer_to_a_busy_agent_is_refused_and_changes_nothing(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    talking(acd, "a", "d1")
    talking(acd, "b", "d2")
    with pytest.raises(ValidationError, match="on another call"):
        acd.connect_direct("a", "d2", "front-desk")
    with pytest.raises(ValidationError, match="unknown"):
        acd.connect_direct("a", "d2", "nowhere")
    assert states(acd) == {"d1": "on-call", "d2": "on-call"}


def test_a_failed_transfer_puts_the_caller_first_and_rests_the_agent(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    talking(acd, "a", "d1")
    talking(acd, "w", "d2")
    acd.enter("b", "front-desk", number=NUM, priority=3)  # waiting, even with a higher priority
    clock.advance(30)
    acd.call_ended("w")  # d2 wraps up
    acd.connect_direct("a", "d2", "front-desk")
    back = acd.connect_failed("a", "d2", "front-desk", number=NUM)
    assert states(acd)["d2"] == "available"
    assert only(back, RingAgent) == []  # d2 rests, d1 wraps up: nobody to ring yet
    callers = acd.snapshot().queues[0].callers
    assert [c.call_id for c in callers] == ["a", "b"]  # a is at the front again
    assert acd.connect_failed("a", "d2", "front-desk") == []  # once
    rest = [t for t in only(back, StartTimer) if t.timer_id.startswith("acd:rest:d2")][0]
    clock.advance(rest.seconds)
    assert one(acd.on_timer(rest.timer_id), RingAgent) == RingAgent("a", "d2", "front-desk", 15.0, NUM)


def test_a_callbacks_agent_that_cannot_be_reached_frees_the_agent(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.pause("d2")
    acd.add_callback("req", "front-desk", NUM, clock.now())
    dial = acd.snapshot().agents[0]
    assert dial.state == "on-call"
    one(acd.callback_connected("req", "cb1"), ConnectAgent)
    back = acd.connect_failed("cb1", "d1", "front-desk", number=NUM)
    assert states(acd) == {"d1": "available", "d2": "paused"}
    assert [c.call_id for c in acd.snapshot().queues[0].callers] == ["cb1"]
    assert only(back, RingAgent) == []
    assert one(acd.unpause("d2"), RingAgent).call_id == "cb1"  # the next agent takes them


def test_a_caller_sent_back_into_the_queue_keeps_their_priority_and_arrival(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    """As the console's transfer to a queue does: call_ended, then enter with the old place."""
    acd = make_acd({"d1": ["front-desk"]})
    one(acd.enter("a", "front-desk", priority=7, number=NUM), RingAgent)
    clock.advance(20)  # a waited 20 s before d1 answered
    one(acd.agent_answered("a", "d1"), ConnectAgent)
    clock.advance(5)
    acd.enter("b", "front-desk", priority=7, number=NUM)  # b arrives while d1 talks to a
    clock.advance(60)
    place = acd.place_of("a")
    acd.call_ended("a")
    acd.enter("a", "front-desk", priority=5, number=NUM, place=place)
    line = acd.snapshot().queues[0].callers
    assert [(w.call_id, w.priority) for w in line] == [("a", 7), ("b", 7)]  # a arrived first: ahead of b
    assert line[0].waited_s == 20 + 5 + 60  # counted from a's first arrival


def test_a_caller_who_never_queued_has_no_place_to_keep(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    assert acd.place_of("nobody") is None
