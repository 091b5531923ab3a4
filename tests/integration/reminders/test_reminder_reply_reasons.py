"""Replies the reminders must not apply: each stays for the desk with its reason, nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from appliance.modem.smsservice import IncomingSms
from appliance.store.sms import SmsRepo
from tests.integration.reminders.conftest import World


@pytest.fixture
def sms_world(make_world: Any) -> World:
    world: World = make_world(modem=True)
    return world


def texted(world: World, number: str, language: str = "pl") -> tuple[int, int]:
    pid = world.patient(number, channel="sms", language=language)
    aid = world.visit(pid, 24)
    world.dispatcher.tick()
    return pid, aid


def reply(world: World, number: str, text: str, pid: int | None = None) -> tuple[str | None, str | None]:
    """(who claimed it, the reason stored with it)."""
    repo = SmsRepo(world.store, world.clock)
    sms_id, _ = repo.insert_incoming(number, text, 1, "ucs2", "received", world.clock.now(), pid)
    claimed = world.service.replies(IncomingSms(sms_id, number, text, world.clock.now(), False, pid))
    (reason,) = world.q("SELECT reply_reason FROM sms_messages WHERE id = ?", (sms_id,))[0]
    return claimed, reason


def outcome(world: World) -> str:
    return str(world.q("SELECT outcome FROM reminder_attempts ORDER BY id DESC LIMIT 1")[0][0])


def test_a_yes_about_a_visit_the_desk_cancelled_since_is_not_applied(sms_world: World) -> None:
    pid, aid = texted(sms_world, "601200500")
    sms_world.repos.appointments.set_status(aid, "cancelled", "desk")
    assert reply(sms_world, sms_world.numbers[pid], "Tak, będę", pid) == (None, "visit-changed")
    assert sms_world.status(aid) == "cancelled"
    acks = sms_world.q("SELECT count(*) FROM sms_messages WHERE direction = 'out' AND reminder_attempt_id IS NULL")
    assert acks == [(0,)]  # no "confirmed" text for a visit that is not


def test_a_no_about_a_visit_moved_since_is_not_applied(sms_world: World) -> None:
    pid, aid = texted(sms_world, "601200501")
    start = sms_world.clock.now() + timedelta(hours=30)
    sms_world.repos.appointments.reschedule(aid, start, start + timedelta(minutes=20), "desk")
    assert reply(sms_world, sms_world.numbers[pid], "Nie przyjdę", pid) == (None, "visit-changed")
    assert sms_world.status(aid) == "booked"


def test_after_a_confirmation_a_question_or_a_no_goes_to_the_desk_and_the_confirmation_stands(
    sms_world: World,
) -> None:
    pid, aid = texted(sms_world, "601200502", language="es")
    number = sms_world.numbers[pid]
    assert reply(sms_world, number, "Sí, ahí estaré", pid) == ("reminders", None)
    assert reply(sms_world, number, "¿Tengo que llevar algo?", pid) == (None, "question")
    assert reply(sms_world, number, "No puedo ir", pid) == (None, "already-answered")
    assert sms_world.status(aid) == "confirmed"
    assert outcome(sms_world) == "confirmed"
    # STOP is honoured whatever came before.
    assert reply(sms_world, number, "baja", pid) == ("reminders", None)
    assert sms_world.q("SELECT opted_out_at IS NOT NULL FROM patients WHERE id = ?", (pid,)) == [(1,)]


def test_the_patients_language_on_file_decides_a_word_two_languages_read_differently(sms_world: World) -> None:
    """The Polish "no" means "well": from a Polish patient it is for the desk, from an English one a no."""
    polish, polish_visit = texted(sms_world, "601200503", language="pl")
    english, english_visit = texted(sms_world, "601200504", language="en")
    assert reply(sms_world, sms_world.numbers[polish], "No", polish) == (None, "ambiguous")
    assert sms_world.status(polish_visit) == "booked"
    assert reply(sms_world, sms_world.numbers[english], "No", english) == ("reminders", None)
    assert sms_world.status(english_visit) == "cancelled"


def test_a_text_from_a_number_never_reminded_is_marked_as_no_reply(sms_world: World) -> None:
    assert reply(sms_world, "+48601200599", "Tak") == (None, "no-reminder")
    assert sms_world.q("SELECT count(*) FROM reminder_attempts") == [(0,)]
