"""The core's side of the edge: credentials out, registrations in.

A service of the core (``name = "edge"``), built only when
``edge.enabled``:

* at start and on every reload it writes the desk phones' HA1 table
  (:mod:`.credentials`) and asks the edge to load it again, at once (so a
  password the manager just saved works for the phone set up next), else
  from the poller as soon as the edge answers. Each write has a number,
  and the edge counts as up to date only once it loaded that write or a
  later one: a write that lands while a reload is on its way is loaded too;
* a poller thread (never the PJSUA2 thread) asks the edge every
  ``edge.poll_interval_s`` which stations are registered and hands every
  change to ``on_registrations`` (the switchboard, which hops to its own
  thread), so the queue's available agents and the console are true;
* the same poller reads the edge's security counters (``sec_*``, wrong
  passwords) for ``edge.status`` (the dashboard's "SIP edge" figures);
* a reload that changes what is rendered into the edge's script
  (:data:`RENDERED`: the ACL, listen address, pike and lockout limits)
  makes the edge exit at the first moment no call is in progress (at once
  when idle); its supervisor (systemd, ``clinicbox demo``) starts it again,
  and ``clinicbox edge`` renders the saved config. Kamailio cannot reload
  its script in place; the desk phones' registrations survive it (written
  through to the edge's db_text table, :mod:`.location`), and the new edge
  binds only once the old one is gone (:func:`.process.wait_for_old_edge`);
* on every address (``sip.bind_address = 0.0.0.0``) the edge advertises
  the box's address in Via and Record-Route (:func:`.script.advertised_host`),
  read when it starts. When the box's address changes (the network came up
  after the edge started at boot, or a new DHCP lease), the poller sees the
  edge advertise another address and restarts it the same way, once per
  change;
* :meth:`status` is what ``status`` and ``clinicbox doctor`` show.

While the edge does not answer (it restarts, or has not started yet), the
last known registrations stand for ``STALE_AFTER_S``; after that every
desk phone counts as gone, since the core can no longer reach it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.config import Applied, Config
from appliance.edge.credentials import write_credentials
from appliance.edge.rpc import EdgeRpc
from appliance.edge.script import RENDERED, advertised_host
from appliance.errors import EdgeError

log = logging.getLogger(__name__)

Registrations = dict[str, list[str]]
#: Edge settings the core itself takes only at its own start (it listens on core_port).
CORE_RESTART = ("edge.enabled", "edge.core_port", "paths.edge_dir")
#: What ``edge.status`` lists as waiting when the box's address changed under the edge.
ADDRESS_KEY = "the box's network address"
#: How long the last registrations stand while the edge does not answer.
STALE_AFTER_S = 20.0


class EdgeLink:
    name = "edge"

    def __init__(
        self,
        cfg: Config,
        on_registrations: Callable[[Registrations], None],
        calls: Callable[[], int] = lambda: 0,
        address: Callable[[Config], str] = advertised_host,
    ) -> None:
        self.cfg = cfg
        self.calls = calls
        self.address = address
        #: The address the edge was last restarted to advertise (restart once per change).
        self._moved_to = ""
        self.counters: dict[str, int] = {}
        #: Rendered settings changed by a reload that the running edge does not have yet.
        self.edge_restart: list[str] = []
        self.rpc = EdgeRpc(cfg.paths.edge_dir)
        self.on_registrations = on_registrations
        self.registered: Registrations = {}
        self.reachable = False
        self.error = ""
        self._last_ok = 0.0
        #: Number of the newest table written, and of the newest the edge loaded (-1: unknown, reload).
        self._creds_written = 0
        self._creds_loaded = -1
        self._creds_lock = threading.Lock()
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
        try:
            self.load_credentials()
        except EdgeError as exc:  # not running now: the poller loads the table once it answers
            log.info("the edge loads the new desk-phone credentials once it answers (%s)", exc)
        result = Applied.sort_out(
            old, cfg, live=["stations", "edge.poll_interval_s", *RENDERED], restart=[*CORE_RESTART, "edge"]
        )
        rendered = [k for k in result.applied if k in RENDERED]
        if not rendered:
            return result
        self.edge_restart = list(dict.fromkeys([*self.edge_restart, *rendered]))
        if self.restart_edge_if_idle():
            return result
        # a call is in progress: the poller restarts the edge once none is; until then they wait
        return Applied(applied=[k for k in result.applied if k not in rendered], restart=[*result.restart, *rendered])

    def restart_edge_if_idle(self) -> bool:
        """Make the edge exit (to start again on the saved config) if settings wait and no call is in progress.

        True when nothing waits any more for the edge.
        """
        if not self.edge_restart:
            return True
        busy = self.calls()
        if busy:
            return False
        keys, self.edge_restart = self.edge_restart, []
        try:
            self.rpc.stop()
        except EdgeError as exc:
            # not running: its next start renders the saved config anyway
            log.warning("the SIP edge was not asked to restart (%s); it takes %s at its next start", exc, keys)
            return True
        log.warning("the SIP edge restarts to take %s (no call in progress)", ", ".join(keys))
        self._creds_loaded = -1  # the new edge loads the table at its start; a reload is harmless
        return True

    def healthy(self) -> bool:
        return self._thread.is_alive() or self._stop.is_set()

    # -- credentials ------------------------------------------------------------------
    def publish_credentials(self, cfg: Config) -> None:
        """Write the HA1 table for ``cfg``'s stations; the poller makes the edge load it."""
        try:
            with self._creds_lock:
                if write_credentials(cfg):
                    self._creds_written += 1
        except OSError as exc:
            log.error("desk-phone credentials for the edge not written: %s", exc)

    def load_credentials(self) -> None:
        """Make the edge load the newest table, unless it already has it.

        Raises:
            EdgeError: the edge did not answer (it keeps its old table).
        """
        with self._creds_lock:
            newest = self._creds_written
            if self._creds_loaded == newest:
                return
            self.rpc.reload_credentials()  # reads the file, which holds write ``newest`` or a later one
            self._creds_loaded = newest
        log.info("the edge loaded the desk-phone credentials")

    # -- the poller -----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            if self.edge_restart:
                self.restart_edge_if_idle()
            self.poll_once()
            self._stop.wait(self.cfg.edge.poll_interval_s)

    def poll_once(self) -> None:
        try:
            self.load_credentials()
            regs = self.rpc.registrations()
            self.counters = self.rpc.counters()
        except EdgeError as exc:
            if self.reachable or not self.error:
                log.warning("cannot reach the SIP edge: %s", exc)
            self.reachable, self.error = False, str(exc)
            self._creds_loaded = -1  # a restarted edge loads the table itself, but a reload is harmless
            if self.registered and time.monotonic() - self._last_ok > STALE_AFTER_S:
                self._publish({})
            return
        if not self.reachable:
            log.info("the SIP edge answers (%d desk phones registered)", len(regs))
        self.reachable, self.error, self._last_ok = True, "", time.monotonic()
        if regs != self.registered:
            self._publish(regs)
        self.check_address()

    def check_address(self) -> None:
        """Restart the edge (when idle) if the box's address is not the one it advertises."""
        try:
            if not ipaddress.ip_address(self.cfg.sip.bind_address).is_unspecified:
                return
            advertised = self.rpc.advertised()
        except (ValueError, EdgeError):
            return
        now = self.address(self.cfg)
        if not advertised or now in advertised or now == self._moved_to:
            return
        self._moved_to = now
        log.warning(
            "the box's address is now %s (the edge advertises %s): the edge restarts to take it",
            now,
            ", ".join(sorted(advertised)),
        )
        self.edge_restart = list(dict.fromkeys([*self.edge_restart, ADDRESS_KEY]))
        self.restart_edge_if_idle()

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

    def edge_status(self, _args: dict[str, Any] | None = None) -> dict[str, Any]:
        """``edge.status``: what the dashboard's "SIP edge" figures show (no addresses, no numbers)."""
        return {
            **self.status(),
            "counters": dict(self.counters),
            "waiting": list(self.edge_restart),
        }
