"""The dispatcher with a fake clock and the fake switchboard over a real SQLCipher store:
outcomes, retries, the line budget, routes, the clock, pausing."""

from __future__ import annotations

from typing import Any

from appliance.reminders.dialogue import ReminderScript
from appliance.switchboard.fake import Behaviour
from tests.integration.reminders.conftest import World

ANSWER_1 = Behaviour("answer", 3.0, "1", 5.0)
NO_ANSWER = Behaviour("no-answer")


def due_visit(
    world: World, number: str = "601100200", behaviours: tuple[Behaviour, ...] = (ANSWER_1,)
) -> tuple[int, int]:
    """A patient with a visit tomorrow: its 24 h reminder is due now."""
    pid = world.patient(number)
    world.answers(pid, *behaviours)
    return pid, world.visit(pid, 24)


def test_pressing_1_confirms_the_visit_records_and_audits_everything(world: World) -> None:
    _, aid = due_visit(world)
    world.run(60)
    assert world.attempts() == [(1, "voice", "trunk", "finished", "confirmed")]
    assert world.reminders() == [(aid, 1440, "voice", "done", 1, "confirmed")]
    assert world.status(aid) == "confirmed"
    audit = world.q("SELECT actor, action, object_type, detail FROM audit_log WHERE actor = 'reminders'")
    assert audit == [
        ("reminders", "reminder-confirmed", "reminder_attempt", f"reminder 1, appointment {aid}, voice"),
        ("reminders", "status:confirmed", "appointment", ""),
    ]
    assert all("secret" not in str(row) and "601" not in str(row) for row in world.q("SELECT * FROM audit_log"))


def test_pressing_2_cancels_and_frees_the_slot(world: World) -> None:
    _, aid = due_visit(world, behaviours=(Behaviour("answer", 3.0, "2", 5.0),))
    world.run(60)
    assert world.status(aid) == "cancelled"
    assert world.q("SELECT status_changed_by FROM appointments WHERE id = ?", (aid,)) == [("reminders",)]
    assert world.attempts()[0][4] == "cancelled"


def test_pressing_3_is_desk_and_keeps_the_visit_booked(world: World) -> None:
    _, aid = due_visit(world, behaviours=(Behaviour("answer", 3.0, "3", 5.0),))
    world.run(200)
    assert world.attempts()[0][4] == "desk" and world.status(aid) == "booked"


def test_a_machine_gets_the_message_and_the_reminder_is_done(world: World) -> None:
    _, aid = due_visit(world, behaviours=(Behaviour("answer", 3.0, None, 5.0),))
    world.run(120)
    assert world.attempts() == [(1, "voice", "trunk", "finished", "voicemail")]
    assert world.reminders()[0][3:] == ("done", 1, "voicemail")
    assert world.status(aid) == "booked"


def test_no_answer_is_retried_after_the_backoff_then_given_up(make_world: Any) -> None:
    world = make_world(reminders={"max_attempts": 3, "retry_min": 30, "retry_max_min": 240})
    due_visit(world, behaviours=(NO_ANSWER,))
    world.run(60)
    assert world.reminders()[0][3:] == ("pending", 1, "no-answer")
    first_retry = world.q("SELECT next_attempt_at FROM reminders")[0][0]
    assert first_retry == "2026-03-02T08:30:40.000Z"  # the call rang 40 s, then 30 min
    world.run(29 * 60, step=60)
    assert len(world.attempts()) == 1  # not before the back-off
    world.run(2 * 60 * 60, step=60)  # the second retry waits 60 min
    assert [a[4] for a in world.attempts()] == ["no-answer"] * 3
    assert world.reminders()[0][3:] == ("failed", 3, "no-answer")
    world.run(6 * 60 * 60, step=300)
    assert len(world.attempts()) == 3  # max_attempts


def test_busy_then_answer_confirms_on_the_retry(world: World) -> None:
    _, aid = due_visit(world, behaviours=(Behaviour("busy"), ANSWER_1))
    world.run(60)
    world.run(31 * 60, step=60)
    assert [a[4] for a in world.attempts()] == ["busy", "confirmed"]
    assert world.status(aid) == "confirmed"


