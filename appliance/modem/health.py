"""When to recover the modem, and how hard (pure; time comes from the caller).

A modem that stops answering AT, or stays unregistered for minutes, is
recovered in escalating steps, each tried once before the next:

1. ``reinit``: reopen the port (finding the modem again) and rerun the
   startup sequence;
2. ``radio-reset``: ``AT+CFUN=1,1``, a firmware reboot;
3. ``usb-reset``: unbind and re-bind the USB device through sysfs, what
   unplugging it would do;
4. ``power-cut``: cut the modem's supply through a GPIO-switched power
   line, when the box has one (:mod:`appliance.modem.powerline`).

After each step the next health check judges it. When all steps failed
the modem is ``failed`` and the ladder starts again after a cooldown.
A missing SIM or a rejected PIN is not a modem fault: no reset can fix
it, so it never triggers recovery.

Example:
    >>> p = RecoveryPolicy(registration_lost_s=180, cooldown_s=600)
    >>> p.check(responsive=False, registered=None, now=0.0).action
    'reinit'
    >>> p.check(responsive=False, registered=None, now=30.0).action
    'radio-reset'
"""

from __future__ import annotations

from dataclasses import dataclass

LADDER = ("reinit", "radio-reset", "usb-reset", "power-cut")

OK = "ok"
DEGRADED = "degraded"  # unregistered, not yet long enough to act
RECOVERING = "recovering"
FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    """What the last health check means. ``action`` is a ladder step to run now, or None.
    ``recovered`` is set when a check passes after recovery steps (for the event and doctor)."""

    state: str
    action: str | None
    reason: str
    recovered: bool = False


class RecoveryPolicy:
    """Escalation state of the recovery ladder.

    Args:
        registration_lost_s: unregistered this long counts as a fault.
        cooldown_s: after the last step failed, wait this long to start again.
        skip: ladder steps this box cannot do (``usb-reset`` without sysfs,
            ``power-cut`` without a power line).
    """

    def __init__(self, registration_lost_s: float, cooldown_s: float, skip: tuple[str, ...] = ()) -> None:
        self.registration_lost_s = registration_lost_s
        self.cooldown_s = cooldown_s
        self.steps = tuple(s for s in LADDER if s not in skip)
        self._next = 0
        self._unregistered_since: float | None = None
        self._failed_at: float | None = None

    @property
    def recovering(self) -> bool:
        return self._next > 0

    def check(self, *, responsive: bool, registered: bool | None, now: float) -> Verdict:
        """Judge one health check.

        Args:
            responsive: the modem answered AT (and its port is there).
            registered: registered to the network; None when it does not
                apply (no SIM, PIN problem: a reset cannot help).
        """
        if responsive and registered is not False:
            self._unregistered_since = None
            return self._healthy()
        if responsive:
            if self._unregistered_since is None:
                self._unregistered_since = now
            lost = now - self._unregistered_since
            if lost < self.registration_lost_s and not self.recovering:
                return Verdict(DEGRADED, None, f"not registered for {lost:.0f} s")
            reason = f"not registered for {lost:.0f} s"
        else:
            reason = "no answer to AT"
        return self._escalate(reason, now)

    def _healthy(self) -> Verdict:
        recovered = self.recovering or self._failed_at is not None
        self._next = 0
        self._failed_at = None
        return Verdict(OK, None, "recovered" if recovered else "answering and registered", recovered)

    def _escalate(self, reason: str, now: float) -> Verdict:
        if self._failed_at is not None:
            if now - self._failed_at < self.cooldown_s:
                return Verdict(FAILED, None, f"{reason}; every recovery step failed")
            self._failed_at = None
            self._next = 0
        if self._next >= len(self.steps):
            self._failed_at = now
            return Verdict(FAILED, None, f"{reason}; every recovery step failed")
        action = self.steps[self._next]
        self._next += 1
        return Verdict(RECOVERING, action, reason)
