"""A reminder SMS still waiting in the modem's queue is never sent for a visit
that was cancelled or moved, nor after its reminder's window, nor at night:
it is withdrawn (or held until the calling window opens), saying why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from appliance.store.sms import SmsRepo
from tests.integration.reminders.conftest import World


def queued_text(world: World, hours_ahead: float = 24) -> tuple[int, int, int]:
    """(patient, appointment, sms id) of a reminder SMS the modem has not sent yet."""
    pid = world.patient(f"6012004{len(world.numbers):02d}", channel="sms")
    aid = world.visit(pid, hours_ahead)
    world.dispatcher.tick()
    (sms_id,) = world.q("SELECT id FROM sms_messages WHERE direction = 'out' AND patient_id = ?", (pid,))[0]
    return pid, aid, int(sms_id)


def modem_would_send(world: World) -> list[int]:
    return [record.id for record in SmsRepo(world.store, world.clock).due()]


def sms_row(world: World, sms_id: int) -> tuple[Any, ...]:
    return world.q("SELECT status, error FROM sms_messages WHERE id = ?", (sms_id,))[0]


def test_a_cancelled_visits_queued_text_is_never_sent_and_is_withdrawn(make_world: Any) -> None:
    world = make_world(modem=True)
    _, aid, sms_id = queued_text(world)
    assert modem_would_send(world) == [sms_id]
    world.repos.appointments.set_status(aid, "cancelled", "test")
    assert modem_would_send(world) == []  # at once, before the dispatcher ticks
    assert SmsRepo(world.store, world.clock).next_due_at() is None
    world.dispatcher.tick()
    assert sms_row(world, sms_id) == ("failed", "withdrawn: the appointment was cancelled")
    assert world.attempts() == [(1, "sms", "gsm", "finished", "failed")]
    assert world.reminders()[0][3:] == ("cancelled", 1, "appointment-cancelled")
    assert world.q("SELECT action FROM audit_log WHERE action = 'reminder-withdrawn'") == [("reminder-withdrawn",)]


def test_a_moved_visits_queued_text_is_withdrawn_and_one_for_the_new_time_goes_instead(make_world: Any) -> None:
    world = make_world(modem=True)
    _, aid, sms_id = queued_text(world)
    (old_body,) = world.q("SELECT body FROM sms_messages WHERE id = ?", (sms_id,))[0]
    start = world.clock.now() + timedelta(hours=23)
    world.repos.appointments.reschedule(aid, start, start + timedelta(minutes=15), "test")
    assert modem_would_send(world) == []
    world.dispatcher.tick()
    assert sms_row(world, sms_id) == ("failed", "withdrawn: the appointment was moved")
    outgoing = world.q("SELECT id, status, body FROM sms_messages WHERE direction = 'out' ORDER BY id")
    assert len(outgoing) == 2 and outgoing[1][1] == "queued" and outgoing[1][2] != old_body
    assert modem_would_send(world) == [outgoing[1][0]]
    assert [a[3:] for a in world.attempts()] == [("finished", "failed"), ("in-progress", "")]


def test_a_text_not_sent_by_the_end_of_its_window_is_withdrawn(make_world: Any) -> None:
    world = make_world(modem=True)
    _, _, sms_id = queued_text(world)
    world.clock.advance(22.5 * 3600)  # Tuesday 07:30: the 24 h reminder's window closed at 07:00
    assert modem_would_send(world) == []
    world.dispatcher.tick()
    assert sms_row(world, sms_id) == ("failed", "withdrawn: the reminder's window ended before it was sent")
    assert world.reminders()[0][3] == "expired"


def test_outside_the_calling_windows_a_queued_text_waits_for_the_next_window(make_world: Any) -> None:
    world = make_world(modem=True, reminders={"offsets_h": [48]})
    _, _, sms_id = queued_text(world, hours_ahead=40)  # the visit is on Wednesday 01:00
    world.clock.advance(11.5 * 3600)  # Monday 20:30 in Warsaw: windows are 08:00-20:00
    world.dispatcher.tick()
    assert modem_would_send(world) == []
    assert sms_row(world, sms_id)[0] == "queued"
    world.clock.advance(11 * 3600 + 29 * 60)  # Tuesday 07:59
    world.dispatcher.tick()
    assert modem_would_send(world) == []
    world.clock.advance(60)  # 08:00: the window opens
    assert modem_would_send(world) == [sms_id]
