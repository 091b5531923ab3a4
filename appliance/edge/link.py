"""The core's side of the edge: credentials out, registrations in.

A service of the core (``name = "edge"``), built only when
``edge.enabled``:

* at start and on every reload it writes the desk phones' HA1 table
  (:mod:`.credentials`) and asks the edge to load it again;
* a poller thread (never the PJSUA2 thread) asks the edge every
  ``edge.poll_interval_s`` which stations are registered and hands every
  change to ``on_registrations`` (the switchboard, which hops to its own
  thread), so the queue's available agents and the console are true;
* :meth:`status` is what ``status`` and ``clinicbox doctor`` show.

While the edge does not answer (it restarts, or has not started yet), the
last known registrations stand for ``STALE_AFTER_S``; after that every
desk phone counts as gone, since the core can no longer reach it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.config import Applied, Config
from appliance.edge.credentials import write_credentials
from appliance.edge.rpc import EdgeRpc
from appliance.errors import EdgeError

log = logging.getLogger(__name__)

Registrations = dict[str, list[str]]
#: How long the last registrations stand while the edge does not answer.
STALE_AFTER_S = 20.0


class EdgeLink:
    name = "edge"

    def __init__(self, cfg: Config, on_registrations: Callable[[Registrations], None]) -> None:
        self.cfg = cfg
        self.rpc = EdgeRpc(cfg.paths.edge_dir)
        self.on_registrations = on_registrations
        self.registered: Registrations = {}
        self.reachable = False
        self.error = ""
        self._last_ok = 0.0
        self._need_reload = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edge-link", daemon=True)

    # -- service --------------------------------------------------------------------
    def start(self) -> None:
        self.publish_credentials(self.cfg)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def reconfigure(self, cfg: Config) -> Applied:
        old, self.cfg = self.cfg, cfg
        self.publish_credentials(cfg)
        return Applied.sort_out(old, cfg, live=["stations"], restart=["edge", "paths.edge_dir"])

    def healthy(self) -> bool:
        return self._thread.is_alive() or self._stop.is_set()

    # -- credentials ------------------------------------------------------------------
    def publish_credentials(self, cfg: Config) -> None:
        """Write the HA1 table for ``cfg``'s stations; the poller makes the edge load it."""
        try:
            if write_credentials(cfg):
                self._need_reload = True
        except OSError as exc:
            log.error("desk-phone credentials for the edge not written: %s", exc)

    # -- the poller -----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.cfg.edge.poll_interval_s)

    def poll_once(self) -> None:
        try:
            if self._need_reload:
                self.rpc.reload_credentials()
                self._need_reload = False
                log.info("the edge loaded the desk-phone credentials")
            regs = self.rpc.registrations()
        except EdgeError as exc:
            if self.reachable or not self.error:
                log.warning("cannot reach the SIP edge: %s", exc)
            self.reachable, self.error = False, str(exc)
            self._need_reload = True  # a restarted edge loads the table itself, but a reload is harmless
            if self.registered and time.monotonic() - self._last_ok > STALE_AFTER_S:
                self._publish({})
            return
        if not self.reachable:
            log.info("the SIP edge answers (%d desk phones registered)", len(regs))
        self.reachable, self.error, self._last_ok = True, "", time.monotonic()
        if regs != self.registered:
            self._publish(regs)

    def _publish(self, regs: Registrations) -> None:
        gone = sorted(set(self.registered) - set(regs))
        new = sorted(set(regs) - set(self.registered))
        self.registered = regs
        if new:
            log.info("desk phones registered at the edge: %s", ", ".join(new))
        if gone:
            log.info("desk phones no longer registered: %s", ", ".join(gone))
        try:
            self.on_registrations(dict(regs))
        except Exception:
            log.exception("handing the edge's registrations to the switchboard failed")

    def status(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "error": self.error, "registered": sorted(self.registered)}
