"""Restart when idle: the core exits at the first moment no call is in progress.

Some settings wait for a restart (the SIP port, the line count...; the
``config.reload`` answer lists them). A manager asks for a restart from the
settings page (control command ``core.restart_when_idle``): the core keeps
answering and queueing calls as usual, and at the first poll with no call in
progress (or once the manager's deadline has passed, calls or not) it stops
cleanly and exits with status 0; systemd (``Restart=always``) starts it
again with the saved settings. ``core.restart_status`` says whether a
restart is pending, how many calls it waits for and which saved settings
wait for it; ``core.restart_cancel``
withdraws it. Who asked, and when the core went, is logged; the web UI
audits the request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.config import Config
from appliance.config.applied import changed_settings
from appliance.errors import ValidationError

log = logging.getLogger(__name__)

#: The longest deadline a manager may set (minutes).
MAX_DEADLINE_MIN = 24 * 60


class IdleRestart:
    """One pending restart request at most; :meth:`due` is polled by the core's main loop."""

    def __init__(self, calls: Callable[[], int], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._calls = calls
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.pending = False
        self.requested_by = ""
        self.deadline: float | None = None
        self.waiting: list[str] = []  # saved settings that wait for a restart

    def note(self, restart: list[str], started: Config, now: Config) -> None:
        """Remember what a reload left for the restart; forget what was set back as it started."""
        changed = changed_settings(started, now)

        def still(key: str) -> bool:
            return any(key == c or key.startswith(c + ".") or c.startswith(key + ".") for c in changed)

        with self._lock:
            self.waiting = [k for k in dict.fromkeys([*self.waiting, *restart]) if still(k)]

    def request(self, args: dict[str, Any]) -> dict[str, Any]:
        """``core.restart_when_idle`` {actor, deadline_min (optional: 0 or absent = wait for idle only)}."""
        actor = str(args.get("actor") or "unknown")[:64]
        raw = args.get("deadline_min") or 0
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_DEADLINE_MIN:
            raise ValidationError(f"deadline_min: a whole number of minutes from 0 to {MAX_DEADLINE_MIN}")
        with self._lock:
            self.pending, self.requested_by = True, actor
            self.deadline = self._monotonic() + raw * 60 if raw else None
        log.warning(
            "restart requested by %s: at the first moment no call is in progress%s",
            actor,
            f" (at the latest in {raw} min)" if raw else "",
        )
        return self.status()

    def cancel(self, args: dict[str, Any]) -> dict[str, Any]:
        """``core.restart_cancel`` {actor}."""
        with self._lock:
            was, self.pending, self.deadline = self.pending, False, None
        if was:
            log.warning("restart request withdrawn by %s", str(args.get("actor") or "unknown")[:64])
        return self.status()

    def status(self, _args: dict[str, Any] | None = None) -> dict[str, Any]:
        """``core.restart_status``: pending?, the calls it waits for, seconds left to the deadline."""
        with self._lock:
            left = None if self.deadline is None else max(0, round(self.deadline - self._monotonic()))
            return {
                "pending": self.pending,
                "calls": self._safe_calls(),
                "deadline_s": left if self.pending else None,
                "requested_by": self.requested_by if self.pending else "",
                "waiting": list(self.waiting),
            }

    def due(self) -> bool:
        """Should the core go now? (Pending, and idle or past the deadline.)"""
        with self._lock:
            if not self.pending:
                return False
            calls = self._safe_calls()
            late = self.deadline is not None and self._monotonic() >= self.deadline
            if calls and not late:
                return False
        if calls:
            log.warning("restart deadline reached with %d call(s) in progress: restarting now", calls)
        else:
            log.warning("no call in progress: restarting as %s asked", self.requested_by)
        return True

    def _safe_calls(self) -> int:
        try:
            return int(self._calls())
        except Exception:  # the switchboard is stopping: nothing to wait for
            return 0
