"""The sms_messages repository on a real SQLCipher file: the queue's bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.clock import FakeClock
from appliance.errors import NotFoundError
from appliance.store import Store
from appliance.store.patient_input import PatientInput
from appliance.store.repos import Repos
from appliance.store.sms import SmsRepo, same_number


@pytest.fixture
def repo(store: Store, clock: FakeClock) -> SmsRepo:
    return SmsRepo(store, clock)


def test_enqueue_then_parts_then_sent_then_delivered(repo: SmsRepo, clock: FakeClock) -> None:
    sms_id = repo.enqueue("+48601234567", "a" * 200, 2, "gsm7")
    assert [r.id for r in repo.due()] == [sms_id]
    assert repo.get(sms_id).unsent_parts == [0, 1]
    repo.record_part(sms_id, 0, 17)
    record = repo.get(sms_id)
    assert record.status == "sending" and record.unsent_parts == [1] and record.refs[0]["ref"] == 17
    repo.record_part(sms_id, 1, 18)
    repo.mark_sent(sms_id)
    assert repo.due() == [] and repo.get(sms_id).status == "sent"
    assert repo.find_by_ref(18, "48601234567") == (sms_id, 1)  # the report's number lacks the +
    assert repo.record_delivery(sms_id, 1, "delivered") == "sent"  # one part still out
    assert repo.record_delivery(sms_id, 0, "delivered") == "delivered"
    assert repo.get(sms_id).delivered_at is not None
    assert repo.find_by_ref(18, "+48601234567") is None  # a repeated report finds nothing to change


def test_a_failed_part_fails_the_message(repo: SmsRepo) -> None:
    sms_id = repo.enqueue("+48601234567", "x", 1, "gsm7")
    repo.record_part(sms_id, 0, 5)
    repo.mark_sent(sms_id)
    assert repo.record_delivery(sms_id, 0, "failed", "network status 0x41") == "failed"
    assert repo.get(sms_id).error == "network status 0x41"


def test_reports_match_the_latest_message_to_that_number(repo: SmsRepo, clock: FakeClock) -> None:
    old = repo.enqueue("+48601234567", "old", 1, "gsm7")
    repo.record_part(old, 0, 9)
    repo.mark_sent(old)
    clock.advance(3600)
    new = repo.enqueue("+48601234567", "new", 1, "gsm7")  # reference 9 again after wrapping
    repo.record_part(new, 0, 9)
    other = repo.enqueue("+905321234567", "other", 1, "gsm7")
    repo.record_part(other, 0, 9)
    assert repo.find_by_ref(9, "601234567") == (new, 0)
    assert repo.find_by_ref(9, "+905321234567") == (other, 0)
    clock.advance(4 * 86400)
    assert repo.find_by_ref(9, "+905321234567") is None  # too old to be that message


def test_retry_defer_and_failure_bookkeeping(repo: SmsRepo, clock: FakeClock) -> None:
    sms_id = repo.enqueue("+48601234567", "x", 1, "gsm7")
    repo.schedule_retry(sms_id, 1, clock.now() + timedelta(seconds=30), "+CMS ERROR: 500")
    assert repo.due() == []
    clock.advance(31)
    assert [r.attempts for r in repo.due()] == [1]
    repo.defer(sms_id, clock.now() + timedelta(seconds=60))
    assert repo.due() == [] and repo.next_due_at() is not None
    repo.mark_failed(sms_id, 2, "gave up")
    assert repo.get(sms_id).status == "failed" and repo.next_due_at() is None


def test_patient_comes_from_the_reminder_attempt(repo: SmsRepo, repos: Repos, store: Store) -> None:
    pid = repos.patients.create(PatientInput(name="Ayşe Yılmaz", phones=["+905321234567"], language="tr"), "test")
    with store.transaction() as db:
        db.execute(
            "INSERT INTO appointments(import_key, patient_id, starts_at, ends_at, created_at, updated_at)"
            " VALUES ('a1', ?, '2026-03-03T09:00:00.000Z', '2026-03-03T09:30:00.000Z', 'x', 'x')",
            (pid,),
        )
        db.execute(
            "INSERT INTO reminders(appointment_id, offset_minutes, channel, due_at, expires_at, next_attempt_at,"
            " updated_at) VALUES (1, 1440, 'sms', 'x', 'x', 'x', 'x')"
        )
        db.execute(
            "INSERT INTO reminder_attempts(reminder_id, channel, route, started_at) VALUES (1, 'sms', 'gsm', 'x')"
        )
    sms_id = repo.enqueue("+905321234567", "Randevu yarın", 1, "ucs2", reminder_attempt_id=1)
    record = repo.get(sms_id)
    assert record.patient_id == pid and record.reminder_attempt_id == 1
    assert repo.patient_for_number("+905321234567") == pid
    assert repo.patient_for_number("+905329999999") is None


def test_incoming_is_stored_once_and_can_be_updated_and_handled(repo: SmsRepo, clock: FakeClock) -> None:
    sent_at = clock.now() - timedelta(minutes=1)
    first, created = repo.insert_incoming("+48601234567", "TAK", 1, "gsm7", "received", sent_at, None)
    again, created_again = repo.insert_incoming("+48601234567", "TAK", 1, "gsm7", "received", sent_at, None)
    assert created and not created_again and again == first
    later, created_later = repo.insert_incoming("+48601234567", "TAK", 1, "gsm7", "received", clock.now(), None)
    assert created_later and later != first  # the same word sent again later is a new message
    repo.update_incoming(later, "TAK!", "received")
    repo.mark_handled(first, "reminders")
    assert [r.id for r in repo.unhandled_incoming()] == [later]
    assert [r.id for r in repo.recent(direction="in", status="received")] == [later, first]


def test_unknown_message_is_a_clear_error(repo: SmsRepo) -> None:
    with pytest.raises(NotFoundError, match="no SMS with id 99"):
        repo.get(99)
    with pytest.raises(NotFoundError):
        repo.record_part(99, 0, 1)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("+48601234567", "48601234567", True),
        ("+48601234567", "601234567", True),
        ("+48601234567", "+48601234568", False),
        ("", "1", False),
    ],
)
def test_same_number(a: str, b: str, same: bool) -> None:
    assert same_number(a, b) is same
