"""The PJSUA2 thread's timer queue: due timers fire in order, cancelled ones
never fire and do not pile up (each call cancels its one-hour limit)."""

from appliance.switchboard.timers import COMPACT_AT, TimerQueue


def test_due_timers_fire_in_deadline_order_and_cancelled_never():
    q = TimerQueue()
    order: list[str] = []
    q.add(3.0, lambda: order.append("c"))
    q.add(1.0, lambda: order.append("a"))
    dropped = q.add(2.0, lambda: order.append("x"))
    q.add(2.0, lambda: order.append("b"))
    dropped.cancel()
    while (h := q.pop_due(2.5)) is not None:
        h.callback()
    assert order == ["a", "b"]
    while (h := q.pop_due(10.0)) is not None:
        h.callback()
    assert order == ["a", "b", "c"]
    assert len(q) == 0


def test_an_hour_of_cancelled_call_limits_does_not_stay_in_memory():
    q = TimerQueue()
    live = q.add(100.0, lambda: None)
    for _ in range(3000):  # a busy hour: every call arms its one-hour limit and cancels it at hang-up
        q.add(3600.0, lambda: None).cancel()
    assert len(q) < 2 * COMPACT_AT
    assert q.pop_due(200.0) is live


def test_cancel_twice_or_after_firing_keeps_the_count_honest():
    q = TimerQueue()
    h = q.add(1.0, lambda: None)
    h.cancel()
    h.cancel()
    assert q.cancelled == 1
    assert q.pop_due(2.0) is None
    assert q.cancelled == 0
    g = q.add(1.0, lambda: None)
    assert q.pop_due(2.0) is g
    g.cancel()
    assert q.cancelled == 0


def test_cancel_lets_go_of_the_callback():
    q = TimerQueue()
    big = bytearray(10)
    h = q.add(3600.0, lambda: big.append(1))
    h.cancel()
    h.callback()
    assert big == bytearray(10)
