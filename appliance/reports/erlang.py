"""Erlang C: how many agents a queue needs for a service-level target.

Traffic ``A = calls per hour x AHT / 3600`` (Erlangs). With ``N > A`` agents,
the probability that a caller waits is Erlang C::

    C(N, A) = N * B(N, A) / (N - A * (1 - B(N, A)))

with Erlang B from its stable recursion ``B(0) = 1``,
``B(k) = A * B(k-1) / (k + A * B(k-1))``. Then

* service level ``SL(t) = 1 - C * exp(-(N - A) * t / AHT)``
* average speed of answer ``ASA = C * AHT / (N - A)``
* occupancy ``A / N``.

Erlang C assumes callers never give up, so it errs on the safe side for a
queue with abandons. Textbook check (100 calls per half hour, AHT 180 s,
A = 10 Erlangs): N = 11 → C = 0.682; N = 13 → SL(20 s) = 79.6 %, just short
of 80/20; N = 14 → 88.8 %, so 14 agents.

Example:
    >>> round(erlang_c(3, 2.0), 4)
    0.4444
    >>> agents_for_service_level(200, 180).agents  # 200 calls/h, 3 min each, 80/20
    14
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with ``agents`` servers and ``traffic`` Erlangs."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller has to wait (1.0 when agents <= traffic)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_s: float, target_s: float) -> float:
    """Share of calls answered within ``target_s``."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_s / aht_s)


def average_speed_of_answer(agents: int, traffic: float, aht_s: float) -> float:
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_s / (agents - traffic)


@dataclass(frozen=True)
class Staffing:
    calls_per_hour: float
    aht_s: float
    traffic: float  # Erlangs
    agents: int
    service_level: float
    asa_s: float
    occupancy: float


def agents_for_service_level(
    calls_per_hour: float,
    aht_s: float,
    target_level: float = 0.8,
    target_s: float = 20.0,
    max_agents: int = 500,
) -> Staffing:
    """The fewest agents that answer ``target_level`` of calls within ``target_s``.

    Raises:
        ValueError: bad inputs, or the target needs more than ``max_agents``.
    """
    if calls_per_hour < 0 or aht_s <= 0 or not 0 < target_level < 1 or target_s < 0:
        raise ValueError("need calls_per_hour >= 0, aht_s > 0, 0 < target_level < 1, target_s >= 0")
    traffic = calls_per_hour * aht_s / 3600.0
    if traffic == 0:
        return Staffing(calls_per_hour, aht_s, 0.0, 0, 1.0, 0.0, 0.0)
    agents = max(1, math.floor(traffic) + 1)
    while service_level(agents, traffic, aht_s, target_s) < target_level:
        agents += 1
        if agents > max_agents:
            raise ValueError(f"{calls_per_hour:.0f} calls/h at {aht_s:.0f} s need more than {max_agents} agents")
    return Staffing(
        calls_per_hour,
        aht_s,
        traffic,
        agents,
        service_level(agents, traffic, aht_s, target_s),
        average_speed_of_answer(agents, traffic, aht_s),
        traffic / agents,
    )
