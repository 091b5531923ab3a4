"""Re-planning when appointments and patients change, in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from appliance.reminders.replanning import ReminderPlanner
from appliance.store.patient_input import PatientInput
from appliance.switchboard.fake import Behaviour
from tests.integration.reminders.conftest import World


def two_offsets(make_world: Any) -> World:
    world: World = make_world(reminders={"offsets_h": [48, 24]})
    return world


def rows(world: World) -> list[tuple[Any, ...]]:
    return world.q("SELECT offset_minutes, channel, status, due_at, outcome FROM reminders ORDER BY id")


def test_booking_plans_and_cancelling_cancels_at_once(make_world: Any) -> None:
    world = two_offsets(make_world)
    pid = world.patient("601400500", channel="both")
    aid = world.visit(pid, 72)
    assert [(r[0], r[1], r[2]) for r in rows(world)] == [
        (2880, "voice", "pending"),
        (2880, "sms", "pending"),
        (1440, "voice", "pending"),
        (1440, "sms", "pending"),
    ]
    world.repos.appointments.set_status(aid, "cancelled", "frontdesk")
    assert {(r[2], r[4]) for r in rows(world)} == {("cancelled", "appointment-cancelled")}


def test_confirming_in_the_web_ui_stops_further_reminders(make_world: Any) -> None:
    world = two_offsets(make_world)
    aid = world.visit(world.patient("601400501"), 72)
    world.repos.appointments.set_status(aid, "confirmed", "frontdesk")
    assert {r[2] for r in rows(world)} == {"cancelled"}


def test_moving_the_visit_moves_pending_reminders_and_revives_sent_ones(make_world: Any) -> None:
    world = two_offsets(make_world)
    pid = world.patient("601400502")
    world.answers(pid, Behaviour("answer", 3.0, None, 5.0))  # a machine: the 48 h reminder is done
    aid = world.visit(pid, 48)
    world.run(120)
    assert [r[2] for r in rows(world)] == ["done", "pending"]
    start = world.clock.now() + timedelta(days=5)
    world.repos.appointments.reschedule(aid, start, start + timedelta(minutes=30), "frontdesk")
    after = rows(world)
    assert [r[2] for r in after] == ["pending", "pending"]
    assert world.q("SELECT attempts FROM reminders ORDER BY id") == [(0,), (0,)]
    assert after[0][3] > "2026-03-05"  # planned for the new time


def test_replanning_the_same_visit_changes_nothing_and_never_revives_a_finished_reminder(make_world: Any) -> None:
    world = two_offsets(make_world)
    pid = world.patient("601400503")
    world.answers(pid, Behaviour("answer", 3.0, None, 5.0))
    world.visit(pid, 48)
    world.run(120)
    before = rows(world)
    planner = ReminderPlanner(world.cfg, world.clock)
    first = planner.plan_horizon(world.store)
    second = planner.plan_horizon(world.store)
    assert rows(world) == before
    assert (second.added, second.updated, second.cancelled) == (0, 0, 0)
    assert first.appointments == 1


def test_the_nightly_run_follows_a_patients_new_channel_and_opt_out(make_world: Any) -> None:
    world = two_offsets(make_world)
    pid = world.patient("601400504", channel="voice")
    world.visit(pid, 72)
    patient = world.repos.patients.get(pid, "test")
    world.repos.patients.update(
        pid, PatientInput(name=patient.display_name, phones=["601400504"], reminder_channel="sms", language="pl"), "t"
    )
    ReminderPlanner(world.cfg, world.clock).plan_horizon(world.store)
    assert [(r[1], r[2]) for r in rows(world)] == [("voice", "cancelled")] * 2 + [("sms", "pending")] * 2
    world.repos.patients.set_opt_out(pid, True, "frontdesk")
    ReminderPlanner(world.cfg, world.clock).plan_horizon(world.store)
    assert {(r[2], r[4]) for r in rows(world) if r[1] == "sms"} == {("cancelled", "opted-out")}


def test_a_due_reminder_whose_patient_changed_channel_is_not_sent_on_the_old_one(world: World) -> None:
    pid = world.patient("601400505", channel="voice")
    world.visit(pid, 24)
    with world.store.transaction() as conn:  # changed behind the planner's back (another process)
        conn.execute("UPDATE patients SET reminder_channel = 'none' WHERE id = ?", (pid,))
    world.run(60)
    assert world.switchboard.placed == []
    assert world.reminders()[0][3:] == ("cancelled", 0, "no-channel")


def test_with_an_untrusted_clock_the_hook_plans_nothing_and_the_nightly_run_catches_up(world: World) -> None:
    world.clock.set_trusted(False)
    pid = world.patient("601400506")
    world.visit(pid, 48)
    assert world.reminders() == []
    world.clock.set_trusted(True)
    ReminderPlanner(world.cfg, world.clock).plan_horizon(world.store)
    assert len(world.reminders()) == 1


def test_csv_import_plans_reminders_for_imported_visits(world: World) -> None:
    world.patient("601400507", external_id="P-7")
    data = b"external_id,patient_external_id,start,duration_min\nA-1,P-7,2026-03-04 12:00,20\n"
    report = world.repos.importer.appointments(data, "test")
    assert report.inserted == 1
    assert [r[1:4] for r in world.reminders()] == [(1440, "voice", "pending")]


def test_overdue_reminders_expire_when_the_box_was_off(world: World) -> None:
    pid = world.patient("601400508")
    world.visit(pid, 24)
    world.clock.advance(23 * 3600)  # the box was off all day
    world.dispatcher.tick()
    assert world.reminders()[0][3] == "expired" and world.switchboard.placed == []
