"""A real trunk failure turns reminder calls into texts on the (simulated) GSM modem.

The demo clinic's real core runs with the simulated modem (an EC25 on a pty
inside the core) and its trunk pointing at SIPp, which plays the provider:
it answers the box's OPTIONS pings (``trunk.keepalive_interval_s = 1``) and
every call the box places, as the patients' phones. Then the provider stops
answering. The real trunk monitor must notice (three missed OPTIONS), the
failover must move outbound traffic to GSM, and the real reminder dispatcher
must then, for two patients who accept SMS (``reminder_channel = "both"``):

* A (its own text reminder is due too): send that text through the modem,
  once, and hold the call instead of dialing into the dead trunk;
* B (the front desk had stopped its text reminder, so only the call is due):
  text B instead of calling ("the trunk is down: texted instead of calling").

The simulated modem must have received both SMS PDUs (decoded there), the
store's SMS rows must be sent. When the provider answers again, A's held
call goes out on the trunk and A's phone rings once; B's phone never rings
and nobody gets a second text.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from appliance.reminders.service import read_status
from tests.integration.reminders.realcore import Phones, ReminderBox, reminder_overlay
from tests.integration.switchboard.box import deep_update

A, B = "+48601100301", "+48601100302"  # mobile numbers: they can take a text
CLINIC = "Riverside Community Clinic"


def sim(box: ReminderBox, **command: Any) -> dict[str, Any]:
    """A command to the core's simulated modem (appliance/modem/sim/control.py)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(box.dir / "run" / "modem-sim.sock"))
        s.sendall(json.dumps(command).encode() + b"\n")
        return json.loads(s.makefile().readline())  # type: ignore[no-any-return]


def wait_for(what: str, check: Any, timeout: float, box: ReminderBox) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{box.tail(60)}")


@pytest.mark.slow
def test_when_the_provider_stops_answering_reminders_go_out_as_sms_through_the_modem(tmp_path: Path) -> None:
    overlay = deep_update(
        reminder_overlay(max_attempts=1),
        {"modem": {"enabled": True}, "trunk": {"keepalive_interval_s": 1}},  # the demo box simulates its modem
    )
    peers = tmp_path / "peers"
    started: list[Phones] = []

    def provider_up(box: ReminderBox) -> None:
        started.append(Phones(peers, box.pstn_port))

    box: ReminderBox | None = None
    try:
        box = ReminderBox(tmp_path / "clinic", overlay, prepare=provider_up)
        box.wait(
            lambda s: (
                s["trunk"]["state"] == "up" and s["modem"].get("state") == "ready" and s["failover"]["route"] == "trunk"
            ),
            timeout=30,
            what="the trunk up (OPTIONS answered) and the simulated modem ready",
        )
        assert started[0].options_answered() > 0

        started[0].stop()  # the provider stops answering
        failed_at = time.time()
        down = box.wait(lambda s: s["failover"]["route"] == "gsm", timeout=30, what="the failover to GSM")
        assert down["trunk"]["state"] == "down" and "OPTIONS" in down["trunk"]["detail"], down["trunk"]

        # Two visits are booked (reminders paused meanwhile, so the front desk can stop B's text first).
        box.control.call("reminders.pause")
        wait_for("the dispatcher to pause", lambda: (read_status(box.dir / "run") or {}).get("paused"), 10, box)
        booked = box.book([A, B], channel="both")
        with box.store.transaction() as conn:
            conn.execute(
                "UPDATE reminders SET status = 'cancelled', outcome = 'stopped by the front desk'"
                " WHERE channel = 'sms' AND appointment_id = ?",
                (booked[B],),
            )
        box.control.call("reminders.resume")

        def texts_sent() -> list[dict[str, Any]] | None:
            sent = sim(box, cmd="sent")["sent"]
            rows = box.query("SELECT status FROM sms_messages WHERE direction = 'out'")
            done = len({s["number"] for s in sent}) == 2 and len(rows) == 2
            return sent if done and all(r[0] in ("sent", "delivered") for r in rows) else None

        sent = wait_for("both texts sent by the modem", texts_sent, 30, box)
        # The tick that texted B passed over A's call; give the dispatcher three more ticks
        # (interval_s = 1) with the trunk still down, in which A's call must stay held.
        time.sleep(3.0)
        assert box.status()["failover"]["route"] == "gsm"
        during_outage = box.attempts()

        restored = Phones(peers, box.pstn_port)  # the provider answers again
        started.append(restored)
        box.wait(lambda s: s["failover"]["route"] == "trunk", timeout=20, what="the trunk back")

        def a_called_back() -> bool:
            voice = [r for r in box.reminders() if r.number == A and r.channel == "voice"]
            return bool(voice) and voice[0].status == "done"

        wait_for("A's held reminder call after the trunk came back", a_called_back, 40, box)
        rings = restored.by_number()
        sent_after = sim(box, cmd="sent")["sent"]
        sms_rows = box.query(
            "SELECT number, status, reminder_attempt_id FROM sms_messages WHERE direction = 'out' ORDER BY id"
        )
        reminders = {(r.number, r.channel): r for r in box.reminders()}
        attempts = box.attempts()
    finally:
        for phones in started:
            phones.stop()
        code = box.stop() if box is not None else -1
    assert code == 0, box.tail()

    # The modem got one SMS PDU per patient, the reminder text (no reason for the visit in it).
    by_number: dict[str, str] = {}
    for part in sent_after:
        by_number[part["number"]] = by_number.get(part["number"], "") + part["text"]
    assert sorted(by_number) == [A, B], sent_after
    assert len(sent_after) == len(sent), "a second text went out"
    for text in by_number.values():
        assert CLINIC in text and "Reply 1 or YES" in text and "private" not in text, text
    assert sorted((r[0], r[1] in ("sent", "delivered")) for r in sms_rows) == [(A, True), (B, True)], sms_rows

    # While the trunk was down: both texts went out on the GSM route (B's instead of its call),
    # and no reminder call was attempted at all (A's call waited, neither was dialed into the dead trunk).
    assert sorted((a.channel, a.route) for a in during_outage) == [("sms", "gsm"), ("sms", "gsm")], during_outage
    assert all(a.started_at is not None and a.started_at > failed_at for a in during_outage)
    b_text = next(a for a in during_outage if reminders[(B, "voice")].id == a.reminder_id)
    assert b_text.detail == "the trunk is down: texted instead of calling", b_text
    assert reminders[(B, "voice")].status == "done" and reminders[(B, "voice")].outcome in ("sent", "delivered")
    assert reminders[(A, "sms")].status == "done" and reminders[(A, "sms")].outcome in ("sent", "delivered")

    # After the trunk came back: A's held call went out on it (A's phone rang once), B's never.
    assert {number: len(calls) for number, calls in rings.items()} == {A: 1}, rings
    calls = [a for a in attempts if a.channel == "voice"]
    assert [(a.route, a.outcome) for a in calls] == [("trunk", "voicemail")], attempts
    assert reminders[(A, "voice")].attempts == 1
