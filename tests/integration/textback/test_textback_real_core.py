"""Missed-call text-backs on the real core: SIPp callers hang up in the queue of the real
switchboard (the production PJSUA2 build), the texts leave through the modem simulator as
PDUs (AT+CMGS over a pty, decoded by the simulator), and the reply comes back through it.

Nobody is at the front desk, so every caller who presses 0 waits in the queue until they
hang up: an abandoned call, the commonest missed call.
"""

from __future__ import annotations

import time
from typing import Any

from appliance.config import load_config
from appliance.contact.keywords import answer
from appliance.textback import language_for, text
from tests.integration.modemsim import sent_to, sim, wait_for
from tests.integration.sip.peers.sipp import uac_xml

MOBILE = "+48601234567"
SECOND = "+48601234568"
OPTED_OUT = "+48601234569"
LANDLINE = "+48221234567"
STRANGER = "+48601000099"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def modem_box(box: Any, **overlay: Any) -> Any:
    windows = overlay.pop("windows", {day: ["00:00-24:00"] for day in DAYS})
    b = box(overlay={"modem": {"enabled": True}, "reminders": {"windows": windows}, **overlay}, stations={})
    b.wait(lambda s: s["modem"].get("state") == "ready", timeout=30, what="the simulated modem")
    return b


def hang_up_in_queue(sipp: Any, b: Any, caller: str, wait_s: float = 3.0) -> Any:
    """A SIPp caller presses 0 (the front desk), waits ``wait_s`` in the queue, hangs up."""
    return sipp(
        uac_xml(caller=caller, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", wait_s)]),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )


def trace(b: Any, number: str) -> list[tuple[str, str, str]]:
    return [
        (str(r[0]), str(r[1]), str(r[2]))
        for r in b.query(
            "SELECT t.kind, t.outcome, t.reason FROM contact_log t JOIN calls k ON k.id = t.call_id"
            " WHERE k.caller = ? ORDER BY t.id",
            (number,),
        )
    ]


def test_a_caller_who_hangs_up_in_the_queue_is_texted_and_a_yes_puts_them_on_the_callback_list(
    box: Any, sipp: Any
) -> None:
    b = modem_box(box)
    cfg = load_config(b.config)
    run = hang_up_in_queue(sipp, b, MOBILE)
    assert run.wait(40).successful == 1
    hung_up = time.monotonic()
    rec = b.call_record(lambda r: r.caller == MOBILE)
    assert rec.disposition == "abandoned"
    (body,) = wait_for("the text-back on the modem", lambda: sent_to(b, MOBILE), 60, b)
    took = time.monotonic() - hung_up
    assert took < 60, f"the text-back took {took:.1f} s"
    print(f"text-back on the modem {took:.1f} s after the caller hung up")
    assert body == text(cfg, language_for(cfg, None, rec.language))
    wait_for("the trace to say sent", lambda: trace(b, MOBILE) in ([("textback", "sent", "")],
             [("textback", "delivered", "")]), 15, b)  # fmt: skip
    (callback,) = b.rows("SELECT id, requested_at, place_at, source FROM callbacks WHERE number = ?", (MOBILE,))
    assert callback[3] == "abandoned"

    assert sim(b, cmd="sms", **{"from": MOBILE, "text": "Yes"})["ok"]  # the reply, as the network delivers it
    wait_for(
        "the reply to mark the callback",
        lambda: b.query("SELECT sms_yes_at FROM callbacks WHERE id = ? AND sms_yes_at IS NOT NULL", (callback[0],)),
        20,
        b,
    )
    (after,) = b.query("SELECT requested_at, place_at, status FROM callbacks WHERE number = ?", (MOBILE,))
    assert after == (callback[1], callback[2], "open")  # one entry, keeping the missed call's time
    (handled,) = b.rows("SELECT handled, handled_by FROM sms_messages WHERE direction = 'in' AND number = ?", (MOBILE,))
    assert handled == (1, "textback")
    time.sleep(12)  # another scan or two: nothing is sent twice
    assert len(sent_to(b, MOBILE)) == 1


def test_bad_input_on_the_real_core_nothing_sent_twice_nothing_lost(box: Any, sipp: Any) -> None:
    b = modem_box(box)
    cfg = load_config(b.config)
    # An opted-out number: STOP first, through the network.
    assert sim(b, cmd="sms", **{"from": OPTED_OUT, "text": "STOP"})["ok"]
    wait_for("the STOP confirmation", lambda: sent_to(b, OPTED_OUT), 30, b)
    assert sent_to(b, OPTED_OUT) == [answer("stop", cfg.clinic.default_language, cfg.clinic.name, _phone(cfg))]

    runs = [hang_up_in_queue(sipp, b, n) for n in ("anonymous", LANDLINE, OPTED_OUT, SECOND)]
    for run in runs:
        assert run.wait(40).successful == 1
    wait_for("the text-back to the mobile", lambda: sent_to(b, SECOND), 60, b)
    again = hang_up_in_queue(sipp, b, SECOND)  # a second missed call inside the period
    assert again.wait(40).successful == 1
    wait_for("both calls from the mobile decided", lambda: len(trace(b, SECOND)) == 2, 30, b)

    assert trace(b, "anonymous") == [("textback", "skipped", "withheld")]
    assert trace(b, LANDLINE) == [("textback", "skipped", "landline")]
    assert trace(b, OPTED_OUT) == [("textback", "skipped", "opted-out")]
    assert [t[1:] for t in trace(b, SECOND)][1] == ("skipped", "recent")
    # A reply from a number the box never texted: kept for the desk, no callback made from it.
    assert sim(b, cmd="sms", **{"from": STRANGER, "text": "Yes"})["ok"]
    (row,) = wait_for(
        "the stranger's message in the inbox",
        lambda: b.query(
            "SELECT handled, reply_reason FROM sms_messages WHERE direction = 'in' AND number = ?", (STRANGER,)
        ),
        20,
        b,
    )
    assert row[0] == 0
    assert b.query("SELECT count(*) FROM callbacks WHERE number = ?", (STRANGER,)) == [(0,)]
    time.sleep(12)
    # The demo clinic's own patients may get their reminders meanwhile (always open here): count
    # what went to this test's callers only.
    ours = {"anonymous", LANDLINE, OPTED_OUT, SECOND, STRANGER}
    by_number: dict[str, int] = {}
    for m in sim(b, cmd="sent")["sent"]:
        if m["number"] in ours:
            by_number[m["number"]] = by_number.get(m["number"], 0) + 1
    assert by_number == {OPTED_OUT: 1, SECOND: 1}  # the STOP confirmation and one text-back; nothing else


def test_in_quiet_hours_the_text_waits(box: Any, sipp: Any) -> None:
    b = modem_box(box, windows={day: [] for day in DAYS})  # never a contact window
    run = hang_up_in_queue(sipp, b, MOBILE)
    assert run.wait(40).successful == 1
    wait_for("the waiting line", lambda: trace(b, MOBILE) == [("textback", "waiting", "quiet-hours")], 30, b)
    time.sleep(12)
    assert sent_to(b, MOBILE) == []


def _phone(cfg: Any) -> str:
    from appliance.store.phones import display

    return display(cfg.clinic.phone_number, cfg.clinic.country) if cfg.clinic.phone_number else ""
