"""A fed appointment is reminded by the real dispatcher, and never with a time the feed just changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.feeds.intake import Intake
from appliance.store import reminders as rows
from tests.integration.reminders.conftest import World, build_world

WARSAW = ZoneInfo("Europe/Warsaw")


def siu(trigger: str, control: str, starts: datetime | None) -> bytes:
    when = f"^^^{starts.astimezone(WARSAW):%Y%m%d%H%M}" if starts else ""
    return "\r".join(
        [
            f"MSH|^~\\&|MEDREC|MAIN|CLINICBOX|CLINIC|20260302090000||SIU^{trigger}|{control}|P|2.5",
            f"SCH|P1|F1|||||||||{when}",
            "PID|1||MRN1^^^MEDREC^MR||Nowak^Jan||19800101|M|||||^PRN^CP^^^^^^^^^+48601200300",
        ]
    ).encode()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path, modem=True)
    yield w
    w.store.close()


def queued_sms(world: World) -> list[tuple[object, ...]]:
    return world.q("SELECT number, body FROM sms_messages WHERE direction = 'out'")


def test_a_fed_appointment_is_texted_by_the_dispatcher(world: World) -> None:
    intake = Intake(world.cfg, world.repos, world.clock)
    visit = world.clock.now() + timedelta(hours=26)
    assert intake.handle(siu("S12", "C1", visit)).code == "AA"
    world.clock.advance(2 * 3600 + 60)
    world.dispatcher.tick()
    sent = queued_sms(world)
    assert len(sent) == 1 and sent[0][0] == "+48601200300"
    assert f"{visit.astimezone(WARSAW):%H:%M}" in str(sent[0][1])


def test_a_cancelled_visit_is_not_texted(world: World) -> None:
    intake = Intake(world.cfg, world.repos, world.clock)
    intake.handle(siu("S12", "C1", world.clock.now() + timedelta(hours=26)))
    world.clock.advance(2 * 3600 + 60)
    intake.handle(siu("S15", "C2", None))
    world.dispatcher.tick()
    assert queued_sms(world) == []
    assert world.q("SELECT status, outcome FROM reminders") == [("cancelled", "appointment-cancelled")]


def test_the_dispatcher_rereads_the_visit_when_it_claims_the_reminder(world: World) -> None:
    """The visit moves between the dispatcher's read of due reminders and its send: nothing goes out."""
    intake = Intake(world.cfg, world.repos, world.clock)
    first = world.clock.now() + timedelta(hours=26)
    intake.handle(siu("S12", "C1", first))
    world.clock.advance(2 * 3600 + 60)
    now = world.clock.now()
    stale = rows.due(world.store.connection(), now, "sms", 10)
    assert len(stale) == 1 and stale[0].starts_at == first
    moved = first - timedelta(minutes=30)  # the feed moves it half an hour earlier: still due at once
    assert intake.handle(siu("S13", "C2", moved)).code == "AA"
    assert world.dispatcher.texts.send(stale[0], "+48601200300", now, "") is False
    assert queued_sms(world) == []
    world.dispatcher.tick()  # the next round reads the new time and sends that
    sent = queued_sms(world)
    assert len(sent) == 1 and f"{moved.astimezone(WARSAW):%H:%M}" in str(sent[0][1])
