"""Restarting what a bundle changed: systemctl on the box, a recorder elsewhere.

The one adapter (:class:`Systemctl`) and its shipped fake
(:class:`RecordingServiceManager`, chosen with
``provisioning.service_manager = "none"`` on development machines and the
demo, and used by the tests) take the same :class:`~provisioning.plan.Action`
list.
"""

from __future__ import annotations

import logging
import subprocess
from typing import Protocol

from appliance.config import Config
from appliance.errors import ProvisioningError

log = logging.getLogger(__name__)

TIMEOUT_S = 180


class ServiceManager(Protocol):
    def run(self, verb: str, units: list[str]) -> None:
        """``verb`` is a systemctl verb (restart, try-restart, reload-or-restart, stop, start).

        Raises:
            ProvisioningError: a unit failed to (re)start.
        """
        ...


class Systemctl:
    """``systemctl VERB UNIT...``, waiting for the job (Type=notify units report READY)."""

    def __init__(self, binary: str = "systemctl", timeout_s: float = TIMEOUT_S) -> None:
        self.binary = binary
        self.timeout_s = timeout_s

    def run(self, verb: str, units: list[str]) -> None:
        if not units:
            return
        cmd = [self.binary, verb, *units]
        log.info("running %s", " ".join(cmd))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProvisioningError(f"`{' '.join(cmd)}` did not complete: {exc}") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise ProvisioningError(
                f"`{' '.join(cmd)}` failed ({detail[-1] if detail else f'exit {done.returncode}'}); "
                f"see: journalctl -u {units[0]}"
            )


class RecordingServiceManager:
    """Records (and logs) what would be run; ``fail_on`` makes a unit fail, for tests."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.fail_on = set(fail_on or ())

    def run(self, verb: str, units: list[str]) -> None:
        if not units:
            return
        self.calls.append((verb, tuple(units)))
        log.info("service manager (none): would run systemctl %s %s", verb, " ".join(units))
        failing = [u for u in units if u in self.fail_on and verb in ("restart", "start", "try-restart")]
        if failing:
            raise ProvisioningError(f"{failing[0]} failed to start (simulated)")


def service_manager_for(cfg: Config) -> ServiceManager:
    if cfg.provisioning.service_manager == "systemctl":
        return Systemctl()
    return RecordingServiceManager()
