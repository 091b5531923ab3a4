"""A reloaded config rebuilds queues and agents in place: places kept, calls untouched."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.acd import Acd, AgentStateChanged, CancelRing, QueueEvent, RingAgent, WrapUpDone
from appliance.clock import FakeClock
from appliance.config.callflow import QueueSettings
from appliance.errors import ValidationError
from appliance.ivr import StartTimer
from tests.unit.acd.acd_helpers import one, only
from tests.unit.acd.conftest import queues

NUM = "+48601234567"


def agents_of(acd: Acd) -> dict[str, tuple[tuple[str, ...], str]]:
    return {a.id: (a.skills, a.name) for a in acd._agents.values()}


def positions(acd: Acd, queue: str) -> list[str]:
    view = next(q for q in acd.snapshot().queues if q.id == queue)
    return [w.call_id for w in view.callers]


def test_a_new_queue_takes_callers_at_once_and_its_new_agent_rings(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    with pytest.raises(ValidationError):
        acd.enter("x", "vaccines")
    new = {**queues(), "vaccines": QueueSettings(name="Vaccines", ring_timeout_s=9, announce_every_s=0)}
    acd.reconfigure(new, {**agents_of(acd), "d9": (("vaccines",), "Nurse")}, "front-desk")
    acd.station_up("d9")
    acd.login("d9")
    ring = one(acd.enter("c1", "vaccines", number=NUM), RingAgent)
    assert (ring.agent, ring.timeout_s) == ("d9", 9.0)


def test_changed_policy_applies_to_the_next_ring_and_waiting_callers_keep_their_place(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    assert one(acd.enter("a", "front-desk"), RingAgent).agent == "d1"
    acd.agent_answered("a", "d1")
    for cid in ("b", "c"):
        acd.enter(cid, "front-desk")
        clock.advance(5)
    assert positions(acd, "front-desk") == ["b", "c"]
    out = acd.reconfigure(queues(ring_timeout_s=4, wrap_up_s=0), agents_of(acd), "front-desk")
    assert not only(out, CancelRing) and positions(acd, "front-desk") == ["b", "c"]
    ended = acd.call_ended("a")  # wrap_up_s = 0 now: straight to the next caller, ringing 4 s
    assert not only(ended, WrapUpDone)
    assert one(ended, RingAgent) == RingAgent("b", "d1", "front-desk", 4.0, "")


def test_callers_of_a_removed_queue_move_to_the_front_desk_at_their_place(
    make_acd: Callable[..., Acd], clock: FakeClock
) -> None:
    acd = make_acd({"d1": ["front-desk", "billing"]})
    acd.pause("d1")
    acd.enter("early", "billing")
    clock.advance(10)
    acd.enter("late", "front-desk")
    without_billing = {k: v for k, v in queues().items() if k != "billing"}
    out = acd.reconfigure(without_billing, {"d1": (("front-desk",), "d1")}, "front-desk")
    moved = one(out, QueueEvent)
    assert (moved.call_id, moved.queue, moved.event, moved.data) == (
        "early",
        "front-desk",
        "moved",
        {"from": "billing"},
    )
    assert positions(acd, "front-desk") == ["early", "late"]  # arrived first, still first
    assert one(acd.unpause("d1"), RingAgent).call_id == "early"


def test_a_removed_agent_keeps_its_call_then_is_gone(make_acd: Callable[..., Acd], clock: FakeClock) -> None:
    acd = make_acd({"d1": ["front-desk"], "d2": ["front-desk"]})
    assert one(acd.enter("talking", "front-desk"), RingAgent).agent == "d1"
    acd.agent_answered("talking", "d1")
    assert one(acd.enter("ringing", "front-desk"), RingAgent).agent == "d2"
    out = acd.reconfigure(queues(), {}, "front-desk")  # both stations removed
    assert one(out, CancelRing) == CancelRing("ringing", "d2")  # a call ringing a removed station moves on
    assert "d2" not in acd._agents and acd.has_call("talking")
    assert [(a.id, a.state) for a in acd.snapshot().agents] == [("d1", "on-call")]  # still on its call
    ended = acd.call_ended("talking")
    assert not only(ended, StartTimer)  # no wrap-up for a station that is gone
    assert acd.snapshot().agents == () and one(ended, AgentStateChanged).state == "available"
    assert positions(acd, "front-desk") == ["ringing"]  # the waiting caller kept its place


def test_a_rebuild_that_cannot_apply_changes_nothing(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.enter("a", "front-desk")
    before = (dict(acd.queues), agents_of(acd))
    with pytest.raises(ValidationError, match="unknown queue 'nope'"):
        acd.reconfigure(queues(), {"d1": (("nope",), "d1")}, "front-desk")
    with pytest.raises(ValidationError, match="no queue 'gone'"):
        acd.reconfigure(queues(), agents_of(acd), "gone")
    assert (dict(acd.queues), agents_of(acd)) == before


def test_a_renamed_agent_keeps_its_state(make_acd: Callable[..., Acd]) -> None:
    acd = make_acd({"d1": ["front-desk"]})
    acd.reconfigure(queues(), {"d1": (("front-desk", "results"), "Desk One")}, "front-desk")
    [view] = acd.snapshot().agents
    assert (view.name, view.state) == ("Desk One", "available")
    assert view.skills == ("front-desk", "results")
