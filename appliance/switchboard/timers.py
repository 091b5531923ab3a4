"""The PJSUA2 thread's timers: a heap of deadlines that forgets cancelled ones.

A call arms several timers it usually cancels (its one-hour limit, the
IVR's digit timeouts, the queue's announcements). A cancelled handle stays
in the heap until its deadline, so at a clinic's load the heap would hold
an hour of cancelled one-hour limits: about 3,000 handles an hour at 30
calls at once, measured by ``bench.soak``. Like asyncio's event loop, the
queue rebuilds the heap without them once they are most of it.

Only the PJSUA2 thread touches a queue (see ``loop.py``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

#: Rebuild the heap once this many cancelled handles are in it, and they are
#: more than half of it (asyncio uses 100 and a half).
COMPACT_AT = 64


def _nothing() -> None:
    pass


class TimerHandle:
    __slots__ = ("_queue", "callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None], queue: TimerQueue | None = None) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False
        self._queue = queue

    def cancel(self) -> None:
        if self.cancelled:
            return
        # Its closure holds the call and its PJSUA2 leg: let go of it now.
        self.cancelled = True
        self.callback = _nothing
        if self._queue is not None:
            self._queue.cancelled += 1
            self._queue = None


class TimerQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self.cancelled = 0

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, deadline: float, fn: Callable[[], None]) -> TimerHandle:
        handle = TimerHandle(deadline, fn, self)
        heapq.heappush(self._heap, (deadline, next(self._seq), handle))
        self._maybe_compact()
        return handle

    def pop_due(self, now: float) -> TimerHandle | None:
        """The next live handle whose deadline has passed, or None."""
        while self._heap and self._heap[0][0] <= now:
            _, _, handle = heapq.heappop(self._heap)
            if handle.cancelled:
                self.cancelled -= 1
                continue
            handle._queue = None  # fired: a late cancel() no longer counts
            return handle
        return None

    def _maybe_compact(self) -> None:
        if self.cancelled >= COMPACT_AT and self.cancelled * 2 > len(self._heap):
            self._heap = [item for item in self._heap if not item[2].cancelled]
            heapq.heapify(self._heap)
            self.cancelled = 0
