"""An ACD with three queues on a fake clock, and helpers to read its actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from appliance.acd import Acd
from appliance.clock import FakeClock
from appliance.config.callflow import QueueSettings


def queues(**front_desk: Any) -> dict[str, QueueSettings]:
    desk = {
        "name": "Front desk",
        "ring_timeout_s": 15,
        "wrap_up_s": 10,
        "max_wait_s": 600,
        "max_length": 10,
        "announce_every_s": 45,
        "callback_key": "1",
        "overflow": "voicemail",
        "mailbox": "general",
    }
    desk.update(front_desk)
    return {
        "front-desk": QueueSettings(**desk),
        "billing": QueueSettings(name="Billing", announce_every_s=0, callback_key=""),
        "results": QueueSettings(name="Results", overflow="callback", max_wait_s=60),
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def make_acd(clock: FakeClock) -> Callable[..., Acd]:
    def make(agents: dict[str, list[str]] | None = None, **front_desk: Any) -> Acd:
        acd = Acd(queues(**front_desk), clock)
        for agent_id, skills in (agents or {}).items():
            acd.add_agent(agent_id, skills)
            clock.advance(1)  # earlier agents have been idle longer
        for agent_id in agents or {}:
            acd.station_up(agent_id)
            acd.login(agent_id)
        return acd

    return make
