"""Reminder SMS through the modem's real SMS queue: sending, status, replies, no modem, restarts."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.modem.smsservice import IncomingSms
from appliance.store.sms import SmsRepo
from tests.integration.reminders.conftest import World


@pytest.fixture
def sms_world(make_world: Any) -> World:
    world: World = make_world(modem=True)
    return world


def texted(world: World, number: str = "601200300", language: str = "pl") -> tuple[int, int, int]:
    """(patient, appointment, sms id) of a reminder SMS just handed to the modem."""
    pid = world.patient(number, channel="sms", language=language)
    aid = world.visit(pid, 24)
    world.dispatcher.tick()
    (sms_id,) = world.q("SELECT id FROM sms_messages WHERE direction = 'out' AND patient_id = ?", (pid,))[0]
    return pid, aid, int(sms_id)


def reply(world: World, pid: int, text: str) -> str | None:
    repo = SmsRepo(world.store, world.clock)
    number = world.numbers[pid]
    sms_id, _ = repo.insert_incoming(number, text, 1, "ucs2", "received", world.clock.now(), pid)
    return world.service.replies(IncomingSms(sms_id, number, text, world.clock.now(), False, pid))


def test_the_sms_goes_to_the_modem_queue_linked_to_its_attempt(sms_world: World) -> None:
    pid, _, sms_id = texted(sms_world)
    assert sms_world.attempts() == [(1, "sms", "gsm", "in-progress", "")]
    row = sms_world.q("SELECT number, status, reminder_attempt_id, body FROM sms_messages WHERE id = ?", (sms_id,))[0]
    assert row[:3] == (sms_world.numbers[pid], "queued", 1)
    assert "Test Clinic" in row[3] and "wt., 3 marca" in row[3] and "secret" not in row[3]


def test_sent_then_delivered_finish_the_attempt(sms_world: World) -> None:
    _, _, sms_id = texted(sms_world)
    SmsRepo(sms_world.store, sms_world.clock).mark_sent(sms_id)
    sms_world.dispatcher.on_sms_status(sms_id, "sent")
    sms_world.dispatcher.tick()
    assert sms_world.attempts() == [(1, "sms", "gsm", "finished", "sent")]
    assert sms_world.reminders()[0][3:] == ("done", 1, "sent")
    sms_world.dispatcher.on_sms_status(sms_id, "delivered")
    sms_world.dispatcher.tick()
    assert sms_world.attempts()[0][4] == "delivered"


def test_an_unconfirmed_sms_counts_as_sent_and_is_not_sent_again(sms_world: World) -> None:
    """The modem never confirmed it: the patient may have it, so no second text or call follows."""
    _, _, sms_id = texted(sms_world)
    repo = SmsRepo(sms_world.store, sms_world.clock)
    repo.mark_unconfirmed(sms_id, 0, "the modem did not answer AT+CMGS within 60 s")
    assert repo.mark_sent(sms_id) == "unconfirmed"
    sms_world.dispatcher.on_sms_status(sms_id, "unconfirmed")
    sms_world.dispatcher.tick()
    assert sms_world.attempts() == [(1, "sms", "gsm", "finished", "sent")]
    detail = sms_world.q("SELECT detail FROM reminder_attempts")[0][0]
    assert "did not confirm" in detail
    assert sms_world.reminders()[0][3:] == ("done", 1, "sent")
    assert sms_world.q("SELECT count(*) FROM sms_messages WHERE direction = 'out'")[0][0] == 1


@pytest.mark.parametrize(
    ("text", "outcome", "status", "claimed"),
    [
        ("TAK", "confirmed", "confirmed", "reminders"),
        ("anuluj", "cancelled", "cancelled", "reminders"),
        ("czy mogę przyjść o 15?", "unclear-reply", "booked", None),
    ],
)
def test_a_reply_confirms_cancels_or_goes_to_staff(
    sms_world: World, text: str, outcome: str, status: str, claimed: str | None
) -> None:
    pid, aid, sms_id = texted(sms_world)
    SmsRepo(sms_world.store, sms_world.clock).mark_sent(sms_id)
    sms_world.dispatcher.on_sms_status(sms_id, "sent")
    sms_world.dispatcher.tick()
    assert reply(sms_world, pid, text) == claimed
    assert sms_world.attempts()[0][3:] == ("finished", outcome)
    assert sms_world.status(aid) == status
    audit = [r[0] for r in sms_world.q("SELECT action FROM audit_log WHERE actor = 'reminders'")]
    assert f"reminder-{outcome}" in audit


def test_the_patient_gets_an_acknowledgement_in_their_language(sms_world: World) -> None:
    pid, _, _ = texted(sms_world, "601200301", language="tr")
    assert reply(sms_world, pid, "İPTAL") == "reminders"
    ack = sms_world.q("SELECT body, reminder_attempt_id FROM sms_messages WHERE direction = 'out' ORDER BY id")[-1]
    assert "iptal edildi" in ack[0] and ack[1] is None


def test_stop_opts_the_patient_out_of_every_reminder(sms_world: World) -> None:
    pid, aid, _ = texted(sms_world)
    later = sms_world.visit(pid, 72)
    assert reply(sms_world, pid, "STOP") == "reminders"
    assert sms_world.q("SELECT opted_out_at IS NOT NULL FROM patients WHERE id = ?", (pid,)) == [(1,)]
    assert {r[3] for r in sms_world.reminders() if r[0] == later} == {"cancelled"}
    assert sms_world.status(aid) == "booked"


def test_a_message_from_a_number_we_never_texted_is_not_ours(sms_world: World) -> None:
    pid = sms_world.patient("601200399", channel="sms")
    assert reply(sms_world, pid, "TAK") is None
    assert sms_world.attempts() == []


def test_without_a_modem_sms_reminders_fail_and_say_why(world: World) -> None:
    pid = world.patient("601200302", channel="sms")
    world.visit(pid, 24)
    world.dispatcher.tick()
    assert world.attempts() == [(1, "sms", "gsm", "finished", "failed")]
    assert world.reminders()[0][3] == "failed"
    (detail,) = world.q("SELECT detail FROM reminder_attempts")[0]
    assert "no modem" in detail and "modem.enabled" in detail


def test_restart_after_queueing_keeps_the_sms_and_restart_before_sends_it_once(sms_world: World) -> None:
    _, _, sms_id = texted(sms_world)
    with sms_world.store.transaction() as conn:  # as if the box died before recording the sms id
        conn.execute("UPDATE reminder_attempts SET state = 'sending', sms_id = NULL")
    sms_world.dispatcher.recover()
    assert sms_world.q("SELECT state, sms_id FROM reminder_attempts") == [("in-progress", sms_id)]
    pid2 = sms_world.patient("601200303", channel="sms")
    sms_world.visit(pid2, 24)
    with sms_world.store.transaction() as conn:  # claimed, then the power failed before the modem queued it
        due = conn.execute("SELECT id FROM reminders WHERE status = 'pending'").fetchone()[0]
        conn.execute("UPDATE reminders SET status = 'active', attempts = 1 WHERE id = ?", (due,))
        conn.execute(
            "INSERT INTO reminder_attempts(reminder_id, channel, route, state, started_at) VALUES (?, 'sms', 'gsm',"
            " 'sending', '2026-03-02T08:00:00.000Z')",
            (due,),
        )
    sms_world.dispatcher.recover()
    sms_world.dispatcher.tick()
    outgoing = sms_world.q("SELECT count(*) FROM sms_messages WHERE direction = 'out' AND patient_id = ?", (pid2,))
    assert outgoing == [(1,)]
    assert [a[3:] for a in sms_world.attempts()][-2:] == [("finished", "failed"), ("in-progress", "")]


def test_no_more_sms_are_queued_than_the_modem_sends_in_two_minutes(make_world: Any) -> None:
    world = make_world(modem=True, reminders={"sms_outstanding_per_min": 1})
    for i in range(15):
        pid = world.patient(f"6013000{i:02d}", channel="sms")
        world.visit(pid, 24)
    world.dispatcher.tick()
    assert world.q("SELECT count(*) FROM sms_messages WHERE direction = 'out'") == [(10,)]  # modem.sms_per_minute
