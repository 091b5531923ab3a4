"""The switchboard's store writer: CDRs, queue events, callbacks, media.

The PJSUA2 thread must never wait for the disk (an SD card's fsync can
take tens of milliseconds), so it hands every write to this thread as a
function. Database writes queued together share one transaction; media
writes (encrypted voicemail and recordings) run here too, in order.

Any: 3, the SQLCipher connection (untyped binding) and the queued operations on it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from appliance.errors import ClinicBoxError, StoreLockedError
from appliance.store import Store

log = logging.getLogger(__name__)

DbOp = Callable[[Any], None]
IoOp = Callable[[], None]
_STOP = object()


class StoreWriter:
    name = "store writer"

    def __init__(self, store: Store, max_batch: int = 200) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self.failures = 0
        self.written = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=timeout)

    def healthy(self) -> bool:
        return self._thread.is_alive()

    def db(self, op: DbOp) -> None:
        """Queue ``op(conn)`` to run inside a write transaction."""
        self._queue.put(("db", op))

    def io(self, op: IoOp) -> None:
        """Queue ``op()`` (media files) to run in order with the DB writes."""
        self._queue.put(("io", op))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(("io", done.set))
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._execute(batch)
                    return
                batch.append(nxt)
            self._execute(batch)

    def _execute(self, batch: list[tuple[str, Any]]) -> None:
        ops: list[DbOp] = []
        for kind, op in batch:
            if kind == "db":
                ops.append(op)
                continue
            self._commit(ops)
            ops = []
            try:
                op()
            except Exception:
                self.failures += 1
                log.exception("media write failed")
        self._commit(ops)

    def _commit(self, ops: list[DbOp]) -> None:
        if not ops:
            return
        try:
            with self.store.transaction() as conn:
                for op in ops:
                    op(conn)
            self.written += len(ops)
            return
        except StoreLockedError:
            log.warning("store locked: %d call-log writes dropped", len(ops))
            self.failures += len(ops)
            return
        except ClinicBoxError:
            log.exception("batched call-log write failed; retrying one by one")
        for op in ops:  # isolate the bad one so the rest are kept
            try:
                with self.store.transaction() as conn:
                    op(conn)
                self.written += 1
            except Exception:
                self.failures += 1
                log.exception("call-log write failed")
