"""What the panel checks by itself: faults for the red blink, and provisioning runs.

Disk and clock are not events anyone publishes, so the panel looks at them
every ``panel.health_interval_s``. Provisioning runs in its own process and
leaves its outcome in a status file (:mod:`appliance.provision_status`); the
watcher turns changes of that file into ``provisioning.*`` events on the
core's bus, so the LEDs (and anyone else on the bus) see them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from appliance.clock import Clock
from appliance.events import Collector, Event, ProvisioningNotifier
from appliance.panel.patterns import PROVISIONING_STALE_S
from appliance.provision_status import RunStatus, read_status, status_path


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


DiskProbe = Callable[[Path], DiskUsage]


def _disk_usage(path: Path) -> DiskUsage:
    probe = path if path.exists() else path.parent
    usage = shutil.disk_usage(probe)
    return DiskUsage(usage.total, usage.used, usage.free)


class HealthProbe:
    """Faults a technician must fix: ``disk-full`` and ``clock-unsynced``.

    (A locked store arrives as an event; see :mod:`appliance.panel.state`.)
    """

    def __init__(
        self,
        clock: Clock,
        state_dir: Path,
        min_free_mb: int,
        full_percent: int,
        disk_usage: DiskProbe = _disk_usage,
    ) -> None:
        self.clock = clock
        self.state_dir = Path(state_dir)
        self.min_free_mb = min_free_mb
        self.full_percent = full_percent
        self._disk_usage = disk_usage

    def faults(self) -> frozenset[str]:
        found = set()
        try:
            usage = self._disk_usage(self.state_dir)
        except OSError:
            found.add("disk-unreadable")
        else:
            percent = 100 * usage.used / usage.total if usage.total else 100
            if usage.free < self.min_free_mb * 1024 * 1024 or percent >= self.full_percent:
                found.add("disk-full")
        if not self.clock.sync_state().trusted:
            found.add("clock-unsynced")
        return frozenset(found)


def _parse(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


class ProvisioningWatcher:
    """Turns changes of the provisioning status file into bus events.

    The first look only remembers the file, unless the run it describes is
    still fresh (running, or finished within ``flash_s``): a core that
    restarts minutes after a run must not flash its result again, but the
    core restarted *by* the run still shows how it ended.
    """

    def __init__(self, state_dir: Path, clock: Clock, flash_s: float) -> None:
        self.state_dir = Path(state_dir)
        self.clock = clock
        self.flash_s = flash_s
        self._seen: tuple[str, str] | None = None
        self._primed = False
        self._stamp: tuple[int, int] | None = None

    def _fresh(self, status: RunStatus) -> bool:
        if status.state == "running":
            started = _parse(status.started_at)
            return started is not None and (self.clock.now() - started).total_seconds() < PROVISIONING_STALE_S
        finished = _parse(status.finished_at)
        return finished is not None and (self.clock.now() - finished).total_seconds() < self.flash_s

    def poll(self) -> list[Event]:
        """Events for a run that started or ended since the last poll (cheap when none did)."""
        try:
            st = status_path(self.state_dir).stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if self._primed and stamp == self._stamp:
            return []
        self._stamp = stamp
        status = read_status(self.state_dir)
        if status is None:
            self._primed = True
            return []
        key = (status.run_id, status.state)
        first, self._primed = not self._primed, True
        if key == self._seen:
            return []
        self._seen = key
        if first and not self._fresh(status):
            return []
        out = Collector()
        notify = ProvisioningNotifier(out)
        announce = {"running": notify.started, "succeeded": notify.succeeded, "failed": notify.failed}[status.state]
        if status.reason:
            announce(run_id=status.run_id, bundle=status.bundle, reason=status.reason)
        else:
            announce(run_id=status.run_id, bundle=status.bundle)
        return out.take()
