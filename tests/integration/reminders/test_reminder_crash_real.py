"""SIGKILL the real core at random moments of a reminder campaign, 22 times.

test_reminder_crash.py kills a process that runs the reminder service over
the shipped simulator; this one kills the whole core (``python -m appliance
run``: PJSUA2 switchboard, reminder dispatcher, SQLCipher store) while it
places real SIP calls, and starts it again each time on the same clinic
folder, as systemd would after a power cut. The patients' phones are one
SIPp answering every number on the provider's port; its message trace is
what the patients lived through. Kills land anywhere: during start-up and
recovery, while dialing, mid-call (the phone then never hears a BYE), or
after calls ended.

At the end, from the phones: no patient's phone rang twice for one reminder
except for a retry, which came at least the back-off (``retry_min`` = 1 min)
after the ring before, so never at once; no phone rang more than
``max_attempts`` times; every ring belongs to an attempt the store had
recorded; no phone rang after its reminder was finished. From the store: no
reminder is lost: each one ended (``done`` after a real call that reached
the phone, or ``failed`` with its attempts used up by crashes) or is still
correctly pending (its call was interrupted, attempts are left, and its
retry is set for the back-off after the interruption, inside its window);
none is stuck ``active`` or left with an open attempt; and reminders
interrupted early were tried again, after the back-off, during the kills.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from pathlib import Path

import pytest

from tests.integration.reminders.realcore import Phones, ReminderBox, reminder_overlay
from tests.integration.switchboard.box import deep_update

KILLS = 22
PATIENTS = [f"+121255507{n:02d}" for n in range(1, 31)]
MAX_ATTEMPTS = 2
BACKOFF_S = 60.0  # retry_min = 1
FINAL = ("done", "failed")


def kill_after(rng: random.Random) -> float:
    """Seconds from starting the core to killing it. The core is ready after ~1.5 s and
    dials at once; a reminder call lasts ~6 s. Mostly short runs (start-up, recovery,
    dialing, mid-call), one in three long enough for calls to end and the next to start."""
    return rng.uniform(7.0, 11.0) if rng.random() < 1 / 3 else rng.uniform(0.3, 4.0)


def quiet(box: ReminderBox) -> bool:
    """Nothing in flight and nothing due now: what is left waits for its back-off."""
    now = time.time()
    return all(a.state == "finished" for a in box.attempts()) and all(
        r.status in FINAL or (r.status == "pending" and (r.next_attempt_at or 0) > now) for r in box.reminders()
    )


@pytest.mark.slow
def test_sigkill_of_the_real_core_mid_campaign_never_rings_a_phone_twice_and_loses_no_reminder(
    tmp_path: Path,
) -> None:
    overlay = deep_update(
        reminder_overlay(max_calls=6, reserve_lines=1, max_attempts=MAX_ATTEMPTS, retry_min=1, retry_max_min=1),
        {"sip": {"max_calls": 8}},
    )
    rng = random.Random(int(os.environ.get("CRASH_SEED", "7")))
    phones: list[Phones] = []

    def prepare(box: ReminderBox) -> None:
        phones.append(Phones(tmp_path / "peers", box.pstn_port))
        box.book(PATIENTS)  # all due now: the core dials as soon as it is up

    kills = 0
    box: ReminderBox | None = None
    try:
        box = ReminderBox(tmp_path / "clinic", overlay, prepare=prepare)
        phone = phones[0]
        for _ in range(KILLS):
            time.sleep(kill_after(rng))
            box.sigkill()
            kills += 1
            box.start_process()
        box.wait(lambda s: True, timeout=30, what="the core to start after the last kill")
        # No more kills: let the campaign run until only back-offs are left.
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and not quiet(box):
            time.sleep(0.5)
        checked_at = time.time()
        reminders = box.reminders()
        attempts = box.attempts()
        calls = phone.calls()
    finally:
        for started in phones:
            started.stop()
        code = box.stop() if box is not None else -1
    log = box.log.read_text(errors="replace")
    assert code == 0, box.tail()
    assert kills == KILLS and log.count("core ready") > KILLS // 4, "too few restarts came up before their kill"
    crashed = log.find("Traceback")
    assert crashed < 0, log[max(0, crashed - 2000) : crashed + 3000]

    by_reminder = {r.number: r for r in reminders}
    assert sorted(by_reminder) == PATIENTS and all(r.channel == "voice" for r in reminders)
    attempts_of = {r.id: [a for a in attempts if a.reminder_id == r.id] for r in reminders}
    # Attempts that count (a call refused before dialing is recorded as "not placed" and not counted).
    counted = {rid: [a for a in made if not a.detail.startswith("not placed")] for rid, made in attempts_of.items()}
    rings: dict[str, list[float]] = {n: [] for n in PATIENTS}
    for call in calls:
        assert call.number in rings, f"a call to a number nobody booked: {call.number}"
        rings[call.number].append(call.invited_at)

    # What the patients lived through: a phone rings again only for a retry, after the back-off.
    for number, times in rings.items():
        reminder = by_reminder[number]
        made = counted[reminder.id]
        assert len(times) <= MAX_ATTEMPTS, f"{number} rang {len(times)} times"
        for earlier, later in itertools.pairwise(times):
            assert later - earlier >= BACKOFF_S - 0.5, f"{number} rang again {later - earlier:.1f} s after a ring"
        starts = sorted(a.started_at or 0.0 for a in made)
        for k, rang_at in enumerate(times):
            assert len([t for t in starts if t <= rang_at + 0.001]) > k, (
                f"{number}'s ring #{k + 1} has no attempt recorded before it",
                times,
                attempts_of[reminder.id],
            )
        if reminder.status in FINAL:
            finished = max(a.ended_at or 0.0 for a in made)
            assert all(t <= finished for t in times), f"{number} rang after its reminder was finished"

    # No reminder lost: each one ended or correctly waits for its retry; none stuck, nothing open.
    assert all(a.state == "finished" for a in attempts), [a for a in attempts if a.state != "finished"]
    counts = {"done": 0, "failed": 0, "pending": 0}
    for number, reminder in by_reminder.items():
        made = counted[reminder.id]
        outcomes = [a.outcome for a in made]
        assert made and reminder.attempts == len(made), (number, reminder, attempts_of[reminder.id])
        assert all(o == "interrupted" for o in outcomes[:-1]), (number, outcomes)  # only a crash made a retry
        assert reminder.status in counts, (number, reminder)
        counts[reminder.status] += 1
        if reminder.status == "done":
            # Finished by a real call that reached the phone: the answering-machine message.
            assert outcomes[-1] == "voicemail" == reminder.outcome and rings[number], (number, made)
        elif reminder.status == "failed":
            assert len(made) == MAX_ATTEMPTS and outcomes[-1] == "interrupted", (number, made)
        else:  # pending: interrupted, an attempt left, its retry set after the back-off, inside its window
            last = made[-1]
            assert len(made) < MAX_ATTEMPTS and last.outcome == reminder.outcome == "interrupted", (number, made)
            assert reminder.next_attempt_at is not None and last.ended_at is not None
            assert reminder.next_attempt_at >= last.ended_at + BACKOFF_S - 0.5, (number, reminder, last)
            assert checked_at < reminder.next_attempt_at < (reminder.expires_at or 0), (number, reminder)
    # Reminders interrupted early were tried again during the kills, never sooner than the back-off.
    retried = 0
    for reminder in reminders:
        made = counted[reminder.id]
        for first, second in itertools.pairwise(made):
            assert first.ended_at is not None and second.started_at is not None
            assert second.started_at - first.ended_at >= BACKOFF_S - 0.5, (reminder.number, made)
            retried += 1
    # The kills did land mid-call (calls whose end the phone never heard), and calls did finish too.
    cut = [c for c in calls if c.ended_at is None]
    assert cut, "no kill landed during a call"
    assert retried > 0, "no interrupted reminder was tried again"
    assert counts["done"] > 0, counts
