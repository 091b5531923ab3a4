"""Flow checks: loops a silent caller never leaves, prompt-less nodes, config errors."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.config import load_config
from appliance.config.callflow import IvrNode
from appliance.errors import ConfigError
from appliance.ivr.flow import Flow, flow_problems

QUEUE = IvrNode(type="queue", queue="front-desk")


@pytest.mark.parametrize(
    ("nodes", "entry", "message"),
    [
        (
            {
                "a": IvrNode(type="playback", prompt="greeting", next="b"),
                "b": IvrNode(type="playback", prompt="x", next="a"),
            },
            "a",
            "loops forever (a → b → a)",
        ),
        ({"t": IvrNode(type="time_condition", if_open="t", if_closed="q"), "q": QUEUE}, "t", "(t → t)"),
        (
            {"m": IvrNode(type="menu", prompt="main_menu", options={"1": "q"}, fallback="m"), "q": QUEUE},
            "m",
            "(m → m)",
        ),
        ({"p": IvrNode(type="playback", next="q"), "q": QUEUE}, "p", "needs a prompt"),
        ({"p": IvrNode(type="playback", prompt="greeting", next="nowhere")}, "p", 'unknown node "nowhere"'),
        ({"q": QUEUE}, "start", 'ivr.entry: unknown node "start"'),
        ({"t": IvrNode(type="transfer", number="+48600100200", fallback="vm")}, "t", 'unknown node "vm"'),
    ],
)
def test_bad_flows_are_refused_with_the_node_named(nodes: dict[str, IvrNode], entry: str, message: str) -> None:
    problems = [f"{k}: {m}" for k, m in flow_problems(entry, nodes)]
    assert any(message in p for p in problems), problems
    with pytest.raises(ConfigError, match="problem"):
        Flow(entry, nodes)


def test_menu_option_back_to_itself_is_fine() -> None:
    # "press 9 to hear this again" needs a key press: not a silent loop.
    nodes = {
        "m": IvrNode(type="menu", prompt="main_menu", options={"9": "m", "1": "q"}, fallback="q"),
        "q": QUEUE,
    }
    assert list(flow_problems("m", nodes)) == []


def test_default_flow_is_valid() -> None:
    cfg = load_config()
    flow = Flow.from_settings(cfg.ivr)
    assert len(flow) == len(cfg.ivr.nodes)


def test_config_loading_reports_silent_loop_and_bad_prompt_text() -> None:
    overrides: dict[str, Any] = {
        "ivr": {
            "entry": "a",
            "nodes": {
                "a": {"type": "playback", "prompt": "greeting", "next": "b"},
                "b": {"type": "playback", "prompt": "emergency", "next": "a"},
            },
        },
        "prompts": {"texts": {"en": {"greeting": "Welcome to {clinik}"}, "xx": {"greeting": "?"}}},
    }
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides)
    text = str(err.value)
    assert "ivr.nodes.a: a caller who presses nothing loops forever (a → b → a)" in text
    assert "prompts.texts.en.greeting: unknown placeholder {clinik}" in text
    assert "prompts.texts.xx: unknown language" in text
