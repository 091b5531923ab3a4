"""The waitlist service of the core: one worker thread that offers held slots.

It scans every ``SCAN_S`` seconds, and at once when woken: a reply that
declines or comes too late, an SMS the modem could not send, a change in
the web UI (the ``waitlist.wake`` control command). The modem hook for
replies to offers (:class:`~appliance.waitlist.answers.OfferReplies`) is
registered before the reminders' (a yes to an offer is the offer's).
Without a modem there is nothing to offer with: the worker does not scan.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from appliance.clock import Clock
from appliance.config import Config
from appliance.config.applied import Applied
from appliance.control import CommandTable
from appliance.errors import ClinicBoxError
from appliance.events import Event, EventBus
from appliance.events.notifiers import WaitlistNotifier
from appliance.store import waitlist as entries
from appliance.store import waitlist_offers as rows
from appliance.store.connection import Store
from appliance.store.repos import Repos
from appliance.waitlist.answers import OfferReplies
from appliance.waitlist.engine import OfferEngine

log = logging.getLogger(__name__)

#: Seconds between scans (expiries are noticed within this; a decline wakes it at once).
SCAN_S = 5.0
#: Turning the waitlist on or off waits for a restart: every process's appointment hook that
#: holds freed slots (the reminders' and the feeds' too) was built from the start config.
RESTART = ("waitlist.enabled",)
LIVE = ("waitlist", "contact", "reminders.windows", "clinic.name", "clinic.timezone", "clinic.default_language")


class WaitlistService:
    name = "waitlist"

    def __init__(self, cfg: Config, clock: Clock, bus: EventBus, store: Store, repos: Repos, modem: Any = None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.bus = bus
        self.store = store
        self.modem = modem
        notify = WaitlistNotifier(bus.emit)
        self.engine = OfferEngine(cfg, clock, store, modem, notify)
        self.replies = OfferReplies(cfg, clock, store, repos.appointments, modem, notify, self.wake)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="waitlist", daemon=True)
        self._unsubscribe: list[Any] = []
        self.scans = 0

    def register_commands(self, table: CommandTable) -> None:
        table.register("waitlist.wake", self._wake_command)
        table.register("waitlist.status", lambda args: self.status())

    def start(self) -> None:
        if self.modem is not None:
            self.modem.on_incoming(self.replies)
        self._unsubscribe = [
            self.bus.subscribe(self._on_event, "modem.sms.status"),
            self.bus.subscribe(self._on_event, "store.unlocked"),
        ]
        self._thread.start()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def _wake_command(self, args: dict[str, Any]) -> dict[str, Any]:
        """``waitlist.wake``: the web UI changed the waitlist or freed a slot; offer now."""
        self._wake.set()
        return {"woken": True}

    def healthy(self) -> bool:
        return self._thread.is_alive() or self.modem is None or not self.cfg.waitlist.enabled

    def status(self) -> dict[str, Any]:
        """``waitlist.status``: counts only (no names, no numbers)."""
        if self.store.locked:
            return {"enabled": self.cfg.waitlist.enabled, "locked": True}
        conn = self.store.connection()
        held = len(rows.held_slots(conn))
        return {
            "enabled": self.cfg.waitlist.enabled,
            "modem": self.modem is not None,
            "waiting": entries.waiting_count(conn),
            "held_slots": held,
            "open_offers": len(rows.entries_with_open_offers(conn)),
            "scans": self.scans,
        }

    def reconfigure(self, cfg: Config) -> Applied:
        applied = Applied.sort_out(self.cfg, cfg, live=LIVE, restart=RESTART)
        cfg = replace(cfg, waitlist=replace(cfg.waitlist, enabled=self.cfg.waitlist.enabled))
        self.cfg = cfg
        self.replies.cfg = cfg
        self.engine.reconfigure(cfg)
        self._wake.set()
        return applied

    def _on_event(self, event: Event) -> None:
        if event.kind == "modem.sms.status" and str(event.data.get("status", "")) == "failed":
            sms_id = int(event.data.get("sms_id", 0))
            if sms_id and not self.store.locked:
                try:
                    with self.store.transaction() as conn:
                        rows.fail_offer_sms(conn, sms_id, self.clock.now())
                except ClinicBoxError:
                    log.exception("a failed offer SMS could not be recorded")
        self._wake.set()

    def _run(self) -> None:
        if self.modem is None:
            log.info("no modem (modem.enabled = false): no waitlist offers")
            return
        while not self._stop.is_set():
            try:
                self.engine.scan()
                self.scans += 1
            except ClinicBoxError:
                log.exception("waitlist scan failed; the next one tries again")
            self._wake.wait(SCAN_S)
            self._wake.clear()
