"""Restart when idle: waits for the calls in progress, or for the manager's deadline."""

from __future__ import annotations

from copy import deepcopy

import pytest

from appliance.config import load_config
from appliance.errors import ValidationError
from appliance.idle_restart import IdleRestart


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_it_waits_for_the_last_call_then_is_due() -> None:
    calls = [2]
    r = IdleRestart(lambda: calls[0])
    assert not r.due()  # nothing asked
    assert r.request({"actor": "manager"})["pending"] is True
    assert not r.due()
    assert r.status() == {"pending": True, "calls": 2, "deadline_s": None, "requested_by": "manager", "waiting": []}
    calls[0] = 0
    assert r.due()


def test_past_the_deadline_it_goes_even_with_calls() -> None:
    clock = Clock()
    r = IdleRestart(lambda: 1, clock)
    r.request({"actor": "manager", "deadline_min": 30})
    clock.t += 29 * 60
    assert not r.due() and r.status()["deadline_s"] == 60
    clock.t += 60
    assert r.due()


def test_a_withdrawn_request_is_never_due() -> None:
    r = IdleRestart(lambda: 0)
    r.request({"actor": "manager"})
    r.cancel({"actor": "manager"})
    assert not r.due() and r.status()["pending"] is False


@pytest.mark.parametrize("deadline", [-1, 24 * 60 + 1, "30", 1.5, True])
def test_a_bad_deadline_is_refused(deadline: object) -> None:
    r = IdleRestart(lambda: 0)
    with pytest.raises(ValidationError, match="deadline_min"):
        r.request({"actor": "manager", "deadline_min": deadline})
    assert r.status()["pending"] is False


def test_what_waits_is_forgotten_once_set_back() -> None:
    started = load_config()
    changed = deepcopy(started)
    object.__setattr__(changed.sip, "port", started.sip.port + 1)
    r = IdleRestart(lambda: 0)
    r.note(["sip.port"], started, changed)
    assert r.status()["waiting"] == ["sip.port"]
    r.note([], started, started)  # the manager set it back
    assert r.status()["waiting"] == []
