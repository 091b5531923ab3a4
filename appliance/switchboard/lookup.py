"""Caller-ID lookups off the PJSUA2 thread, on one warmed connection.

The switchboard asks "who is +48601234567?" when a call arrives; the
answer (language, patient id) decides the greeting's language and goes on
the CDR. The lookup runs here, on a connection whose page cache holds the
screen-pop indexes (``store.lookup_cache_mb``, warmed at start-up), and the
answer is handed back to the PJSUA2 thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from appliance.clock import Clock
from appliance.config import Config
from appliance.store import Store, callerid

log = logging.getLogger(__name__)

Reply = Callable[[callerid.CallerMatch | None], None]


class CallerLookup:
    name = "caller-ID lookup"

    def __init__(self, cfg: Config, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock
        self._queue: queue.Queue[tuple[str, Reply] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="callerid", daemon=True)
        self._store: Store | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def lookup(self, number: str, reply: Reply) -> None:
        """``reply(match or None)`` is called on this thread; hop back to the loop in it."""
        self._queue.put((number, reply))

    def _open(self) -> Store | None:
        if self._store is None or self._store.locked:
            try:
                self._store = Store.open(
                    self.cfg.db_path,
                    self.cfg.paths.key_file,
                    clock=self.clock,
                    busy_timeout_ms=500,
                    cache_mb=self.cfg.store.lookup_cache_mb,
                )
            except Exception as exc:
                log.warning("caller-ID lookups unavailable: %s", exc)
                self._store = None
                return None
            if not self._store.locked:
                rows = self._store.warm()
                log.info("caller-ID cache warmed (%d index entries)", rows)
        return None if self._store.locked else self._store

    def _run(self) -> None:
        self._open()
        while True:
            item = self._queue.get()
            if item is None:
                if self._store is not None:
                    self._store.close()
                return
            number, reply = item
            match = None
            store = self._open()
            if store is not None:
                try:
                    match = callerid.lookup(store.connection(), number, self.clock.now())
                except Exception:
                    log.exception("caller-ID lookup failed")
            try:
                reply(match)
            except Exception:
                log.exception("caller-ID reply failed")
            del item, reply, match  # don't keep the last request alive while waiting for the next
