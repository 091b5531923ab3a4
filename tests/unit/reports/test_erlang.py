"""Erlang C against textbook values and an independent closed-form computation."""

from __future__ import annotations

import math

import pytest

from appliance.reports.erlang import (
    agents_for_service_level,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
)


def erlang_c_closed_form(n: int, a: float) -> float:
    """The textbook sum formula, computed independently of the recursion."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(
    ("agents", "traffic", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: P(wait) = utilisation
        (2, 1.0, 1 / 3),  # M/M/2 at 50 %: 2p^2 / (1 + p)
        (3, 2.0, 4 / 9),  # (8/6 * 3) / (1 + 2 + 2 + 4)
        (11, 10.0, 0.6821),  # 100 calls / 30 min, AHT 180 s: textbook 68.2 %
        (13, 10.0, 0.2853),
        (14, 10.0, 0.1741),
    ],
)
def test_erlang_c_textbook_values(agents: int, traffic: float, expected: float) -> None:
    assert erlang_c(agents, traffic) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(("agents", "traffic"), [(5, 4.2), (20, 17.5), (57, 48.0), (120, 110.3)])
def test_recursion_matches_closed_form(agents: int, traffic: float) -> None:
    assert erlang_c(agents, traffic) == pytest.approx(erlang_c_closed_form(agents, traffic), rel=1e-9)


def test_erlang_b_textbook_value() -> None:
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=1e-5)  # classic trunk table: 10 lines, 5 E


def test_service_level_and_asa_for_the_textbook_example() -> None:
    # A = 10 E, AHT 180 s, target 20 s: 13 agents give 79.6 %, 14 agents 88.8 %.
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=5e-4)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=5e-4)
    assert average_speed_of_answer(14, 10.0, 180) == pytest.approx(7.84, abs=0.01)
    # M/M/1 closed form: SL(t) = 1 - p * exp(-(1 - p) t / AHT)
    assert service_level(1, 0.5, 100, 30) == pytest.approx(1 - 0.5 * math.exp(-0.5 * 30 / 100))


def test_staffing_recommendation() -> None:
    need = agents_for_service_level(200, 180, 0.8, 20)
    assert (need.agents, round(need.traffic, 6)) == (14, 10.0)
    assert need.occupancy == pytest.approx(10 / 14)
    # A small clinic: 12 calls an hour of 4 minutes = 0.8 E. Two people answer
    # 79.3 % within 20 s (C = 0.2286, SL = 1 - 0.2286 * e^-0.1), just short: three.
    assert service_level(2, 0.8, 240, 20) == pytest.approx(0.7932, abs=5e-4)
    small = agents_for_service_level(12, 240, 0.8, 20)
    assert small.agents == 3 and small.service_level >= 0.8
    assert agents_for_service_level(12, 240, 0.8, 20).agents <= agents_for_service_level(12, 240, 0.95, 20).agents
    assert agents_for_service_level(0, 180).agents == 0


def test_overloaded_and_bad_inputs() -> None:
    assert erlang_c(10, 10.0) == 1.0 and service_level(5, 10.0, 180, 20) == 0.0
    assert average_speed_of_answer(5, 10.0, 180) == math.inf
    with pytest.raises(ValueError, match="target_level"):
        agents_for_service_level(100, 180, 1.5)
    with pytest.raises(ValueError, match="more than 3 agents"):
        agents_for_service_level(1000, 180, max_agents=3)
