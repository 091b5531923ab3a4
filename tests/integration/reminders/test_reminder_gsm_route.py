"""The trunk is down, the GSM modem carries reminders: SMS for patients who
accept SMS, voice otherwise (one GSM voice call at a time), and never a
second text for the same visit and offset."""

from __future__ import annotations

from typing import Any

from appliance.modem.smsservice import IncomingSms
from appliance.switchboard.fake import Behaviour
from tests.integration.reminders.conftest import World

ANSWER_1 = Behaviour("answer", 3.0, "1", 5.0)


def gsm_world(make_world: Any) -> World:
    world: World = make_world(modem=True)
    world.switchboard.set_route("gsm")
    return world


def outgoing_sms(world: World) -> list[tuple[Any, ...]]:
    return world.q("SELECT number, body FROM sms_messages WHERE direction = 'out' ORDER BY id")


def test_a_voice_only_patient_is_called_on_the_gsm_line_never_texted(make_world: Any) -> None:
    world = gsm_world(make_world)
    pid = world.patient("601100200", channel="voice")  # a mobile number
    world.answers(pid, ANSWER_1)
    aid = world.visit(pid, 24)
    world.run(120)
    assert outgoing_sms(world) == []
    assert [(number, attempt) for _, number, attempt in world.switchboard.placed] == [(world.numbers[pid], 1)]
    assert world.attempts() == [(1, "voice", "gsm", "finished", "confirmed")]
    assert world.status(aid) == "confirmed"


def test_a_patient_on_both_channels_gets_one_text_and_the_call_waits_for_the_trunk(make_world: Any) -> None:
    world = gsm_world(make_world)
    pid = world.patient("601100201", channel="both")
    world.answers(pid, ANSWER_1)
    world.visit(pid, 24)
    world.run(15 * 60, step=30)
    assert [number for number, _ in outgoing_sms(world)] == [world.numbers[pid]]  # its own SMS reminder only
    assert world.switchboard.placed == []  # the one GSM voice line stays free for voice-only patients
    assert [(r[2], r[3]) for r in world.reminders()] == [("voice", "pending"), ("sms", "active")]

    world.switchboard.set_route("trunk")
    world.run(120)
    assert len(outgoing_sms(world)) == 1
    assert [a[1:3] for a in world.attempts()] == [("sms", "gsm"), ("voice", "trunk")]
    assert len(world.switchboard.placed) == 1


def test_a_voice_only_patient_waits_while_the_gsm_line_is_busy(make_world: Any) -> None:
    world = gsm_world(make_world)
    first = world.patient("601100202", channel="voice")
    second = world.patient("601100203", channel="voice")
    world.answers(first, Behaviour("answer", 20.0, "1", 5.0))
    world.answers(second, ANSWER_1)
    world.visit(first, 24)
    world.visit(second, 24)
    world.run(15)  # the first call still rings
    assert len(world.switchboard.placed) == 1 and outgoing_sms(world) == []
    world.run(10 * 60, step=5)
    assert len(world.switchboard.placed) == 2 and outgoing_sms(world) == []
    assert [a[1:] for a in world.attempts()] == [("voice", "gsm", "finished", "confirmed")] * 2


def test_a_patient_who_accepts_sms_but_has_no_text_for_the_visit_is_texted_instead(make_world: Any) -> None:
    world = gsm_world(make_world)
    pid = world.patient("601100204", channel="both")
    aid = world.visit(pid, 24)
    with world.store.transaction() as conn:  # e.g. staff cancelled the SMS reminder by hand
        conn.execute("UPDATE reminders SET status = 'cancelled' WHERE channel = 'sms'")
    world.dispatcher.tick()
    assert world.switchboard.placed == []
    ((number, body),) = outgoing_sms(world)
    assert number == world.numbers[pid]
    assert "Odpisz 1 lub TAK" in body and "secret" not in body and "Nowak" not in body
    assert world.attempts() == [(1, "sms", "gsm", "in-progress", "")]
    assert world.service.replies(IncomingSms(99, number, "Tak!", world.clock.now(), False, pid)) == "reminders"
    assert world.status(aid) == "confirmed"
