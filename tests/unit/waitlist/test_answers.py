"""Answers to offers: the first clear yes books, a later yes is told it is taken, a no moves on;
bad input (unknown number, after the expiry, a taken slot, the same yes twice) books nothing twice."""

from __future__ import annotations

from appliance.store import reminders as reminder_rows
from appliance.waitlist import wording
from tests.unit.waitlist.conftest import World, make_world

ANNA, BORA, CHEN = "+48601000001", "+48601000002", "+48601000003"


def offered(world: World, *waiting: tuple[str, str, str]) -> tuple[int, list[int]]:
    """A visit of Olga's cancelled with ``waiting`` (name, phone, language) on the list, and scanned."""
    owner = world.patient("Olga Owner", ANNA)
    ids = []
    for name, phone, lang in waiting:
        pid = world.patient(name, phone, lang)
        world.wait(pid)
        ids.append(pid)
    visit = world.visit(owner, 26)
    world.cancel(visit, actor="sms")
    world.engine.scan()
    return visit, ids


def test_a_yes_books_plans_the_reminders_puts_it_on_the_worklist_and_audits(world: World) -> None:
    visit, (bora,) = offered(world, ("Bora", BORA, "es"))
    start = world.repos.appointments.get(visit, "t").starts_at
    assert world.replies(world.incoming(BORA, "Sí, gracias")) == "waitlist"
    [(starts_at, status, source)] = world.booked_for(bora)
    assert (status, source) == ("booked", "waitlist")
    assert starts_at == world.store.query("SELECT starts_at FROM appointments WHERE id = ?", (visit,))[0][0]
    new_id = int(world.store.query("SELECT id FROM appointments WHERE source = 'waitlist'")[0][0])
    assert (
        world.store.query("SELECT count(*) FROM reminders WHERE appointment_id = ? AND status = 'pending'", (new_id,))[
            0
        ][0]
        >= 1
    )
    assert [tuple(r) for r in world.store.query("SELECT action, appointment_id FROM worklist")] == [("book", new_id)]
    assert world.slots() == [("filled", "")]
    assert world.repos.waitlist.get(1, "t").state == "booked"
    assert world.outgoing()[-1] == (BORA, wording.answer_text(world.cfg, "booked", "es", start))
    actions = [r[0] for r in world.store.query("SELECT action FROM audit_log ORDER BY id")]
    assert {"waitlist-offered", "create", "waitlist-booked"} <= set(actions)
    answered = [e.data for e in world.events if e.kind == "waitlist.answered"]
    assert answered == [{"slot_id": 1, "offer_id": 1, "outcome": "booked", "appointment_id": new_id}]


def test_the_same_yes_twice_books_once(world: World) -> None:
    _, (bora,) = offered(world, ("Bora", BORA, "pl"))
    assert world.replies(world.incoming(BORA, "Tak")) == "waitlist"
    sent = len(world.outgoing())
    assert world.replies(world.incoming(BORA, "Tak")) == "waitlist"
    assert len(world.booked_for(bora)) == 1
    assert len(world.outgoing()) == sent  # no second confirmation either


def test_a_later_yes_is_told_the_slot_is_taken_and_stays_on_the_list(tmp_path: object, clock: object) -> None:
    world = make_world(tmp_path, clock, waitlist={"batch": 2})
    try:
        _, (bora, chen) = offered(world, ("Bora", BORA, "pl"), ("Chen", CHEN, "zh"))
        assert world.replies(world.incoming(BORA, "tak")) == "waitlist"
        assert world.replies(world.incoming(CHEN, "好的")) == "waitlist"
        assert len(world.booked_for(bora)) == 1 and world.booked_for(chen) == []
        assert world.outgoing()[-1] == (CHEN, wording.answer_text(world.cfg, "taken", "zh"))
        states = {e.patient_id: e.state for e in world.repos.waitlist.entries("t", include_closed=True)}
        assert states == {bora: "booked", chen: "waiting"}
    finally:
        world.store.close()


def test_a_no_moves_to_the_next_patient(world: World) -> None:
    _, (bora, chen) = offered(world, ("Bora", BORA, "tr"), ("Chen", CHEN, "en"))
    assert world.replies(world.incoming(BORA, "Hayır")) == "waitlist"
    assert world.woken == [1]
    assert world.engine.scan() == 1
    assert world.offers() == [(bora, "declined", ""), (chen, "offered", "")]
    assert world.outgoing()[1] == (BORA, wording.answer_text(world.cfg, "declined", "tr"))


