"""PJSUA2 objects are freed on the PJSUA2 thread, and nowhere else.

Freeing a Call, a player or a media port runs PJSUA2 code. Two things can
make that happen on another thread, where PJSUA2 aborts the process
("Calling pjlib from unknown/external thread"):

* Python's cyclic garbage collector runs in whichever thread happens to
  allocate when a threshold trips: the store writer, the modem worker, the
  control socket, or PJMEDIA's clock thread inside a capture callback. The
  loop therefore switches automatic collection off while it runs and
  collects itself (:class:`Collector`), on its own thread, as often as
  Python would have.
* A reference dropped on another thread: a modem future's done-callback
  holding a call, say. :class:`LoopOwned` objects whose last reference goes
  away off the loop thread are parked instead of freed (:func:`park`),
  and the loop lets go of them on its next turn (:func:`release`).

Any: 4, all pjsua2 objects (parked for release, and the constructor arguments passed on to them).
"""

from __future__ import annotations

import collections
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_home: threading.Thread | None = None
_parked: collections.deque[Any] = collections.deque()  # append/popleft are thread-safe

#: Full collections walk every object in the core; no more often than this.
FULL_EVERY_S = 30.0


def adopt(thread: threading.Thread | None) -> None:
    """``thread`` runs PJSUA2 from now on (None: nothing does)."""
    global _home
    _home = thread


def on_home_thread() -> bool:
    return _home is None or threading.current_thread() is _home


def park(obj: Any) -> None:
    """Keep ``obj`` alive until the loop's next :func:`release`."""
    _parked.append(obj)


def release() -> int:
    """Let go of everything parked (PJSUA2 thread only); returns how many."""
    count = 0
    while True:
        try:
            obj = _parked.popleft()
        except IndexError:
            return count
        if isinstance(obj, LoopOwned):
            LoopOwned.alive -= 1  # resurrected objects are not finalised twice: count it gone here
        del obj
        count += 1


class LoopOwned:
    """Mixin for PJSUA2 subclasses: never destroyed off the PJSUA2 thread.

    ``LoopOwned.alive`` counts the box's PJSUA2 objects (calls, accounts,
    players, captures) in existence: after the last call ends it must come
    back to the idle set (bench.soak checks it).
    """

    alive = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        LoopOwned.alive += 1

    def __del__(self) -> None:
        if not on_home_thread():
            park(self)  # resurrected; __del__ is not called again when the loop frees it
        else:
            LoopOwned.alive -= 1


class Collector:
    """Python's generational collection, run from the loop instead of anywhere.

    ``gc.get_count()`` keeps counting while automatic collection is off,
    so the same thresholds decide when each generation is due; a full
    collection (every object in the core, several ms) waits at least
    :data:`FULL_EVERY_S` after the last one, as Python's own heuristic
    also spaces them out.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._was_enabled = False
        self._next_full = 0.0
        self.collections = [0, 0, 0]
        self.longest_ms = 0.0

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._next_full = self._clock() + FULL_EVERY_S

    def stop(self) -> None:
        if self._was_enabled:
            gc.enable()

    def tick(self) -> None:
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        now = self._clock()
        if c2 >= t2 and now >= self._next_full:
            self._next_full = now + FULL_EVERY_S
            generation = 2
        elif c1 >= t1:
            generation = 1
        elif c0 >= t0:
            generation = 0
        else:
            return
        started = time.perf_counter()
        gc.collect(generation)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.collections[generation] += 1
        if elapsed_ms > self.longest_ms:
            self.longest_ms = elapsed_ms
            log.debug("garbage collection of generation %d took %.1f ms (longest yet)", generation, elapsed_ms)
