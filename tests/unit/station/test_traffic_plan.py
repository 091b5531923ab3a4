"""The demo traffic generator's scripts: who calls, what they press, how the PSTN answers."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from appliance.config import load_config
from appliance.demo.traffic import menu_digits, plan_answer, plan_call

NUMBERS = [f"+1212555{i:04d}" for i in range(1, 37)]


def test_callers_walk_the_menu_and_sometimes_give_up_or_ask_for_a_callback() -> None:
    rng = random.Random(7)
    plans = [plan_call(rng, NUMBERS, ["0", "1", "2", "3"], "1") for _ in range(400)]
    kinds = Counter(p.kind for p in plans)
    assert set(kinds) == {"queue", "abandon-ivr", "abandon-queue", "callback"}
    assert kinds["queue"] > kinds["callback"] > 0
    known = sum(p.caller in NUMBERS for p in plans)
    assert 0.6 < known / len(plans) < 0.9  # mostly patients, some unknown numbers
    assert all(p.caller.startswith("+1917555") for p in plans if p.caller not in NUMBERS)
    for p in plans:
        assert p.steps[-1] == ("hangup", None)
        digits = [v for k, v in p.steps if k == "dtmf"]
        if p.kind == "abandon-ivr":
            assert digits == []
        elif p.kind == "callback":
            assert digits[0] in "0123" and digits[1] == "1"
        else:
            assert len(digits) == 1 and digits[0] in "0123"


def test_speed_divides_every_wait() -> None:
    slow = plan_call(random.Random(1), NUMBERS, ["1"], "1", speed=1.0)
    fast = plan_call(random.Random(1), NUMBERS, ["1"], "1", speed=10.0)
    waits: list[tuple[Any, Any]] = [(a[1], b[1]) for a, b in zip(slow.steps, fast.steps, strict=True) if a[0] == "wait"]
    assert waits and all(abs(s / 10 - f) < 0.02 for s, f in waits)


def test_no_menu_means_callers_only_hear_the_greeting() -> None:
    plan = plan_call(random.Random(3), [], [], "")
    assert plan.kind == "abandon-ivr" and plan.caller.startswith("+1917555")


def test_the_pstn_answers_most_calls_after_a_few_rings() -> None:
    rng = random.Random(5)
    plans = [plan_answer(rng) for _ in range(300)]
    answered = [p for p in plans if p.answer]
    assert 0.8 < len(answered) / len(plans) < 0.97
    assert all(1 <= p.delay_s <= 6 for p in plans)
    assert {p.digit for p in plans} == {"1", "2", "3", ""}


def test_menu_digits_of_the_default_flow() -> None:
    cfg = load_config(use_secrets=False, use_overlay=False)
    digits, callback_key = menu_digits(cfg)
    assert digits == ["0", "1", "2", "3"]  # every option of "main" leads to a queue
    assert callback_key == "1"


def test_menu_digits_skip_options_that_do_not_queue() -> None:
    cfg = load_config(
        overrides={
            "ivr": {
                "entry": "main",
                "nodes": {
                    "main": {"type": "menu", "prompt": "main_menu", "options": {"1": "q", "9": "bye"}, "fallback": "q"},
                    "q": {"type": "queue", "queue": "front-desk"},
                    "bye": {"type": "hangup", "prompt": "goodbye"},
                },
            },
            "queues": {"front-desk": {"name": "Front desk", "mailbox": "general", "callback_key": "2"}},
        },
        use_secrets=False,
        use_overlay=False,
    )
    assert menu_digits(cfg) == (["1"], "2")
