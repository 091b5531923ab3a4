"""Estimated wait: position x rolling average handle time / agents staffed.

``EWT(position) = position * AHT / N`` where AHT is the mean handle time
(talk + wrap-up) of the queue's last :data:`SAMPLES` answered calls
(:data:`DEFAULT_HANDLE_S` until there are any) and N the agents who serve the
queue, are present, logged in and not paused (busy ones included: they will
be free again). It is the classic single-queue approximation; it ignores
priority jumps and agents shared between queues, which is good enough for
telling a caller "about 4 minutes". With no agent staffed there is no
estimate and the announcement leaves the wait out.
"""

from __future__ import annotations

from collections import deque

#: Answered calls averaged per queue.
SAMPLES = 20
#: Assumed handle time before a queue has answered anything (3 minutes is
#: typical for a clinic's front desk).
DEFAULT_HANDLE_S = 180.0


class HandleTimes:
    """Rolling average of handle times per queue."""

    def __init__(self, samples: int = SAMPLES, default_s: float = DEFAULT_HANDLE_S) -> None:
        self._samples = samples
        self._default = default_s
        self._by_queue: dict[str, deque[float]] = {}

    def add(self, queue: str, seconds: float) -> None:
        self._by_queue.setdefault(queue, deque(maxlen=self._samples)).append(max(0.0, seconds))

    def average(self, queue: str) -> float:
        values = self._by_queue.get(queue)
        return sum(values) / len(values) if values else self._default


def estimated_wait(position: int, average_handle_s: float, agents: int) -> float | None:
    """Seconds a caller at ``position`` (1 = next) should expect to wait."""
    if agents <= 0 or position <= 0:
        return None
    return position * average_handle_s / agents