def test_a_yes_after_the_expiry_books_nothing_and_is_told(world: World) -> None:
    _, (bora,) = offered(world, ("Bora", BORA, "en"))
    world.clock.advance(16 * 60)
    assert world.replies(world.incoming(BORA, "yes")) == "waitlist"
    assert world.booked_for(bora) == []
    assert world.outgoing()[-1] == (BORA, wording.answer_text(world.cfg, "expired", "en"))
    assert world.offers() == [(bora, "expired", "answered after the expiry")]
    assert world.repos.waitlist.get(1, "t").state == "waiting"


def test_a_yes_from_an_unknown_number_is_not_claimed_and_books_nothing(world: World) -> None:
    offered(world, ("Bora", BORA, "en"))
    assert world.replies(world.incoming("+48609999999", "yes")) is None
    assert world.store.query("SELECT count(*) FROM appointments WHERE source = 'waitlist'")[0][0] == 0
    assert world.slots() == [("held", "")]


def test_an_unclear_reply_stays_for_the_desk_with_its_reason(world: World) -> None:
    _, (bora,) = offered(world, ("Bora", BORA, "en"))
    message = world.incoming(BORA, "can I come at 3 instead?")
    assert world.replies(message) is None
    assert (
        world.store.query("SELECT reply_reason FROM sms_messages WHERE id = ?", (message.sms_id,))[0][0]
        == "waitlist-reply"
    )
    assert world.booked_for(bora) == []


def test_stop_is_left_to_the_contact_keywords(world: World) -> None:
    offered(world, ("Bora", BORA, "en"))
    assert world.replies(world.incoming(BORA, "STOP")) is None


def test_a_waitlist_reply_to_a_reminder_joins_the_list_in_each_language(world: World) -> None:
    for i, (lang, text) in enumerate(
        [("en", "Waitlist please"), ("es", "Lista de espera"), ("pl", "Lista oczekujących"),
         ("tr", "Bekleme listesine ekleyin"), ("ko", "대기자 명단"), ("zh", "候补")]
    ):  # fmt: skip
        phone = f"+4860100010{i}"
        pid = world.patient(f"P{i}", phone, lang)
        visit = world.visit(pid, 23)
        with world.store.transaction() as conn:  # the reminder SMS as the dispatcher leaves it
            rid = int(conn.execute("SELECT id FROM reminders WHERE appointment_id = ? LIMIT 1", (visit,)).fetchone()[0])
            attempt = reminder_rows.claim(conn, rid, "sms", "gsm", world.clock.now())
        assert attempt is not None
        world.sms.send_sms(phone, "reminder", reminder_attempt_id=attempt, patient_id=pid)
        assert world.replies(world.incoming(phone, text, pid)) == "waitlist", text
        assert world.outgoing()[-1] == (phone, wording.answer_text(world.cfg, "joined", lang))
    entries = world.repos.waitlist.entries("t")
    assert [(e.earliest, e.provider) for e in entries] == [(True, "Dr Nowak")] * 6


def test_a_waitlist_reply_from_a_number_with_no_reminder_is_left_for_the_desk(world: World) -> None:
    message = world.incoming("+48609999999", "waitlist")
    assert world.replies(message) is None
    assert (
        world.store.query("SELECT reply_reason FROM sms_messages WHERE id = ?", (message.sms_id,))[0][0]
        == "waitlist-request"
    )
    assert world.repos.waitlist.entries("t") == []


def test_a_slot_the_desk_booked_meanwhile_is_not_booked_twice(world: World) -> None:
    visit, (bora,) = offered(world, ("Bora", BORA, "en"))
    walk_in = world.patient("Walk In", "+48601000009")
    start = world.repos.appointments.get(visit, "t").starts_at
    from appliance.store.appointments import AppointmentInput

    world.repos.appointments.create(AppointmentInput(walk_in, start, duration_min=20, provider="Dr Nowak"), "desk")
    assert world.replies(world.incoming(BORA, "yes")) == "waitlist"
    assert world.booked_for(bora) == []
    assert world.outgoing()[-1] == (BORA, wording.answer_text(world.cfg, "taken", "en"))
    assert world.slots() == [("released", "booked by the desk")]
    assert world.repos.waitlist.get(1, "t").state == "waiting"
