"""A clinic with a real SQLCipher store, a fake clock and the shipped fake
switchboard, driven step by step: a day of reminder calls in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import FakeClock
from appliance.config import Config
from appliance.events import EventBus
from appliance.modem.smsservice import SmsService
from appliance.reminders.service import ReminderService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from appliance.store.sms import SmsRepo
from appliance.switchboard.fake import Behaviour, FakeSwitchboard
from tests.conftest import clinic_config, repos_with_planner

#: Monday 2 March 2026, 09:00 in Warsaw.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ALL_DAY = {
    day: ["08:00-20:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
#: For tests on the system clock: ALL_DAY would close at 19:00 UTC, whenever the run happens to be then.
AROUND_THE_CLOCK = {day: ["00:00-24:00"] for day in ALL_DAY}


@dataclass
class World:
    cfg: Config
    clock: FakeClock
    store: Store
    repos: Repos
    switchboard: FakeSwitchboard
    bus: EventBus
    sms: SmsService | None
    service: ReminderService
    numbers: dict[int, str] = field(default_factory=dict)

    @property
    def dispatcher(self) -> Any:
        return self.service.dispatcher

    def patient(self, number: str, channel: str = "voice", language: str = "pl", **kw: Any) -> int:
        pid = self.repos.patients.create(
            PatientInput(
                name=f"Patient {number[-4:]}", phones=[number], reminder_channel=channel, language=language, **kw
            ),
            "test",
        )
        self.numbers[pid] = self.repos.patients.get(pid, "test").phones[0].e164
        return pid

    def visit(self, patient_id: int, hours_ahead: float, **kw: Any) -> int:
        start = self.clock.now() + timedelta(hours=hours_ahead)
        return self.repos.appointments.create(
            AppointmentInput(patient_id=patient_id, starts_at=start, provider="dr Nowak", reason="secret", **kw), "test"
        )

    def answers(self, patient_id: int, *behaviours: Behaviour) -> None:
        self.switchboard.behaviours[self.numbers[patient_id]] = list(behaviours)

    def run(self, seconds: float, step: float = 5.0) -> None:
        """Let time pass: calls progress, results come in, the dispatcher ticks."""
        end = self.clock.now() + timedelta(seconds=seconds)
        self.dispatcher.tick()
        while self.clock.now() < end:
            left = (end - self.clock.now()).total_seconds()
            upcoming = self.switchboard.next_event_in()
            self.switchboard.advance(min(step, left, upcoming if upcoming is not None else step))
            self.dispatcher.tick()

    def q(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.store.query(sql, params)]

    def attempts(self) -> list[tuple[Any, ...]]:
        return self.q("SELECT reminder_id, channel, route, state, outcome FROM reminder_attempts ORDER BY id")

    def reminders(self) -> list[tuple[Any, ...]]:
        return self.q(
            "SELECT appointment_id, offset_minutes, channel, status, attempts, outcome FROM reminders ORDER BY id"
        )

    def status(self, appointment_id: int) -> str:
        return str(self.q("SELECT status FROM appointments WHERE id = ?", (appointment_id,))[0][0])


def build_world(tmp: Path, *, lines: int = 8, modem: bool = False, start: datetime = START, **overrides: Any) -> World:
    reminders = {
        "windows": ALL_DAY,
        "offsets_h": [24],
        "reserve_lines": 1,
        "max_calls": 2,
        **overrides.pop("reminders", {}),
    }
    cfg = clinic_config(tmp, reminders=reminders, modem={"enabled": modem}, **overrides)
    clock = FakeClock(start)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    repos = repos_with_planner(cfg, store)
    bus = EventBus()
    switchboard = FakeSwitchboard(clock, lines=lines, seed=7, prompt_s=3.0)
    sms = SmsService(SmsRepo(store, clock), cfg.modem, clock, bus, region=cfg.clinic.country) if modem else None
    service = ReminderService(cfg, clock, bus, store, switchboard, sms=sms, repos=repos)
    service.dispatcher.recover()
    return World(cfg, clock, store, repos, switchboard, bus, sms, service)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path)
    yield w
    w.store.close()


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Any]:
    made: list[World] = []

    def make(**kw: Any) -> World:
        w = build_world(tmp_path / f"w{len(made)}", **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.store.close()


__all__ = ["ALL_DAY", "START", "Behaviour", "World", "build_world"]
