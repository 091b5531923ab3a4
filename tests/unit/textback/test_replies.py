"""Replies to a text-back, and STOP/START/HELP from anyone, on the real store."""

from __future__ import annotations

from appliance.contact.keywords import answer
from appliance.store import contacts
from appliance.store.patient_input import PatientInput
from tests.unit.textback.conftest import World

MOBILE = "+48601234567"


def callbacks(world: World) -> list[tuple[object, ...]]:
    return [tuple(r) for r in world.store.query(
        "SELECT number, source, status, requested_at, place_at, sms_yes_at IS NOT NULL FROM callbacks ORDER BY id"
    )]  # fmt: skip


def texted(world: World, number: str = MOBILE, **missed: object) -> int:
    cid = world.missed(number, **missed)  # type: ignore[arg-type]
    assert world.texts.scan() == 1
    return cid


def test_a_yes_marks_the_open_callback_as_asked_by_sms(world: World) -> None:
    texted(world)
    before = callbacks(world)
    assert world.replies(world.incoming(MOBILE, "Tak, proszę")) == "textback"
    (after,) = callbacks(world)
    assert after[:5] == before[0][:5] and after[5] == 1  # same entry, same time, now asked by SMS
    assert [e.kind for e in world.events] == ["callback.new"]


def test_a_yes_after_staff_closed_the_entry_opens_one_keeping_the_calls_time(world: World) -> None:
    cid = texted(world)
    with world.store.transaction() as conn:
        conn.execute("UPDATE callbacks SET status = 'done', outcome = 'not-needed'")
    started = world.store.query("SELECT started_at FROM calls WHERE id = ?", (cid,))[0][0]
    world.clock.advance(600)
    assert world.replies(world.incoming(MOBILE, "Yes")) == "textback"
    rows = callbacks(world)
    assert len(rows) == 2
    assert rows[1] == (MOBILE, "abandoned", "open", started, started, 1)
    assert ("textback-yes", "delivered") in [(k, o) for k, o, _ in world.trace(cid)]


def test_a_question_stays_for_the_desk_with_its_reason(world: World) -> None:
    texted(world)
    message = world.incoming(MOBILE, "What time do you open tomorrow?")
    assert world.replies(message) is None
    assert world.store.query("SELECT reply_reason FROM sms_messages WHERE id = ?", (message.sms_id,))[0][0] == (
        "textback-reply"
    )
    assert all(r[5] == 0 for r in callbacks(world))


def test_a_reply_from_a_number_never_texted_is_not_a_text_back_reply(world: World) -> None:
    texted(world)
    before = callbacks(world)
    message = world.incoming("+48601000999", "Yes")
    assert world.replies(message) is None
    assert callbacks(world) == before  # nothing created, nothing lost: the message stays in the inbox
    assert world.store.query("SELECT handled FROM sms_messages WHERE id = ?", (message.sms_id,))[0][0] == 0


def test_stop_from_an_unknown_number_is_confirmed_once_and_honoured(world: World) -> None:
    assert world.keywords(world.incoming(MOBILE, "Stop")) == "contact"
    assert world.keywords(world.incoming(MOBILE, "STOP")) == "contact"
    confirmation = answer("stop", "pl", "Test Clinic")
    assert world.outgoing() == [(MOBILE, confirmation)]  # once
    with world.store.transaction() as conn:
        assert contacts.opted_out(conn, None, MOBILE)
    assert world.keywords(world.incoming(MOBILE, "START")) == "contact"
    with world.store.transaction() as conn:
        assert not contacts.opted_out(conn, None, MOBILE)
    assert world.outgoing()[-1] == (MOBILE, answer("start", "pl", "Test Clinic"))


def test_stop_from_a_patient_opts_them_out_and_writes_their_consent_record(world: World) -> None:
    pid = world.repos.patients.create(PatientInput(name="Mehmet Yılmaz", phones=[MOBILE], language="tr"), "t")
    assert world.keywords(world.incoming(MOBILE, "DUR", patient_id=pid)) == "contact"
    assert world.repos.patients.get(pid, "t").opted_out_at is not None
    assert world.outgoing() == [(MOBILE, answer("stop", "tr", "Test Clinic"))]
    with world.store.transaction() as conn:
        (event,) = contacts.history(conn, pid)
    assert (event.action, event.via, event.actor) == ("opt-out", "sms", "patient")


def test_help_is_answered_even_after_stop(world: World) -> None:
    world.keywords(world.incoming(MOBILE, "退订"))
    world.keywords(world.incoming(MOBILE, "help"))
    assert len(world.outgoing()) == 2
    assert "STOP" in world.outgoing()[1][1]


def test_a_sentence_with_stop_in_it_is_not_a_keyword(world: World) -> None:
    assert world.keywords(world.incoming(MOBILE, "please don't stop the reminders")) is None
    assert world.outgoing() == []
