"""The live hub: one subscription to the core, fanned out to every browser.

A single background thread follows :meth:`ControlClient.subscribe` and
keeps the latest snapshot; each live-update stream (dashboard, wallboard,
agent console) gets its own bounded queue. When the core is down the hub
says so (``core`` message with ``up: false``) and keeps retrying, so the
web UI runs, and says "core not running", while the core restarts.

A slow browser never slows the hub: its queue drops the oldest messages
and it is sent a fresh snapshot instead.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appliance.control import ControlClient
from appliance.errors import ControlError
from appliance.events import EventKind, EventPrefix

log = logging.getLogger(__name__)

#: Events worth forwarding to browsers besides snapshots.
BROWSER_EVENTS: tuple[EventKind | EventPrefix, ...] = (
    "agent.ringing",
    "agent.state",
    "call.ended",
    "voicemail.new",
    "callback.new",
    "store.",
)


@dataclass(frozen=True)
class Message:
    kind: str  # "snapshot", "core", or an event kind such as "agent.ringing"
    data: Any
    at: float


class Listener:
    """One browser stream's mailbox."""

    def __init__(self, hub: LiveHub, maxsize: int) -> None:
        self._hub = hub
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=maxsize)
        self.overflowed = False

    def put(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            self.overflowed = True
            try:
                self.queue.get_nowait()
                self.queue.put_nowait(message)
            except (queue.Empty, queue.Full):
                pass

    def get(self, timeout: float) -> Message | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._hub._remove(self)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveHub:
    """Follows the core's event stream on a background thread.

    Args:
        client: the control client (its ``subscribe()`` is followed).
        retry_s: wait between reconnection attempts while the core is down.
    """

    def __init__(self, client: ControlClient, retry_s: float = 0.5) -> None:
        self.client = client
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._listeners: set[Listener] = set()
        self._snapshot: dict[str, Any] | None = None
        self._core_up = False
        self._core_reason = "connecting to the core"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._received = False

    # -- state --------------------------------------------------------------
    @property
    def core_up(self) -> bool:
        return self._core_up

    @property
    def core_reason(self) -> str:
        return self._core_reason

    def snapshot(self) -> dict[str, Any] | None:
        """The latest snapshot, or ``None`` while the core is down."""
        with self._lock:
            return self._snapshot if self._core_up else None

    def core_state(self) -> dict[str, Any]:
        return {"up": self._core_up, "reason": "" if self._core_up else self._core_reason}

    # -- listeners ------------------------------------------------------------
    def listen(self, maxsize: int = 256) -> Listener:
        listener = Listener(self, maxsize)
        with self._lock:
            self._listeners.add(listener)
        return listener

    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)

    def _remove(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def _broadcast(self, kind: str, data: Any) -> None:
        message = Message(kind, data, time.time())
        with self._lock:
            targets = list(self._listeners)
        for listener in targets:
            listener.put(message)

    # -- the follower thread ------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="webui-live-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _set_down(self, reason: str) -> None:
        with self._lock:
            was_up = self._core_up
            changed = was_up or reason != self._core_reason
            self._core_up = False
            self._core_reason = reason
            self._snapshot = None
        if was_up:
            log.warning("lost the core's event stream: %s", reason)
        if changed:  # retries while the core stays down say nothing new
            self._broadcast("core", {"up": False, "reason": reason})

    def _follow(self, stream: Iterator[tuple[str, Any]]) -> None:
        for kind, data in stream:
            if self._stop.is_set():
                return
            self._received = True
            if kind == "snapshot":
                with self._lock:
                    came_up = not self._core_up
                    self._snapshot = data
                    self._core_up = True
                    self._core_reason = ""
                if came_up:
                    log.info("following the core's event stream")
                    self._broadcast("core", {"up": True, "reason": ""})
                self._broadcast("snapshot", data)
            elif kind.startswith(BROWSER_EVENTS):
                self._broadcast(kind, data)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._received = False
            opened = time.monotonic()
            try:
                self._follow(self.client.subscribe())
            except ControlError as exc:
                reason = str(exc)
            except (OSError, ValueError) as exc:
                reason = f"the core's event stream failed: {exc}"
            else:
                continue
            if self._received and not self._stop.is_set():
                # A stream that worked is re-opened at once (its first push is
                # a fresh snapshot); the core is declared down only when
                # reconnecting fails. A core that drops every stream at once
                # is not hammered.
                if time.monotonic() - opened < 0.2:
                    self._stop.wait(0.2)
                continue
            self._set_down(reason)
            self._stop.wait(self.retry_s)