def test_the_line_budget_max_calls_and_reserved_lines(make_world: Any) -> None:
    world = make_world(lines=4, reminders={"max_calls": 3, "reserve_lines": 2})
    for i in range(6):
        due_visit(world, f"60110{i:04d}", (Behaviour("answer", 30.0, "1", 5.0),))
    world.dispatcher.tick()
    assert world.switchboard.lines()["reminder_calls"] == 2  # 4 lines - 2 reserved, though max_calls is 3
    world.switchboard.other_calls = 1  # a patient calls in
    world.run(120)
    assert max(len(world.switchboard.calls), 0) <= 1
    world.switchboard.other_calls = 0
    world.run(30 * 60, step=10)
    assert [a[4] for a in world.attempts()] == ["confirmed"] * 6


def test_no_new_reminder_call_while_callers_wait(world: World) -> None:
    due_visit(world)
    world.switchboard.waiting = 1
    world.run(120)
    assert world.switchboard.placed == []
    world.switchboard.waiting = 0
    world.run(60)
    assert len(world.switchboard.placed) == 1


def test_nothing_is_dialed_with_an_untrusted_clock_or_while_paused(world: World) -> None:
    due_visit(world)
    world.clock.set_trusted(False)
    world.run(60)
    assert world.switchboard.placed == [] and "clock is not trusted" in world.dispatcher.blocked
    world.clock.set_trusted(True)
    world.dispatcher.paused = True
    world.run(60)
    assert world.switchboard.placed == [] and world.dispatcher.blocked.startswith("paused")
    world.dispatcher.paused = False
    world.run(60)
    assert len(world.switchboard.placed) == 1


def test_no_route_waits_and_a_full_switchboard_puts_the_reminder_back(world: World) -> None:
    due_visit(world)
    world.switchboard.set_route("none")
    world.run(60)
    assert world.switchboard.placed == [] and world.attempts() == []
    world.switchboard.set_route("trunk")
    world.switchboard.other_calls = world.switchboard.allowed  # full: the real one raises CapacityError
    world.dispatcher.voice_budget = lambda: 1  # as if the snapshot lagged behind
    world.dispatcher.tick()
    assert world.attempts() == [(1, "voice", "trunk", "finished", "failed")]
    assert world.reminders()[0][3:5] == ("pending", 0)  # a call never placed does not count
    del world.dispatcher.voice_budget
    world.switchboard.other_calls = 0
    world.run(120)
    assert [a[4] for a in world.attempts()] == ["failed", "confirmed"]


def test_on_gsm_one_call_at_a_time(make_world: Any) -> None:
    world = make_world(reminders={"max_calls": 4, "reserve_lines": 0})
    world.switchboard.set_route("gsm")
    for i in range(3):
        pid = world.patient(f"22110{i:04d}")  # landlines: called even on GSM
        world.answers(pid, Behaviour("answer", 20.0, "1", 5.0))
        with world.store.transaction() as conn:
            conn.execute("UPDATE patient_phones SET kind = 'home' WHERE patient_id = ?", (pid,))
        world.visit(pid, 24)
    world.dispatcher.tick()
    assert len(world.switchboard.calls) == 1
    world.run(20 * 60, step=5)
    assert [a[2] for a in world.attempts()] == ["gsm"] * 3


def test_a_reminder_dialed_before_a_crash_is_not_redialed_at_once_but_retried_after_the_backoff(
    world: World,
) -> None:
    due_visit(world, behaviours=(ANSWER_1, ANSWER_1))
    world.dispatcher.tick()  # dialing, then "the power fails"
    assert world.attempts() == [(1, "voice", "trunk", "in-progress", "")]
    world.dispatcher.inflight.clear()
    world.dispatcher.recover()  # the next start
    assert world.attempts() == [(1, "voice", "trunk", "finished", "interrupted")]
    assert world.reminders()[0][3:] == ("pending", 1, "interrupted")  # counted, and not lost
    world.run((world.cfg.reminders.retry_min - 1) * 60, step=60)
    assert len(world.switchboard.placed) == 1  # it may have rung: no second call inside the back-off
    world.run(5 * 60, step=30)
    assert len(world.switchboard.placed) == 2
    assert [a[4] for a in world.attempts()] == ["interrupted", "confirmed"]
    assert world.reminders()[0][3:] == ("done", 2, "confirmed")


def test_an_interrupted_last_attempt_gives_the_reminder_up(make_world: Any) -> None:
    world = make_world(reminders={"max_attempts": 1})
    due_visit(world)
    world.dispatcher.tick()
    world.dispatcher.inflight.clear()
    world.dispatcher.recover()
    assert world.reminders()[0][3:] == ("failed", 1, "interrupted")
    world.run(3 * 3600, step=60)
    assert len(world.switchboard.placed) == 1


