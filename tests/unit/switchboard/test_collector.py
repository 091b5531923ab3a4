"""The switchboard's own garbage collection: Python's thresholds, on the loop's thread."""

from __future__ import annotations

import gc

from appliance.switchboard.owned import FULL_EVERY_S, Collector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.me = self  # cyclic garbage: only a collection frees it


def test_collects_cycles_while_automatic_collection_is_off() -> None:
    clock = Clock()
    collector = Collector(clock)
    was = gc.isenabled()
    collector.start()
    try:
        assert not gc.isenabled()
        threshold = gc.get_threshold()[0]
        for _ in range(threshold * 3):
            Node()  # dropped at once, but the cycle keeps each alive
        collector.tick()
        assert collector.collections[0] + collector.collections[1] >= 1
        assert not any(isinstance(o, Node) for o in gc.get_objects())
        for _ in range(gc.get_threshold()[2] + 1):
            gc.collect(1)  # each middle-generation collection counts toward a full one
        collector.tick()
        assert collector.collections[2] == 0, "a full collection waits FULL_EVERY_S after start"
        clock.now += FULL_EVERY_S
        collector.tick()
        assert collector.collections[2] == 1
    finally:
        collector.stop()
    assert gc.isenabled() == was


def test_nothing_due_means_no_collection() -> None:
    collector = Collector(Clock())
    collector.start()
    try:
        gc.collect()
        collector.tick()
        assert collector.collections == [0, 0, 0]
    finally:
        collector.stop()
