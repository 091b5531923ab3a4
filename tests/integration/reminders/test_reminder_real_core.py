"""The reminder line budget on the real core: real callers waiting in a real queue,
real reminder calls counted at the patients' phones.

The demo clinic runs its real core (``python -m appliance run``: the PJSUA2
switchboard, the reminder dispatcher, the SQLCipher store) with 6 lines,
``reminders.max_calls = 4`` and ``reserve_lines = 3``. Two patients call in
(SIPp), press 0 and wait in the front-desk queue (no agent is logged in).
Six visits are booked while they wait: their reminders are due at once, but
no patient's phone may ring while a caller waits. When the callers hang up,
the reminders go out, never more than 6 - 3 = 3 at once (the reserve binds
before max_calls does), and each patient's phone (one SIPp answering every
number on the provider's port) rings once.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.store.timefmt import from_db
from tests.integration.reminders.realcore import Phones, ReminderBox, reminder_overlay
from tests.integration.sip.peers import SippScenario, uac_xml
from tests.integration.switchboard.box import deep_update

LINES = 6
MAX_CALLS = 4
RESERVE = 3
PATIENTS = [f"+121255508{n:02d}" for n in range(1, 7)]
CALLERS = ["+12125550901", "+12125550902"]
#: How long each caller stays in the queue after pressing 0 (ms): long enough to see both
#: wait, book the visits and leave the dispatcher several ticks (interval_s = 1) to misbehave.
HOLD_MS = 14_000


def waiting(status: dict) -> int:
    return sum(len(q["waiting"]) for q in status["queues"])


@pytest.mark.slow
def test_no_reminder_call_while_callers_wait_and_never_into_the_reserved_lines(tmp_path: Path) -> None:
    overlay = deep_update(
        reminder_overlay(max_calls=MAX_CALLS, reserve_lines=RESERVE, max_attempts=1), {"sip": {"max_calls": LINES}}
    )
    box = ReminderBox(tmp_path / "clinic", overlay)
    phones: Phones | None = None
    callers: list[SippScenario] = []
    try:
        assert box.status()["capacity"]["allowed"] == LINES
        phones = Phones(tmp_path / "peers", box.pstn_port)
        for number in CALLERS:
            xml = uac_xml(caller=number, steps=[("pause", 500), ("dtmf", "0"), ("pause", HOLD_MS)])
            callers.append(
                SippScenario(
                    xml, tmp_path / "peers" / number[1:], target=f"127.0.0.1:{box.sip_port}", service="+12125550100"
                )
            )
        box.wait(lambda s: waiting(s) == len(CALLERS), timeout=15, what="both callers waiting in the queue")
        booked_at = time.time()
        box.book(PATIENTS)
        for caller in callers:
            result = caller.wait(timeout=HOLD_MS / 1000 + 15)
            assert result.successful == 1, result.log
        box.wait(lambda s: waiting(s) == 0, timeout=5, what="the queue to empty")
        ended = box.query("SELECT ended_at FROM calls WHERE direction = 'inbound' AND ended_at IS NOT NULL")
        deadline = time.monotonic() + 5
        while len(ended) < len(CALLERS) and time.monotonic() < deadline:  # the core's writer commits a moment later
            time.sleep(0.1)
            ended = box.query("SELECT ended_at FROM calls WHERE direction = 'inbound' AND ended_at IS NOT NULL")
        assert len(ended) == len(CALLERS), ended
        queue_empty_at = max(from_db(r[0]).timestamp() for r in ended)  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(r.status == "done" for r in box.reminders()):
            time.sleep(0.2)
        reminders = box.reminders()
        attempts = box.attempts()
        calls = phones.calls()
        rings = phones.by_number()
        most_at_once = phones.most_at_once()
    finally:
        for caller in callers:
            caller.close()
        if phones is not None:
            phones.stop()
        code = box.stop()
    log = box.tail(60)
    assert code == 0, log

    # The callers really waited while the reminders were due, for several dispatcher ticks.
    assert queue_empty_at - booked_at >= 5.0, (booked_at, queue_empty_at)
    # No patient's phone rang while a caller waited...
    assert calls, f"no reminder call reached the phones\n{log}"
    assert min(c.invited_at for c in calls) > queue_empty_at, (
        f"a reminder call rang {queue_empty_at - min(c.invited_at for c in calls):.1f} s before the queue emptied"
    )
    # ...and once it emptied, the reminders went out at once (a tick is 1 s).
    assert min(c.invited_at for c in calls) - queue_empty_at < 5.0
    # Every patient's phone rang exactly once, never more than 6 lines - 3 reserved at once
    # (max_calls = 4 would allow one more): the budget was reached, not just respected.
    assert {number: len(c) for number, c in rings.items()} == dict.fromkeys(PATIENTS, 1), rings
    assert most_at_once == LINES - RESERVE, [(c.number, c.invited_at, c.ended_at) for c in calls]
    # The store agrees: one attempt per reminder, none started before the queue emptied, each
    # ended on the answering-machine message (the phones press no key).
    assert [(r.number, r.channel, r.status, r.attempts, r.outcome) for r in reminders] == [
        (n, "voice", "done", 1, "voicemail") for n in PATIENTS
    ], log
    assert len(attempts) == len(PATIENTS)
    assert all(a.started_at is not None and a.started_at >= queue_empty_at - 0.001 for a in attempts), attempts
