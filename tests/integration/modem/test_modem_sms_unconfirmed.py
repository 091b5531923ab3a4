"""A part whose +CMGS never came in time may have reached the network: it is
marked unconfirmed and never re-sent by itself, so no patient gets a text
twice. A late +CMGS or a delivery report to that number confirms it."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.integration.modem.conftest import Rig, wait_until

#: the shortest AT+CMGS timeout the config allows; the late answers come after it
SLOW = {"sms_timeout_s": 5}
PL_LONG = "Przypomnienie: wizyta u dr. Wiśniewskiej jutro o 10:30. Odpowiedz TAK, aby potwierdzić, lub NIE. " * 2


def _part_status(rig: Rig, sms_id: int, part: int = 0) -> str | None:
    refs = rig.sms(sms_id).refs
    return refs[part]["status"] if part < len(refs) and refs[part] else None


def test_a_late_cmgs_confirms_the_part_and_nothing_is_sent_twice(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(delivery_reports=False, **SLOW)
    rig.modem.answer_sms_late(7.0)
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    wait_until(lambda: _part_status(rig, sms_id) == "unconfirmed", 8, "the part to be unconfirmed")
    rig.events.wait("modem.sms.status", timeout=6, sms_id=sms_id, status="sent")
    record = rig.sms(sms_id)
    assert record.refs[0]["ref"] == rig.modem.sent[0].mr and record.status == "sent"
    assert record.error == ""
    time.sleep(2.5)  # longer than the retry backoff (1-2 s): a retry would have gone by now
    assert len(rig.modem.sent) == 1


def test_no_answer_at_all_leaves_it_unconfirmed_and_never_resent(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(delivery_reports=False, **SLOW)
    rig.modem.answer_sms_late(None)
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", timeout=12, sms_id=sms_id, status="unconfirmed")
    record = rig.sms(sms_id)
    assert record.status == "unconfirmed" and "never confirmed" in record.error
    assert record.refs[0]["ref"] is None
    time.sleep(2.5)
    assert len(rig.modem.sent) == 1 and rig.sms(sms_id).status == "unconfirmed"


def test_a_delivery_report_confirms_a_part_whose_cmgs_never_came(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(**SLOW)
    rig.modem.answer_sms_late(None)
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro o 10:00")
    rig.events.wait("modem.sms.status", timeout=12, sms_id=sms_id, status="delivered")
    record = rig.sms(sms_id)
    assert record.refs[0]["ref"] == rig.modem.sent[0].mr and record.refs[0]["status"] == "delivered"
    assert len(rig.modem.sent) == 1


def test_the_other_parts_of_a_long_text_still_go_once_each(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(delivery_reports=False, **SLOW)
    rig.modem.answer_sms_late(0.0, None)  # part 1 answered, part 2 never
    sms_id = rig.svc.send_sms("+48601234567", PL_LONG)
    rig.events.wait("modem.sms.status", timeout=15, sms_id=sms_id, status="unconfirmed")
    record = rig.sms(sms_id)
    assert [r["status"] for r in record.refs] == ["sent", "unconfirmed", "sent"]
    time.sleep(2.5)
    assert sorted(s.concat[2] for s in rig.modem.sent if s.concat) == [1, 2, 3]


def test_a_modem_busy_with_a_late_send_is_left_alone_until_it_answers(make_rig: Callable[..., Rig]) -> None:
    """The late +CMGS must confirm the part it belongs to, not answer the next part's AT+CMGS."""
    rig = make_rig(delivery_reports=False, **SLOW)
    rig.modem.answer_sms_late(0.0, 7.0)  # part 2's answer comes 2 s after the box gave up on it
    sms_id = rig.svc.send_sms("+48601234567", PL_LONG)
    rig.events.wait("modem.sms.status", timeout=15, sms_id=sms_id, status="sent")
    record = rig.sms(sms_id)
    sent = rig.modem.sent
    assert sorted(s.concat[2] for s in sent if s.concat) == [1, 2, 3]  # each part once
    by_seq = {s.concat[2]: s.mr for s in sent if s.concat}
    assert [r["ref"] for r in record.refs] == [by_seq[1], by_seq[2], by_seq[3]]  # each its own reference
    assert [r["status"] for r in record.refs] == ["sent"] * 3
