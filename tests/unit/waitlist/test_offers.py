"""Freed slots held and offered: who gets the offer, in which language, and who never does."""

from __future__ import annotations

import pytest

from appliance.errors import ValidationError
from appliance.store.waitlist import EntryInput
from appliance.waitlist import wording
from tests.unit.waitlist.conftest import World, make_world

ANNA, BORA, CHEN, DANA = "+48601000001", "+48601000002", "+48601000003", "+48601000004"
LANDLINE = "+48221234567"  # a Warsaw fixed line


def test_a_cancelled_visit_is_offered_to_the_waitlisted_patient_in_their_language(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    bora = world.patient("Bora Kim", BORA, language="ko")
    visit = world.visit(owner, 26)
    world.wait(bora)
    world.cancel(visit)
    assert world.slots() == [("held", "")]
    assert world.engine.scan() == 1
    start = world.repos.appointments.get(visit, "t").starts_at
    assert world.outgoing() == [(BORA, wording.offer_text(world.cfg, "ko", start))]
    assert "예약 자리" in world.outgoing()[0][1] and "15분" in world.outgoing()[0][1]
    assert world.offers() == [(bora, "offered", "")]
    trace = world.store.query("SELECT kind, outcome, language FROM contact_log WHERE patient_id = ?", (bora,))
    assert [tuple(r) for r in trace] == [("waitlist", "queued", "ko")]
    assert [e.kind for e in world.events if e.kind.startswith("waitlist.")] == ["waitlist.offered"]
    assert world.engine.scan() == 0  # one at a time: nothing more while the offer is open


def test_never_the_patient_whose_visit_freed_the_slot(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    visit = world.visit(owner, 26)
    world.wait(owner)  # on the list for an earlier visit herself
    world.cancel(visit)
    assert world.engine.scan() == 0
    assert world.outgoing() == []
    assert world.slots() == [("unfilled", "nobody left to offer it to")]


def test_never_a_slot_outside_the_patients_days_and_hours(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    mornings = world.patient("Marek Rano", BORA)
    other_doctor = world.patient("Inny Lekarz", CHEN)
    fits = world.patient("Ewa Pasuje", DANA)
    visit = world.visit(owner, 26 + 4)  # Tuesday 15:00 in Warsaw
    world.wait(mornings, earliest=False, from_time="08:00", to_time="12:00")
    world.wait(other_doctor, provider="Dr Zielińska")
    world.wait(fits, earliest=False, weekdays="1", from_time="14:00", to_time="17:00")
    world.cancel(visit)
    assert world.engine.scan() == 1
    assert [n for n, _ in world.outgoing()] == [DANA]


def test_never_a_slot_too_soon_to_reach(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    bora = world.patient("Bora", BORA)
    visit = world.visit(owner, 0.5)  # min_notice_min = 60
    world.wait(bora)
    world.cancel(visit)
    assert world.engine.scan() == 0
    assert world.outgoing() == []
    assert world.slots() == [("unfilled", "too-soon")]


def test_a_past_visit_cancelled_frees_nothing_and_nobody_waiting_holds_nothing(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    visit = world.visit(owner, 26)
    world.cancel(visit)  # nobody waits
    assert world.slots() == []


def test_best_match_first_then_whoever_joined_first(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    anyone = world.patient("Anyone", BORA)
    named = world.patient("Named", CHEN)
    world.wait(anyone)
    world.clock.advance(60)
    world.wait(named, provider="Dr Nowak")
    world.cancel(world.visit(owner, 26))
    world.engine.scan()
    assert [n for n, _ in world.outgoing()] == [CHEN]


def test_a_batch_offers_several_at_once(tmp_path: object, clock: object) -> None:
    world = make_world(tmp_path, clock, waitlist={"batch": 2})
    try:
        owner = world.patient("Olga Owner", ANNA)
        for name, phone in (("B", BORA), ("C", CHEN), ("D", DANA)):
            world.wait(world.patient(name, phone))
        world.cancel(world.visit(owner, 26))
        assert world.engine.scan() == 2
        assert [n for n, _ in world.outgoing()] == [BORA, CHEN]
    finally:
        world.store.close()


def test_no_answer_by_the_expiry_moves_to_the_next_patient(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    bora, chen = world.patient("B", BORA), world.patient("C", CHEN)
    world.wait(bora)
    world.wait(chen)
    world.cancel(world.visit(owner, 26))
    world.engine.scan()
    world.clock.advance(14 * 60)
    assert world.engine.scan() == 0
    world.clock.advance(61)
    assert world.engine.scan() == 1
    assert world.offers() == [(bora, "expired", ""), (chen, "offered", "")]
    assert world.repos.waitlist.get(1, "t").state == "waiting"  # the silent patient stays on the list


def test_a_landline_on_the_waitlist_never_gets_an_sms_and_stays_on_the_desks_list(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    land = world.patient("Stacjonarny", LANDLINE)
    mobile = world.patient("Komórka", BORA)
    world.wait(land)
    world.wait(mobile)
    world.cancel(world.visit(owner, 26))
    world.engine.scan()
    assert [n for n, _ in world.outgoing()] == [BORA]
    assert world.offers() == [(land, "skipped", "landline"), (mobile, "offered", "")]
    assert [e.state for e in world.repos.waitlist.entries("t")] == ["waiting", "waiting"]


def test_an_opted_out_patient_on_the_waitlist_gets_nothing(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    out = world.patient("Wypisany", BORA)
    world.repos.patients.set_opt_out(out, True, "desk")
    world.wait(out)
    world.cancel(world.visit(owner, 26))
    world.engine.scan()
    assert world.outgoing() == []
    assert world.offers() == [(out, "skipped", "opted-out")]
    trace = world.store.query("SELECT kind, outcome, reason FROM contact_log WHERE patient_id = ?", (out,))
    assert [tuple(r) for r in trace] == [("waitlist", "skipped", "opted-out")]
    assert world.slots() == [("unfilled", "nobody left to offer it to")]


def test_the_daily_cap_skips_a_patient_texted_today(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    bora, chen = world.patient("B", BORA), world.patient("C", CHEN)
    world.wait(bora)
    world.wait(chen)
    first = world.visit(owner, 26)
    second = world.visit(owner, 50)
    world.cancel(first)
    world.engine.scan()
    world.replies(world.incoming(BORA, "Nie"))  # Bora passes; she was texted today (cap 1 a day)
    world.cancel(second)
    world.engine.scan()
    states = world.offers()
    assert (bora, "skipped", "cap-day") in states


def test_quiet_hours_hold_the_offer_until_the_window_opens(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    world.wait(world.patient("B", BORA))
    visit = world.visit(owner, 40)
    world.clock.advance(11 * 3600)  # 21:00 in Warsaw: outside the windows
    world.cancel(visit)
    assert world.engine.scan() == 0
    assert world.slots() == [("held", "")]
    world.clock.advance(12 * 3600)  # 09:00 the next morning
    assert world.engine.scan() == 1


def test_a_visit_booked_again_releases_its_held_slot(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    world.wait(world.patient("B", BORA))
    visit = world.visit(owner, 26)
    world.cancel(visit)
    world.repos.appointments.set_status(visit, "booked", "desk")
    assert world.slots() == [("released", "visit booked again")]
    assert world.engine.scan() == 0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (EntryInput(1, earliest=False, from_date="2026-13-01"), "from_date: not a date"),
        (EntryInput(1, earliest=False, from_time="25:00"), "from_time: not a time"),
        (EntryInput(1, earliest=False, from_time="12:00", to_time="09:00"), "to_time: not after from_time"),
        (EntryInput(1, earliest=False, from_date="2026-03-09", to_date="2026-03-01"), "to_date: before from_date"),
        (EntryInput(1, earliest=False, weekdays="17"), "weekdays"),
    ],
)
def test_a_bad_entry_is_refused_with_the_field_named_and_nothing_stored(
    world: World, entry: EntryInput, message: str
) -> None:
    world.patient("A", ANNA)
    with pytest.raises(ValidationError, match=message):
        world.repos.waitlist.add(entry, "desk")
    assert world.repos.waitlist.entries("t", include_closed=True) == []


def test_entries_are_audited_and_removed_entries_get_no_offer(world: World) -> None:
    owner = world.patient("Olga Owner", ANNA)
    bora = world.patient("B", BORA)
    entry = world.wait(bora)
    world.repos.waitlist.update(entry, EntryInput(bora, provider="Dr Nowak"), "desk")
    world.repos.waitlist.remove(entry, "desk")
    world.cancel(world.visit(owner, 26))
    world.engine.scan()
    assert world.outgoing() == []
    actions = [r[0] for r in world.store.query("SELECT action FROM audit_log WHERE object_type = 'waitlist'")]
    assert actions[:3] == ["waitlist-add", "waitlist-edit", "waitlist-remove"]
    with pytest.raises(ValidationError, match="removed already"):
        world.repos.waitlist.remove(entry, "desk")


def test_a_slot_booked_by_the_desk_before_the_offer_is_released_not_offered(world: World) -> None:
    from appliance.store.appointments import AppointmentInput

    owner = world.patient("Olga Owner", ANNA)
    world.wait(world.patient("B", BORA))
    visit = world.visit(owner, 26)
    world.cancel(visit)
    start = world.repos.appointments.get(visit, "t").starts_at
    world.repos.appointments.create(
        AppointmentInput(world.patient("Walk In", CHEN), start, duration_min=20, provider="Dr Nowak"), "desk"
    )
    assert world.engine.scan() == 0
    assert world.outgoing() == []
    assert world.slots() == [("released", "booked by the desk")]
