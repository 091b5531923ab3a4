"""The shipped fake switchboard keeps the real one's contract: errors, lines, one result, the dial log."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.errors import CapacityError, SwitchboardError
from appliance.ivr.prompts import PromptRef
from appliance.reminders.dialogue import ReminderScript
from appliance.switchboard.fake import Behaviour, FakeSwitchboard, draw


def script(attempt: int) -> ReminderScript:
    return ReminderScript(attempt, "en", when=PromptRef("reminder_when"), machine=PromptRef("reminder_machine"))


def test_no_route_and_no_free_line_raise_like_the_real_switchboard(tmp_path: Path) -> None:
    sb = FakeSwitchboard(FakeClock(), lines=1, dial_log=tmp_path / "dials.jsonl")
    sb.set_route("none")
    with pytest.raises(SwitchboardError, match="neither the trunk nor the GSM line"):
        sb.place_call("+48601000001", script(1), print)
    sb.set_route("trunk")
    sb.place_call("+48601000001", script(2), print)
    with pytest.raises(CapacityError):
        sb.place_call("+48601000002", script(3), print)
    assert sb.lines() == {"allowed": 1, "in_use": 1, "waiting": 0, "reminder_calls": 1}
    logged = [json.loads(line) for line in (tmp_path / "dials.jsonl").read_text().splitlines()]
    assert [(d["number"], d["attempt"]) for d in logged] == [("+48601000001", 2)]  # refused calls never rang


def test_each_call_reports_once_and_moves_the_fake_clock() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    sb = FakeSwitchboard(clock, lines=4)
    sb.behaviours["+1"] = [Behaviour("answer", 2.0, "2", 3.0)]
    sb.behaviours["+2"] = [Behaviour("no-answer")]
    results: list[object] = []
    s1 = script(1)
    s1.call_id = sb.place_call("+1", s1, results.append, ring_s=30)
    s2 = script(2)
    s2.call_id = sb.place_call("+2", s2, results.append, ring_s=30)
    sb.advance(120)
    assert sorted((r.answered, r.outcome) for r in results) == [(False, "no-answer"), (True, "cancelled")]  # type: ignore[attr-defined]
    assert clock.now() == datetime(2026, 3, 2, 9, 2, tzinfo=UTC)
    assert sb.lines()["in_use"] == 0 and sb.next_event_in() is None


def test_drawn_patients_follow_the_configured_shares() -> None:
    sim = load_config(overrides={"reminders": {"simulator": {"answer": 0.5, "busy": 0.2}}}).reminders.simulator
    rng = random.Random(4)
    kinds = [draw(sim, rng).kind for _ in range(4000)]
    assert abs(kinds.count("busy") / 4000 - 0.2) < 0.03
    assert abs(kinds.count("answer") / 4000 - 0.8 * 0.5) < 0.03
