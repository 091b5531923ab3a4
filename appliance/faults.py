"""Parts of the box that failed while the box went on: the core's list of hardware faults.

A fault here is something a technician must fix but that must not stop
the box answering calls: the status panel's GPIO chip that cannot be
opened, for one. A wrong setting is not a fault: the config check refuses
it before anything starts. The list travels in the core's status
snapshot (``box.faults``), so ``clinicbox doctor`` and the web UI's
diagnostics page show it.

Example:
    >>> faults = Faults()
    >>> faults.report("panel", "cannot open the GPIO chip")
    >>> faults.as_dict()
    {'panel': 'cannot open the GPIO chip'}
"""

from __future__ import annotations

import threading


class Faults:
    """Component name -> what is wrong with it, safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, str] = {}

    def report(self, component: str, message: str) -> None:
        with self._lock:
            self._faults[component] = message

    def as_dict(self) -> dict[str, str]:
        with self._lock:
            return dict(self._faults)
