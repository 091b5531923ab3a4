"""Sending policy for SMS (pure): rate limit and retry backoff.

Example:
    >>> limiter = RateLimiter(per_minute=2)
    >>> limiter.take(0.0); limiter.take(1.0)
    >>> limiter.available(30.0), limiter.wait(30.0)
    (0, 30.0)
    >>> retry_delay(3, base=30, cap=1800)
    120
"""

from __future__ import annotations

from collections import deque


class RateLimiter:
    """At most ``per_minute`` sends in any 60 seconds (a sliding window)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._sent: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window_s:
            self._sent.popleft()

    def available(self, now: float) -> int:
        self._trim(now)
        return max(0, self.per_minute - len(self._sent))

    def take(self, now: float) -> None:
        self._trim(now)
        self._sent.append(now)

    def wait(self, now: float) -> float:
        """Seconds until one more send is allowed (0 if now)."""
        if self.available(now) > 0:
            return 0.0
        return self.window_s - (now - self._sent[0])


def retry_delay(attempts: int, base: int, cap: int) -> int:
    """Seconds before retry number ``attempts`` (1 = after the first failure)."""
    return int(min(cap, base * 2 ** max(0, attempts - 1)))
