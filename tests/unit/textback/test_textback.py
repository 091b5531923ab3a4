"""Missed-call text-backs on the real store: who gets one, who does not and why, never twice.

The clock starts on Monday 2 March 2026, 10:00 in Warsaw (the contact
window, the reminders' calling windows, is 09:00-19:00 on weekdays).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from appliance.store.patient_input import PatientInput
from appliance.textback import TEXTS
from tests.unit.textback.conftest import World, make_world

MOBILE = "+48601234567"
LANDLINE = "+48221234567"


def test_a_caller_who_hung_up_in_the_queue_gets_one_text_in_the_clinics_language(world: World) -> None:
    cid = world.missed(MOBILE)
    assert world.texts.scan() == 1
    assert world.outgoing() == [(MOBILE, TEXTS["pl"].format(clinic="Test Clinic"))]
    assert world.trace(cid) == [("textback", "queued", "")]
    assert world.texts.scan() == 0  # a second scan (or a restart) sends nothing more
    assert len(world.outgoing()) == 1
    audit = world.store.query("SELECT action FROM audit_log WHERE actor = 'textback'")
    assert [a[0] for a in audit] == ["textback-queued"]


def test_the_patients_language_wins_then_the_language_chosen_on_the_phone(world: World) -> None:
    pid = world.repos.patients.create(PatientInput(name="Ji-woo Kim", phones=["+48601000001"], language="ko"), "t")
    world.missed("+48601000001", patient_id=pid, language="en")
    world.missed("+48601000002", language="tr")
    world.texts.scan()
    bodies = dict(world.outgoing())
    assert bodies["+48601000001"] == TEXTS["ko"].format(clinic="Test Clinic")
    assert bodies["+48601000002"] == TEXTS["tr"].format(clinic="Test Clinic")


def test_busy_overflow_and_after_hours_callers_get_one_voicemail_and_requests_none(world: World) -> None:
    busy = world.missed("+48601000011", "busy", source="busy")
    overflow = world.missed("+48601000012", "overflow", source=None)
    closed = world.missed("+48601000013", "ivr", source="after-hours")
    left_message = world.missed("+48601000014", "abandoned", voicemail_left=True)
    asked = world.missed("+48601000015", "callback", source="requested")
    answered = world.missed("+48601000016", "answered", source=None)
    assert world.texts.scan() == 3
    assert sorted(n for n, _ in world.outgoing()) == ["+48601000011", "+48601000012", "+48601000013"]
    for cid in (busy, overflow, closed):
        assert world.trace(cid) == [("textback", "queued", "")]
    for cid in (left_message, asked, answered):
        assert world.trace(cid) == []  # not a missed call: no trace line at all


def test_a_withheld_number_gets_nothing_and_the_trace_says_why(world: World) -> None:
    cid = world.missed("anonymous", source=None)
    assert world.texts.scan() == 0
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "skipped", "withheld")]


def test_a_landline_gets_nothing(world: World) -> None:
    cid = world.missed(LANDLINE)
    assert world.texts.scan() == 0
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "skipped", "landline")]


def test_a_second_missed_call_inside_the_period_is_not_texted_again(world: World) -> None:
    first = world.missed(MOBILE, ago=timedelta(minutes=5))
    world.texts.scan()
    second = world.missed(MOBILE)
    world.texts.scan()
    assert len(world.outgoing()) == 1
    assert world.trace(first) == [("textback", "queued", "")]
    assert world.trace(second) == [("textback", "skipped", "recent")]
    # The callback list keeps one open entry for the number, as before.
    assert (
        world.store.query("SELECT count(*) FROM callbacks WHERE number = ? AND status = 'open'", (MOBILE,))[0][0] == 1
    )


def test_after_the_period_the_same_number_is_texted_again(tmp_path: Any, clock: Any) -> None:
    w = make_world(tmp_path, clock, textback={"period_h": 1}, contact={"per_day": 2, "per_week": 3})
    w.missed(MOBILE)
    w.texts.scan()
    clock.advance(2 * 3600)
    w.missed(MOBILE)
    assert w.texts.scan() == 1
    assert len(w.outgoing()) == 2
    w.store.close()


def test_in_quiet_hours_the_text_waits_for_the_window(world: World) -> None:
    world.at_local(8, 30)  # Tuesday 08:30: the window opens at 09:00
    cid = world.missed(MOBILE)
    assert world.texts.scan() == 0
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "waiting", "quiet-hours")]
    world.at_local(9, 0)
    assert world.texts.scan() == 1
    assert world.trace(cid) == [("textback", "queued", "")]
    assert world.texts.scan() == 0 and len(world.outgoing()) == 1


def test_a_text_that_waited_too_long_is_dropped(world: World) -> None:
    world.at_local(20, 0)  # after closing: the window opens 13 hours later, stale_min is 12 hours
    cid = world.missed(MOBILE)
    world.texts.scan()
    world.at_local(9, 0)
    assert world.texts.scan() == 0
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "skipped", "stale")]


def test_an_opted_out_number_gets_nothing(world: World) -> None:
    assert world.keywords(world.incoming(MOBILE, "STOP")) == "contact"
    confirmations = world.outgoing()
    cid = world.missed(MOBILE)
    assert world.texts.scan() == 0
    assert world.outgoing() == confirmations  # the STOP confirmation only
    assert world.trace(cid) == [("textback", "skipped", "opted-out")]


def test_an_opted_out_patient_gets_nothing_on_any_of_their_numbers(world: World) -> None:
    pid = world.repos.patients.create(PatientInput(name="Anna Nowak", phones=[MOBILE]), "t")
    world.repos.patients.set_opt_out(pid, True, "desk", via="phone", detail="asked at the counter")
    cid = world.missed(MOBILE, patient_id=pid)
    world.texts.scan()
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "skipped", "opted-out")]


def test_the_daily_cap_counts_every_kind_of_message(world: World) -> None:
    pid = world.repos.patients.create(PatientInput(name="Anna Nowak", phones=[MOBILE]), "t")
    with world.store.transaction() as conn:  # a reminder SMS went to her earlier today
        from appliance.store import contacts

        contacts.record(conn, world.clock.now() - timedelta(hours=1), "reminder", MOBILE, "sent", patient_id=pid)
    cid = world.missed("+48601999999", patient_id=pid)  # she called from another phone
    world.texts.scan()
    assert world.outgoing() == []
    assert world.trace(cid) == [("textback", "skipped", "cap-day")]


def test_without_a_modem_the_text_back_fails_and_says_why(tmp_path: Any, clock: Any) -> None:
    w = make_world(tmp_path, clock)
    w.texts.sms = None
    cid = w.missed(MOBILE)
    assert w.texts.scan() == 0
    (line,) = w.trace(cid)
    assert line[:2] == ("textback", "failed") and "modem.enabled" in line[2]
    assert w.texts.scan() == 0 and len(w.trace(cid)) == 1  # decided once
    w.store.close()
