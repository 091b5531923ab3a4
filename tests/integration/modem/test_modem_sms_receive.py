"""Receiving SMS: stored, reassembled, offered to hooks, deleted from the SIM only once safe."""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.modem.sim.state import StoredSms
from appliance.modem.smsservice import IncomingSms
from appliance.modem.wire.concat import GAP
from appliance.store.patient_input import PatientInput
from tests.conftest import repos_with_planner
from tests.integration.modem.conftest import Rig, wait_until

KO = "안녕하세요. 내일 오전 10시 예약 확인합니다. 감사합니다! " * 4
STAMP = datetime(2026, 3, 2, 8, 59, 30, tzinfo=UTC)


def sim_slots(rig: Rig) -> int:
    return len(rig.modem.state.store("SM"))


def test_single_sms_is_stored_with_its_patient_and_leaves_the_sim(rig: Rig) -> None:
    repos = repos_with_planner(rig.cfg, rig.store)
    patient_id = repos.patients.create(
        PatientInput(family_name="Nowak", given_name="Anna", phones=["601 234 567"], language="pl"), "test"
    )
    rig.modem.inject_sms("+48601234567", "TAK")
    event = rig.events.wait("modem.sms.received")
    record = rig.sms(event["sms_id"])
    assert (record.direction, record.number, record.body, record.status) == ("in", "+48601234567", "TAK", "received")
    assert record.patient_id == patient_id and event["partial"] is False
    wait_until(lambda: sim_slots(rig) == 0, what="the SIM slot to be freed")


def test_multipart_out_of_order_with_a_duplicate_becomes_one_message(rig: Rig) -> None:
    rig.modem.inject_sms("+821012345678", KO, order=[3, 1, 2], duplicate=[2])
    event = rig.events.wait("modem.sms.received")
    record = rig.sms(event["sms_id"])
    assert (record.body, record.parts, record.encoding, record.status) == (KO, 3, "ucs2", "received")
    wait_until(lambda: sim_slots(rig) == 0, what="all four slots to be freed")
    assert len(rig.events.of("modem.sms.received")) == 1


def test_missing_part_is_stored_partial_and_completed_when_it_turns_up(rig: Rig) -> None:
    rig.modem.inject_sms("+821012345678", KO, ref=77, drop=[2], sent_at=STAMP)
    first = rig.events.wait("modem.sms.received", timeout=6, partial=True)
    partial = rig.sms(first["sms_id"])
    assert partial.status == "partial" and GAP.strip() in partial.body
    assert partial.body.startswith(KO[:30])
    rig.modem.inject_sms("+821012345678", KO, ref=77, only=[2], sent_at=STAMP)
    rig.events.wait("modem.sms.received", sms_id=first["sms_id"], partial=False)
    complete = rig.sms(first["sms_id"])
    assert (complete.status, complete.body) == ("received", KO)
    wait_until(lambda: sim_slots(rig) == 0, what="the SIM to be emptied")


def test_hooks_claim_reply_words_and_leave_the_rest_for_staff(rig: Rig) -> None:
    seen: list[IncomingSms] = []

    def reminders(sms: IncomingSms) -> str | None:
        seen.append(sms)
        return "reminders" if sms.text.strip().upper() in ("TAK", "NIE") else None

    rig.svc.on_incoming(reminders)
    rig.modem.inject_sms("+48601234567", "Tak")
    claimed = rig.events.wait("modem.sms.received")
    wait_until(lambda: rig.sms(claimed["sms_id"]).handled, what="the hook to claim it")
    assert rig.sms(claimed["sms_id"]).handled_by == "reminders"
    rig.modem.inject_sms("+48601234567", "Czy mogę przyjść w piątek?")
    wait_until(lambda: len(seen) == 2, what="the second message")
    other = rig.sms(seen[1].sms_id)
    assert other.handled is False
    assert rig.svc.sms is not None
    assert [r.id for r in rig.svc.sms.repo.unhandled_incoming()] == [other.id]


def test_a_failing_hook_does_not_lose_the_message(rig: Rig) -> None:
    def broken(sms: IncomingSms) -> bool:
        raise RuntimeError("bug in a hook")

    rig.svc.on_incoming(broken)
    rig.modem.inject_sms("+48601234567", "NIE")
    event = rig.events.wait("modem.sms.received")
    assert rig.sms(event["sms_id"]).body == "NIE"


def test_messages_wait_on_the_sim_while_the_store_is_locked(rig: Rig) -> None:
    rig.store.lock()
    rig.modem.inject_sms("+48601234567", "Proszę o telefon")
    wait_until(lambda: sim_slots(rig) == 1, what="the SMS on the SIM")
    assert rig.events.of("modem.sms.received") == []
    rig.store.unlock("")
    rig.bus.emit("store.unlocked")
    event = rig.events.wait("modem.sms.received")
    assert rig.sms(event["sms_id"]).body == "Proszę o telefon"
    wait_until(lambda: sim_slots(rig) == 0, what="the SIM to be emptied")


def test_messages_that_arrived_while_the_box_was_off_are_read_at_start(make_rig) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(start=False)
    rig.sim.start()
    rig.modem.state.cnmi = (2, 1, 0, 1, 0)
    wait_until(lambda: rig.modem.state.reg_stat == 1, what="registration")
    rig.modem.inject_sms("+48601234567", "Przyszłam wcześniej")
    rig.start()
    event = rig.events.wait("modem.sms.received")
    assert rig.sms(event["sms_id"]).body == "Przyszłam wcześniej"


def test_an_undecodable_pdu_is_kept_for_staff(rig: Rig) -> None:
    with rig.modem._lock:
        rig.modem.state.store("SM")[5] = StoredSms(0, "0004FF", 2)
        rig.modem.emit('+CMTI: "SM",5')
    event = rig.events.wait("modem.sms.received")
    record = rig.sms(event["sms_id"])
    assert record.body.startswith("[undecodable SMS:") and "0004FF" in record.body
    wait_until(lambda: sim_slots(rig) == 0, what="the slot to be freed")


def test_a_message_read_twice_is_stored_once(rig: Rig) -> None:
    """A crash between storing and deleting leaves it on the SIM: reading it again must not duplicate it."""
    rig.modem.inject_sms("+48601234567", "Dziękuję", sent_at=STAMP)
    rig.events.wait("modem.sms.received")
    rig.modem.inject_sms("+48601234567", "Dziękuję", sent_at=STAMP)
    wait_until(lambda: sim_slots(rig) == 0, what="the copy to be removed")
    assert rig.svc.sms is not None
    assert len(rig.svc.sms.repo.recent(direction="in")) == 1
