"""Panel buttons: debounce and hold-to-act, as a pure state machine.

A cheap tactile button bounces for a few milliseconds, and a receptionist
leaning on the box must not switch the clinic to after-hours routing by
accident. So a button's level must be stable for ``debounce_s`` before it
counts, and a destructive button (``hold_s > 0``) acts only after it has
been held that long, once per press. The GPIO driver feeds levels and
monotonic times; nothing here touches hardware or reads a clock.

Example:
    >>> b = ButtonTracker(ButtonSpec("night-mode", pin=5, hold_s=3.0), debounce_s=0.05)
    >>> b.update(True, 10.0), b.update(True, 10.1), b.update(True, 13.0)
    (False, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ButtonSpec:
    """``name`` is ``night-mode`` or ``answer-next:<station>``."""

    name: str
    pin: int
    hold_s: float = 0.0

    @property
    def station(self) -> str:
        return self.name.split(":", 1)[1] if ":" in self.name else ""


class ButtonTracker:
    """One button's debounced state; :meth:`update` says when it acts."""

    def __init__(self, spec: ButtonSpec, debounce_s: float) -> None:
        self.spec = spec
        self.debounce_s = debounce_s
        self._raw = False
        self._raw_since = 0.0
        self._stable = False
        self._pressed_at = 0.0
        self._acted = False

    @property
    def pressed(self) -> bool:
        """The debounced state."""
        return self._stable

    def update(self, level: bool, now: float) -> bool:
        """Feed the pin's current level (True = pressed); True when the button acts now."""
        if level != self._raw:
            self._raw = level
            self._raw_since = now
        if self._raw != self._stable and now - self._raw_since >= self.debounce_s:
            self._stable = self._raw
            if self._stable:
                self._pressed_at = self._raw_since
                self._acted = False
                if self.spec.hold_s <= 0:
                    self._acted = True
                    return True
            return False
        held = self._stable and self._raw and now - self._pressed_at >= self.spec.hold_s
        if held and not self._acted and self.spec.hold_s > 0:
            self._acted = True
            return True
        return False