def test_a_lost_result_becomes_interrupted_after_the_stale_limit(make_world: Any) -> None:
    world = make_world(reminders={"stale_after_min": 5})
    due_visit(world, behaviours=(Behaviour("answer", 3.0, "1", 5.0),))
    world.dispatcher.tick()
    world.switchboard.calls.clear()  # the switchboard loses the call: no result will come
    world.switchboard._events.clear()
    world.run(10 * 60, step=30)
    assert world.attempts()[0][3:] == ("finished", "interrupted")
    assert len(world.switchboard.placed) == 1


def test_a_result_after_the_call_was_given_up_is_ignored(world: World) -> None:
    due_visit(world)
    world.dispatcher.tick()
    attempt_id = next(iter(world.dispatcher.inflight))
    with world.store.transaction() as conn:
        world.service.writer.interrupted(conn, attempt_id, "test", world.clock.now())
    world.run(60)
    assert world.attempts()[0][4] == "interrupted"


def test_the_script_gets_the_patients_language_and_the_visit_time(world: World) -> None:
    pid = world.patient("601999888", language="ko")
    world.visit(pid, 24)
    world.dispatcher.tick()
    flight = next(iter(world.dispatcher.inflight.values()))
    script: ReminderScript = flight.script
    assert script.language == "ko" and script.call_id == world.switchboard.placed[0][0]
    assert dict(script.when.params) == {"date": "3월 3일 화요일", "time": "오전 9시"}


def test_a_language_the_clinic_does_not_offer_falls_back_to_the_default(make_world: Any) -> None:
    world = make_world(clinic={"languages": ["pl", "en"], "default_language": "pl"})
    pid = world.patient("601999887", language="tr")
    world.visit(pid, 24)
    world.dispatcher.tick()
    assert next(iter(world.dispatcher.inflight.values())).script.language == "pl"


def test_voice_outside_the_windows_waits_for_the_window(make_world: Any) -> None:
    world = make_world(reminders={"windows": {"monday": ["10:00-12:00"]}, "offsets_h": [48]})
    pid = world.patient("601123123")
    world.answers(pid, ANSWER_1)
    world.visit(pid, 49)  # Wednesday 10:00: reminded on Monday 10:00, when the window opens
    world.run(50 * 60, step=60)  # until 09:50 local
    assert world.switchboard.placed == [] and world.dispatcher.blocked == "outside the calling windows"
    world.run(15 * 60, step=60)
    assert len(world.switchboard.placed) == 1


def test_a_confirmation_is_recorded_when_the_key_is_pressed_so_a_crash_after_it_loses_nothing(world: World) -> None:
    _, aid = due_visit(world, behaviours=(Behaviour("answer", 3.0, "1", 4.0),))
    world.dispatcher.tick()
    while world.status(aid) != "confirmed":  # step the call until the patient's choice is in
        world.switchboard.advance(0.5)
        world.dispatcher.tick()
        assert world.clock.now() < world.clock.now().replace(hour=9)
    assert world.switchboard.calls  # "thank you, goodbye" is still playing...
    world.dispatcher.inflight.clear()  # ...when the power fails
    world.dispatcher.recover()
    assert world.attempts() == [(1, "voice", "trunk", "finished", "confirmed")]
    assert world.status(aid) == "confirmed"


def test_a_reloaded_config_is_followed_at_the_next_wake(world: World, tmp_path: Any) -> None:
    from tests.conftest import clinic_config

    pid = world.patient("601999886")
    world.visit(pid, 72)
    assert [r[1] for r in world.reminders()] == [1440]
    changed = clinic_config(
        tmp_path / "reloaded", reminders={"windows": world.cfg.reminders.windows.__dict__, "offsets_h": [48, 24]}
    )
    world.service.reconfigure(changed)  # what the core's config.reload hands every service
    world.service._run("tick")
    assert sorted(r[1] for r in world.reminders()) == [1440, 2880]
    assert world.dispatcher.r.offsets_h == [48, 24]


def test_a_clock_that_jumped_ahead_untrusted_expires_nothing(world: World) -> None:
    due_visit(world)
    world.clock.set_trusted(False)
    world.clock.advance(10 * 24 * 3600)  # a Pi that booted with a wrong date
    world.dispatcher.tick()
    assert world.reminders()[0][3] == "pending"
