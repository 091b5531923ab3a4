"""The ACD and the switchboard's lines: never ring into a full box, never spin on a decline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from appliance.acd import Acd, DialCallback, RingAgent
from appliance.clock import FakeClock
from appliance.ivr import StartTimer
from tests.unit.acd.acd_helpers import one, only

A = "+48601000001"


def rest_timer(actions: list[object], agent: str) -> str:
    return one(
        [t for t in only(actions, StartTimer) if t.timer_id.startswith(f"acd:rest:{agent}:")], StartTimer
    ).timer_id


def test_an_agent_that_declines_is_not_rung_again_at_once(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    assert one(acd.enter("a", "front-desk"), RingAgent).agent == "d1"
    declined = acd.agent_declined("a", "d1")
    assert only(declined, RingAgent) == []  # the caller waits instead of d1 being re-rung in a loop
    timer = rest_timer(declined, "d1")
    assert one(acd.on_timer(timer), RingAgent).agent == "d1"  # after the rest, d1 is offered the call again


def test_a_decline_still_moves_the_call_to_the_next_agent_at_once(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    acd.enter("a", "front-desk")
    assert one(acd.agent_declined("a", "d1"), RingAgent).agent == "d2"
    assert only(acd.enter("b", "front-desk"), RingAgent) == []  # d1 rests, d2 rings for a
    assert only(acd.agent_declined("a", "d2"), RingAgent) == []  # both rest: nobody spins


def test_no_agent_is_rung_while_every_line_is_in_use(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    free = [0]
    acd.free_lines = lambda: free[0]
    assert only(acd.enter("a", "front-desk"), RingAgent) == []
    free[0] = 1
    assert one(acd.lines_freed(), RingAgent).call_id == "a"
    free[0] = 0  # the switchboard used that line to ring d1
    assert only(acd.enter("b", "front-desk"), RingAgent) == []


def test_one_freed_line_rings_one_agent_for_the_first_caller(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    free = [0]
    acd.free_lines = lambda: free[0]
    acd.enter("a", "front-desk")
    acd.enter("b", "front-desk")
    free[0] = 1
    assert [r.call_id for r in only(acd.lines_freed(), RingAgent)] == ["a"]  # two agents free, one line


def test_a_callback_waits_for_two_free_lines(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.pause("d1")
    acd.add_callback("cb-1", "front-desk", A, clock.now() - timedelta(minutes=5))
    free = [1]
    acd.free_lines = lambda: free[0]
    assert only(acd.unpause("d1"), DialCallback) == []  # patient and agent need a line each
    free[0] = 2
    assert one(acd.lines_freed(), DialCallback).request_id == "cb-1"


def test_callbacks_keep_their_place_while_no_route_can_dial(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    """After a reboot the trunk registers a few seconds late: a callback must not be burnt as failed."""
    acd = make_acd({"d1": ["front-desk"]})
    acd.pause("d1")
    route = [False]
    acd.can_dial = lambda: route[0]
    acd.add_callback("cb-1", "front-desk", A, clock.now() - timedelta(minutes=5))
    assert only(acd.unpause("d1"), DialCallback) == []
    route[0] = True  # the trunk registered
    assert one(acd.lines_freed(), DialCallback).request_id == "cb-1"


def test_callers_on_the_line_still_reach_agents_while_no_route_can_dial(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.can_dial = lambda: False
    acd.add_callback("cb-1", "front-desk", A, clock.now() - timedelta(minutes=5))
    assert one(acd.enter("a", "front-desk"), RingAgent).agent == "d1"
