"""The in-process event bus: components announce what happened, others react.

What may happen is declared in :mod:`appliance.events.kinds`; features
announce it through their notifier (:mod:`appliance.events.notifiers`),
never by spelling a kind. Publishers never wait for subscribers: each subscriber gets its own queue
(or a callback run on the publisher's thread when it is cheap and
thread-safe). The switchboard thread publishes call events; the panel,
control socket and reminder dispatcher consume them.

Example:
    >>> from appliance.events import TrunkNotifier
    >>> bus = EventBus()
    >>> seen = []
    >>> unsubscribe = bus.subscribe(seen.append)
    >>> TrunkNotifier(bus.emit).up(reason="registered")
    >>> seen[0].kind, seen[0].data
    ('trunk.up', {'reason': 'registered'})
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from appliance.events.kinds import EventKind, EventPrefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened. ``kind`` is dotted (``call.started``,
    ``trunk.down``, ``queue.changed``...), one of :data:`EventKind`, and
    ``data`` is that kind's payload in :mod:`appliance.events.kinds`.

    ``data`` must never hold patient names or dates of birth: events are
    logged and streamed to the wallboard. Phone numbers travel only in
    fields named ``caller`` / ``number`` that consumers mask when logging.
    """

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


Subscriber = Callable[[Event], None]


class Emit(Protocol):
    """Where a notifier sends its events: ``EventBus.emit``, or a queue in front of it."""

    def __call__(self, kind: EventKind, /, **data: Any) -> None: ...


class Collector:
    """An :class:`Emit` that keeps the events, for code that returns them instead of publishing.

    Example:
        >>> from appliance.events import StoreNotifier
        >>> out = Collector()
        >>> StoreNotifier(out).locked()
        >>> [e.kind for e in out.take()]
        ['store.locked']
    """

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, kind: EventKind, /, **data: Any) -> None:
        self.events.append(Event(kind, data))

    def take(self) -> list[Event]:
        """The events so far, and forget them."""
        taken, self.events = self.events, []
        return taken


class EventBus:
    """Thread-safe publish/subscribe with per-subscriber isolation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[Subscriber, str | None]] = []

    def subscribe(self, callback: Subscriber, prefix: EventKind | EventPrefix | None = None) -> Callable[[], None]:
        """Call ``callback`` for every event (whose kind starts with ``prefix``).

        Returns a function that unsubscribes. The callback runs on the
        publisher's thread: keep it short and never block in it; use
        :meth:`queue` to consume from another thread instead.
        """
        entry = (callback, prefix)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def queue(
        self, prefix: EventKind | EventPrefix | None = None, maxsize: int = 10000
    ) -> tuple[queue.Queue[Event], Callable[[], None]]:
        """A queue receiving events, for consumers on their own thread.

        If the consumer falls behind by ``maxsize`` events, the oldest are
        dropped (a slow wallboard must never stall the switchboard).
        """
        q: queue.Queue[Event] = queue.Queue(maxsize=maxsize)

        def put(event: Event) -> None:
            while True:
                try:
                    q.put_nowait(event)
                    return
                except queue.Full:
                    try:
                        q.get_nowait()
                    except queue.Empty:
                        pass

        return q, self.subscribe(put, prefix)

    def publish(self, event: Event) -> None:
        with self._lock:
            targets = [cb for cb, prefix in self._subscribers if prefix is None or event.kind.startswith(prefix)]
        for callback in targets:
            try:
                callback(event)
            except Exception:  # a broken subscriber must not break the publisher
                log.exception("event subscriber failed on %s", event.kind)

    def emit(self, kind: EventKind, /, **data: Any) -> None:
        """Shorthand for ``publish(Event(kind, data))``; features emit through their notifier."""
        self.publish(Event(kind, data))
