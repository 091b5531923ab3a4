"""A waitlist world on a real SQLCipher store: the real SMS queue (no modem needed to queue),
the real offer engine and reply hook, the reminder planner wired as the core wires it, a fake clock
(Monday 2 March 2026, 10:00 in Warsaw: inside the contact window)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from appliance.clock import FakeClock
from appliance.config import Config
from appliance.events import EventBus
from appliance.events.notifiers import WaitlistNotifier
from appliance.modem.smsservice import IncomingSms, SmsService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from appliance.store.sms import SmsRepo
from appliance.store.waitlist import EntryInput
from appliance.waitlist.answers import OfferReplies
from appliance.waitlist.engine import OfferEngine
from tests.conftest import clinic_config, repos_with_planner


@dataclass
class World:
    cfg: Config
    clock: FakeClock
    store: Store
    repos: Repos
    sms: SmsService
    engine: OfferEngine
    replies: OfferReplies
    events: list[Any]
    woken: list[int]

    def patient(self, name: str, phone: str, language: str = "pl") -> int:
        return self.repos.patients.create(PatientInput(name=name, phones=[phone], language=language), "desk")

    def visit(self, patient_id: int, in_hours: float, provider: str = "Dr Nowak", minutes: int = 20) -> int:
        start = self.clock.now() + timedelta(hours=in_hours)
        return self.repos.appointments.create(
            AppointmentInput(
                patient_id, start.replace(second=0, microsecond=0), duration_min=minutes, provider=provider
            ),
            "desk",
        )

    def wait(self, patient_id: int, **kw: Any) -> int:
        return self.repos.waitlist.add(EntryInput(patient_id, **kw), "desk")

    def cancel(self, appointment_id: int, actor: str = "desk") -> None:
        self.repos.appointments.set_status(appointment_id, "cancelled", actor)

    def outgoing(self) -> list[tuple[str, str]]:
        return [(str(r[0]), str(r[1])) for r in self.store.query(
            "SELECT number, body FROM sms_messages WHERE direction = 'out' ORDER BY id"
        )]  # fmt: skip

    def incoming(self, number: str, text: str, patient_id: int | None = None) -> IncomingSms:
        sms_id, _ = SmsRepo(self.store, self.clock).insert_incoming(
            number, text, 1, "gsm7", "received", self.clock.now(), patient_id
        )
        return IncomingSms(sms_id, number, text, self.clock.now(), False, patient_id)

    def offers(self) -> list[tuple[int, str, str]]:
        """(patient, state, reason) of every offer, in order."""
        return [(int(r[0]), str(r[1]), str(r[2])) for r in self.store.query(
            "SELECT patient_id, state, reason FROM waitlist_offers ORDER BY id"
        )]  # fmt: skip

    def slots(self) -> list[tuple[str, str]]:
        return [
            (str(r[0]), str(r[1])) for r in self.store.query("SELECT state, reason FROM waitlist_slots ORDER BY id")
        ]

    def booked_for(self, patient_id: int) -> list[tuple[str, str, str]]:
        return [(str(r[0]), str(r[1]), str(r[2])) for r in self.store.query(
            "SELECT starts_at, status, source FROM appointments WHERE patient_id = ? AND source = 'waitlist'",
            (patient_id,),
        )]  # fmt: skip


def make_world(tmp_path: Any, clock: FakeClock, **overrides: Any) -> World:
    waitlist = {"enabled": True, **overrides.pop("waitlist", {})}
    cfg = clinic_config(tmp_path, waitlist=waitlist, **overrides)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    bus = EventBus()
    events: list[Any] = []
    bus.subscribe(events.append)
    sms = SmsService(SmsRepo(store, clock), cfg.modem, clock, bus, region=cfg.clinic.country)
    repos = repos_with_planner(cfg, store)
    notify = WaitlistNotifier(bus.emit)
    woken: list[int] = []
    engine = OfferEngine(cfg, clock, store, sms, notify)
    replies = OfferReplies(cfg, clock, store, repos.appointments, sms, notify, lambda: woken.append(1))
    return World(cfg, clock, store, repos, sms, engine, replies, events, woken)


@pytest.fixture
def world(tmp_path: Any, clock: FakeClock) -> Any:
    w = make_world(tmp_path, clock)
    yield w
    w.store.close()


@pytest.fixture
def now(clock: FakeClock) -> datetime:
    return clock.now()
