"""Running KPI reports on a connection sized for them.

A month of calls means tens of thousands of rows; SQLCipher decrypts every
page it has to re-read, so a report is several times faster on a
connection whose page cache holds that month (``store.report_cache_mb``).
One such connection per process, one report at a time: a clinic's reports
page is not busy, and this keeps memory bounded.
"""

from __future__ import annotations

import threading
from datetime import datetime

from appliance.config import Config
from appliance.reports.query import kpi_report_for
from appliance.reports.report import KpiReport
from appliance.store import Store


class ReportRunner:
    def __init__(self, store: Store, cache_mb: int) -> None:
        self.store = store
        self.cache_mb = cache_mb
        self._lock = threading.Lock()
        self._own: Store | None = None

    def report(self, cfg: Config, start: datetime, end: datetime, now: datetime | None = None) -> KpiReport:
        """:func:`~appliance.reports.query.kpi_report_for` on the report connection.

        Raises:
            StoreLockedError: the store is locked.
        """
        with self._lock:
            if self._own is None:
                self._own = self.store.sibling(self.cache_mb, shared=True)  # one cache, whichever thread asks
            return kpi_report_for(cfg, self._own, start, end, now)

    def close(self) -> None:
        with self._lock:
            if self._own is not None:
                self._own.close()
                self._own = None
