"""The process the crash test kills: the reminder service over a real store.

Run as ``python tests/integration/reminders/campaign_child.py CONFIG T0 W0 SCALE``.
It builds the service exactly as the core does (``ReminderService.from_core``
with ``appliance.app.reminder_dialer``; the config selects the shipped
simulator with a durable dial log), then
waits to be killed. Its clock runs ``SCALE`` times faster than the wall
clock from the fixed origin (T0 simulated at wall time W0), so every
restart continues the same simulated day.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.app import reminder_dialer
from appliance.clock import TimeSync
from appliance.config import load_config
from appliance.events import EventBus
from appliance.reminders.service import ReminderService
from appliance.store import Store


class ScaledClock:
    """Wall time, sped up: the same simulated moment in every run."""

    def __init__(self, t0: datetime, w0: float, scale: float) -> None:
        self.t0, self.w0, self.scale = t0, w0, scale

    def now(self) -> datetime:
        return self.t0 + timedelta(seconds=(time.time() - self.w0) * self.scale)

    def monotonic(self) -> float:
        return time.monotonic() * self.scale

    def sync_state(self) -> TimeSync:
        return TimeSync(True, "simulated", "crash-test clock")


def main() -> int:
    config, t0, w0, scale = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cfg = load_config(Path(config))
    clock = ScaledClock(datetime.fromisoformat(t0).astimezone(UTC), w0, scale)
    store = Store.open(cfg.db_path, cfg.paths.key_file, clock=clock)
    service = ReminderService.from_core(cfg, clock, EventBus(), store, reminder_dialer(cfg, clock, None))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    service.start()
    print("started", flush=True)
    stop.wait()
    service.stop()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
