"""The technician's diagnostics: ``clinicbox doctor`` in the browser.

The checks are those of :mod:`appliance.doctor` (the same code the CLI
runs); they open their own store handle, which is closed afterwards. No
check reports patient data, so technicians may run them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from appliance.config import Config
from appliance.doctor import Context, Result, run_checks
from appliance.store import Store

_lock = threading.Lock()


@dataclass(frozen=True)
class DoctorRun:
    results: list[Result]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.status != "FAIL" for r in self.results)


def run_doctor(cfg: Config) -> DoctorRun:
    """Run every doctor check (one run at a time: integrity checks are heavy)."""
    with _lock:
        started = time.monotonic()
        ctx = Context(cfg)
        try:
            results = [Result("configuration", "OK", "the web UI's configuration is valid"), *run_checks(ctx)]
        finally:
            for value in ctx.cache.values():
                if isinstance(value, Store):
                    value.close()
        return DoctorRun(results, time.monotonic() - started)
