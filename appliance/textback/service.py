"""The text-back and contact service of the core: one worker thread.

It owns the missed-call text-backs (:class:`~appliance.textback.sender.TextBacks`,
scanned every ``SCAN_S`` seconds and soon after a call ends), the modem
hooks for STOP/START/HELP and text-back replies
(:mod:`appliance.textback.inbox`), and keeps every message trace line in
step with the modem's status events (reminders' lines included). Started
after the reminders, so their reply hook sees a message first. Without a
modem there is nothing to text with: the worker does not scan.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from appliance.clock import Clock
from appliance.config import Config
from appliance.config.applied import Applied
from appliance.errors import ClinicBoxError
from appliance.events import Event, EventBus
from appliance.store import contacts
from appliance.store.connection import Store
from appliance.textback.inbox import Keywords, TextBackReplies
from appliance.textback.sender import TextBacks

log = logging.getLogger(__name__)

#: Seconds between scans for missed calls (a call's end wakes it sooner): texts go within a minute.
SCAN_S = 10.0
#: A call's row is written by the switchboard's store writer a moment after its end event.
AFTER_END_S = 1.5
LIVE = ("textback", "contact", "reminders.windows", "clinic.name", "clinic.phone_number")


class TextBackService:
    name = "text-back"

    def __init__(self, cfg: Config, clock: Clock, bus: EventBus, store: Store, modem: Any = None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.bus = bus
        self.store = store
        self.modem = modem
        self.texts = TextBacks(cfg, clock, store, modem)
        self.keywords = Keywords(cfg, clock, store, modem)
        self.replies = TextBackReplies(cfg, clock, store, bus)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="textback", daemon=True)
        self._unsubscribe: list[Any] = []
        self.scans = 0

    def start(self) -> None:
        if self.modem is not None:
            self.modem.on_incoming(self.keywords)
            self.modem.on_incoming(self.replies)
        self._unsubscribe = [
            self.bus.subscribe(self._on_event, "call.ended"),
            self.bus.subscribe(self._on_event, "call.busy"),
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

    def healthy(self) -> bool:
        return self._thread.is_alive() or self.modem is None

    def reconfigure(self, cfg: Config) -> Applied:
        applied = Applied.sort_out(self.cfg, cfg, live=LIVE)
        self.cfg = cfg
        for part in (self.texts, self.keywords, self.replies):
            part.cfg = cfg
        self.texts.reconfigure(cfg)
        self._wake.set()
        return applied

    def _on_event(self, event: Event) -> None:
        if event.kind == "modem.sms.status":
            self._sms_status(int(event.data.get("sms_id", 0)), str(event.data.get("status", "")))
            return
        self._wake.set()

    def _sms_status(self, sms_id: int, status: str) -> None:
        if self.store.locked or not sms_id:
            return
        try:
            with self.store.transaction() as conn:
                contacts.sms_status(conn, sms_id, status, self.clock.now())
        except ClinicBoxError:
            log.exception("the message trace missed the status of SMS %d", sms_id)

    def _run(self) -> None:
        if self.modem is None:
            log.info("no modem (modem.enabled = false): no missed-call text-backs")
            return
        while not self._stop.is_set():
            try:
                self.texts.scan()
                self.scans += 1
            except ClinicBoxError:
                log.exception("text-back scan failed; the next one tries again")
            if self._wake.wait(SCAN_S):
                self._stop.wait(AFTER_END_S)  # the call's row is committed a moment after its event
            self._wake.clear()
