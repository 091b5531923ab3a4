"""Which unconfirmed SMS part a late +CMGS or a delivery report confirms
(a real SQLCipher store, the real SMS service; no modem needed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import FakeClock, SystemClock
from appliance.config import Config
from appliance.doctor import Context
from appliance.doctor import modem as checks
from appliance.errors import SmsUnconfirmedError
from appliance.events import EventBus
from appliance.modem.smsservice import SmsService
from appliance.modem.wire.pdu import StatusReport
from appliance.store import Store
from appliance.store.sms import SmsRepo
from tests.conftest import clinic_config

A, B = "+48601000001", "+48601000002"


def _sent_unconfirmed(repo: SmsRepo, number: str, clock: FakeClock) -> int:
    sms_id = repo.enqueue(number, "Wizyta jutro", 1, "gsm7")
    repo.mark_unconfirmed(sms_id, 0, "no answer to AT+CMGS")
    repo.mark_sent(sms_id)
    clock.advance(30)
    return sms_id


def _report(clock: FakeClock, ref: int, number: str, stamped_ago_s: float = 0) -> StatusReport:
    stamp = clock.now() - timedelta(seconds=stamped_ago_s)
    return StatusReport("+48790998250", ref, number, stamp, clock.now(), 0x00)


def test_a_late_cmgs_confirms_the_oldest_unconfirmed_part(store: Store, clock: FakeClock) -> None:
    repo = SmsRepo(store, clock)
    first, second = _sent_unconfirmed(repo, A, clock), _sent_unconfirmed(repo, B, clock)
    assert repo.confirm_late(12, timedelta(minutes=10)) == (first, 0, "sent")  # the modem answers in order
    assert repo.confirm_late(13, timedelta(minutes=10)) == (second, 0, "sent")
    assert repo.confirm_late(14, timedelta(minutes=10)) is None
    assert [repo.get(i).refs[0]["ref"] for i in (first, second)] == [12, 13]


def test_a_late_cmgs_after_the_window_confirms_nothing(store: Store, clock: FakeClock) -> None:
    repo = SmsRepo(store, clock)
    sms_id = _sent_unconfirmed(repo, A, clock)
    clock.advance(3600)
    assert repo.confirm_late(12, timedelta(minutes=10)) is None
    assert repo.get(sms_id).status == "unconfirmed"


def test_a_repeated_report_does_not_confirm_another_message(store: Store, clock: FakeClock, cfg: Config) -> None:
    repo = SmsRepo(store, clock)
    service = SmsService(repo, cfg.modem, clock, EventBus(), region="PL")
    done = repo.enqueue(A, "Wizyta jutro", 1, "gsm7")
    repo.record_part(done, 0, 7)
    repo.mark_sent(done)
    service.accept_report(_report(clock, 7, A))
    assert repo.get(done).status == "delivered"
    unsure = _sent_unconfirmed(repo, A, clock)
    service.accept_report(_report(clock, 7, A))  # the same report read again (its slot was not freed)
    assert repo.get(unsure).status == "unconfirmed" and repo.get(unsure).refs[0]["ref"] is None


def test_a_report_confirms_an_unconfirmed_part_only_if_it_was_sent_before_the_network_stamp(
    store: Store, clock: FakeClock, cfg: Config
) -> None:
    repo = SmsRepo(store, clock)
    service = SmsService(repo, cfg.modem, clock, EventBus(), region="PL")
    unsure = _sent_unconfirmed(repo, A, clock)
    service.accept_report(_report(clock, 9, A, stamped_ago_s=3600))  # about a text from an hour before
    assert repo.get(unsure).status == "unconfirmed"
    service.accept_report(_report(clock, 9, A, stamped_ago_s=20))
    record = repo.get(unsure)
    assert record.status == "delivered" and record.refs[0]["ref"] == 9


class SlowModem:
    """An SmsPort whose first send goes out but is never answered in time."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.next_ref = 40

    def send_pdu(self, part: Any) -> int:
        self.sent.append(part.hex)
        if len(self.sent) == 1:
            raise SmsUnconfirmedError("the modem did not answer AT+CMGS within 60 s")
        self.next_ref += 1
        return self.next_ref

    def delete_stored(self, index: int, storage: str = "") -> None:
        pass


def _first_send_unconfirmed(store: Store, clock: FakeClock, cfg: Config) -> tuple[SmsService, SlowModem, int, int]:
    """Two texts queued; the first goes to the modem and its answer never comes in time."""
    service = SmsService(SmsRepo(store, clock), cfg.modem, clock, EventBus(), region="PL")
    port = SlowModem()
    first = service.send_sms(A, "Wizyta jutro o 10:00")
    second = service.send_sms(B, "Wizyta jutro o 11:00")
    with pytest.raises(SmsUnconfirmedError):
        service.send_due(port)
    return service, port, first, second


def test_nothing_more_is_sent_while_the_modem_may_still_be_busy_with_an_unconfirmed_part(
    store: Store, clock: FakeClock, cfg: Config
) -> None:
    service, port, first, second = _first_send_unconfirmed(store, clock, cfg)
    repo = service.repo
    assert service.send_due(port) == 0 and len(port.sent) == 1  # its late answer would answer our next send
    assert service.seconds_until_due(30.0) > 1.0
    service.late_reference(40)  # the modem finished: the queue goes on at once
    assert repo.get(first).refs[0]["ref"] == 40
    assert service.send_due(port) == 1 and repo.get(second).status == "sent"


def test_without_a_late_answer_the_queue_goes_on_after_one_more_send_timeout(
    store: Store, clock: FakeClock, cfg: Config
) -> None:
    service, port, _, second = _first_send_unconfirmed(store, clock, cfg)
    clock.advance(cfg.modem.sms_timeout_s - 1)
    assert service.send_due(port) == 0
    clock.advance(2)
    assert service.send_due(port) == 1 and service.repo.get(second).status == "sent"


def test_doctor_warns_about_texts_the_modem_never_confirmed(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, simulate=True, modem={"enabled": True, "simulate": True})
    clock = SystemClock(assume_synced=True)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock)
    try:
        repo = SmsRepo(store, clock)
        ok_id = repo.enqueue(A, "Wizyta jutro", 1, "gsm7")
        repo.record_part(ok_id, 0, 3)
        repo.mark_sent(ok_id)
        assert checks.modem_sms(Context(cfg)).status == "OK"
        unsure = repo.enqueue(B, "Wizyta jutro", 1, "gsm7")
        repo.mark_unconfirmed(unsure, 0, "no answer to AT+CMGS")
        repo.mark_sent(unsure)
        result = checks.modem_sms(Context(cfg))
        assert result.status == "WARN" and "1 sent, 1 unconfirmed" in result.detail
        assert "not re-sent" in result.detail and B not in result.detail + result.fix  # no numbers in the output
    finally:
        store.close()
