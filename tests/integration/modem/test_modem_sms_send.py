"""Sending SMS through the service, the simulator on a pty and a real SQLCipher store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from appliance.errors import ValidationError
from appliance.modem.wire.pdu import clean_text
from appliance.store.timefmt import from_db
from tests.integration.modem.conftest import Rig, wait_until

PL_LONG = "Przypomnienie: wizyta u dr. Wiśniewskiej jutro o 10:30. Odpowiedz TAK, aby potwierdzić, lub NIE. " * 2


def test_multipart_unicode_sms_is_sent_and_delivered(rig: Rig) -> None:
    sms_id = rig.svc.send_sms("+48601234567", PL_LONG)
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="delivered")
    record = rig.sms(sms_id)
    assert (record.status, record.encoding, record.parts) == ("delivered", "ucs2", 3)
    assert [r["status"] for r in record.refs] == ["delivered"] * 3
    assert record.delivered_at is not None and record.sent_at is not None
    sent = rig.modem.sent
    assert [s.concat for s in sent] == [(sms_id & 0xFF, 3, i) for i in (1, 2, 3)]
    assert clean_text("".join(s.text for s in sent)) == PL_LONG
    assert all(s.status_report for s in sent)
    assert [r["ref"] for r in record.refs] == [s.mr for s in sent]


def test_national_number_is_sent_in_e164(rig: Rig) -> None:
    sms_id = rig.svc.send_sms("601 234 567", "Dzień dobry")  # the clinic is in Poland
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    assert rig.modem.sent[0].number == "+48601234567"
    assert rig.sms(sms_id).number == "+48601234567"


def test_undeliverable_report_marks_the_sms_failed(rig: Rig) -> None:
    rig.modem.state.report_status["+48601234999"] = 0x41  # incompatible destination
    sms_id = rig.svc.send_sms("+48601234999", "Wizyta jutro")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="failed")
    record = rig.sms(sms_id)
    assert record.status == "failed" and "0x41" in record.error


def test_report_that_the_network_is_still_trying_keeps_it_sent(rig: Rig) -> None:
    rig.modem.state.report_status["+48601234888"] = 0x30
    sms_id = rig.svc.send_sms("+48601234888", "x")
    wait_until(
        lambda: rig.sms(sms_id).refs[0] and rig.sms(sms_id).refs[0]["status"] == "pending", what="pending report"
    )
    assert rig.sms(sms_id).status == "sent"


def test_permanent_error_fails_at_once_without_retry(rig: Rig) -> None:
    rig.modem.fail_next_sms(28)  # unidentified subscriber
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="failed")
    record = rig.sms(sms_id)
    assert record.attempts == 1 and "CMS ERROR: 28" in record.error
    assert rig.modem.sent == []


def test_retry_sends_only_the_parts_the_network_never_took(rig: Rig) -> None:
    rig.modem.fail_next_sms(500, after=1)  # part 1 goes, part 2 fails once
    sms_id = rig.svc.send_sms("+48601234567", PL_LONG)
    wait_until(lambda: rig.sms(sms_id).attempts == 1, what="the failed attempt")
    record = rig.sms(sms_id)
    assert record.status == "sending" and record.refs[0] is not None and record.refs[1] is None
    assert "500" in record.error
    rig.events.wait("modem.sms.status", timeout=8, sms_id=sms_id, status="sent")
    seqs = [s.concat[2] for s in rig.modem.sent if s.concat]
    assert sorted(seqs) == [1, 2, 3]  # each part exactly once: nobody gets it twice


def test_gives_up_after_the_configured_attempts(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(sms_max_attempts=2)
    rig.modem.fail_next_sms(500, count=5)
    sms_id = rig.svc.send_sms("+48601234567", "x")
    rig.events.wait("modem.sms.status", timeout=8, sms_id=sms_id, status="failed")
    assert rig.sms(sms_id).attempts == 2


def test_rate_limit_defers_instead_of_sending(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(sms_per_minute=2)
    ids = [rig.svc.send_sms("+48601234567", f"message {i}") for i in range(3)]
    wait_until(lambda: len(rig.modem.sent) == 2, what="two sends")
    third = wait_until(lambda: rig.sms(ids[2]).next_attempt_at != rig.sms(ids[2]).created_at and rig.sms(ids[2]))
    assert len(rig.modem.sent) == 2 and third.status == "queued"
    assert from_db(third.next_attempt_at) > datetime.now(UTC) + timedelta(seconds=50)


def test_queue_survives_a_restart_and_waits_for_the_network(make_rig: Callable[..., Rig]) -> None:
    first = make_rig()
    first.modem.set_network(False)
    wait_until(lambda: first.svc.status.state == "searching", what="lost network")
    sms_id = first.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    first.svc.stop()
    assert first.sms(sms_id).status == "queued" and first.modem.sent == []
    second = make_rig(cfg=first.cfg)
    second.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    assert second.modem.sent[0].text == "Wizyta jutro o 10:00"


@pytest.mark.parametrize(("number", "text"), [("12ab", "x"), ("+48601234567", ""), ("", "x")])
def test_bad_input_is_refused_and_nothing_is_queued(rig: Rig, number: str, text: str) -> None:
    with pytest.raises(ValidationError):
        rig.svc.send_sms(number, text)
    assert rig.svc.sms is not None and rig.svc.sms.repo.recent(direction="out") == []
