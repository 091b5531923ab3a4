"""SMS rate limit (sliding minute) and retry backoff."""

from __future__ import annotations

import pytest

from appliance.modem.smspolicy import RateLimiter, retry_delay


def test_sliding_window() -> None:
    limiter = RateLimiter(per_minute=3)
    for t in (0.0, 10.0, 20.0):
        assert limiter.available(t) > 0
        limiter.take(t)
    assert limiter.available(30.0) == 0
    assert limiter.wait(30.0) == pytest.approx(30.0)
    assert limiter.available(60.0) == 1  # the first send left the window
    assert limiter.wait(60.0) == 0.0


@pytest.mark.parametrize(("attempts", "delay"), [(1, 30), (2, 60), (3, 120), (6, 960), (7, 1800), (20, 1800)])
def test_backoff_doubles_up_to_the_cap(attempts: int, delay: int) -> None:
    assert retry_delay(attempts, base=30, cap=1800) == delay
