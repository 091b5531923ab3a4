"""Realistic activity for a demo clinic's store: calls, callbacks, voicemail
with encrypted audio, reminders and their attempts. Used by the web UI's
tests and screenshots (the demo seeder makes patients and appointments only).
"""

from __future__ import annotations

import io
import json
import math
import random
import struct
import wave
from datetime import datetime, timedelta

from appliance.store.repos import Repos
from appliance.store.timefmt import to_db


def tone_wav(seconds: float = 1.0, rate: int = 8000, freq: float = 440.0) -> bytes:
    """A short 16-bit mono WAV (a voicemail stand-in)."""
    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    return out.getvalue()


def patient_numbers(repos: Repos) -> list[tuple[int, str]]:
    return [
        (int(r[0]), str(r[1]))
        for r in repos.store.query(
            "SELECT patient_id, e164 FROM patient_phones WHERE is_primary = 1 ORDER BY patient_id"
        )
    ]


def add_calls(repos: Repos, now: datetime, days: int = 28, per_day: int = 12, seed: int = 7) -> int:
    """Inbound calls over the last ``days``: mostly answered, some abandoned."""
    rng = random.Random(seed)
    numbers = patient_numbers(repos)
    rows = []
    n = 0
    for day in range(days):
        for _ in range(per_day):
            n += 1
            start = now - timedelta(days=day, hours=rng.uniform(0, 9), minutes=rng.uniform(0, 59))
            pid, number = rng.choice(numbers)
            queued = start + timedelta(seconds=rng.uniform(10, 40))
            wait = rng.expovariate(1 / 25)
            if rng.random() < 0.12:
                answered, ended, disposition, agent = None, queued + timedelta(seconds=wait), "abandoned", None
            else:
                answered = queued + timedelta(seconds=wait)
                ended = answered + timedelta(seconds=rng.uniform(60, 400))
                disposition, agent = "answered", rng.choice(["desk1", "desk2"])
            rows.append(
                (
                    f"test-call-{seed}-{n}",
                    "inbound",
                    number,
                    pid,
                    to_db(start),
                    to_db(start + timedelta(seconds=2)),
                    "front-desk",
                    to_db(queued),
                    agent,
                    to_db(answered) if answered else None,
                    to_db(ended),
                    disposition,
                    json.dumps(["hours", "welcome", "main", "0"]),
                )
            )
    with repos.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO calls(uuid, direction, caller, patient_id, started_at, answered_at, queue, queued_at, agent,"
            " agent_answered_at, ended_at, disposition, ivr_path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return len(rows)


def add_callbacks(repos: Repos, now: datetime, count: int = 3) -> list[int]:
    numbers = patient_numbers(repos)
    ids = []
    with repos.store.transaction() as conn:
        for i in range(count):
            pid, number = numbers[(i * 5) % len(numbers)]
            at = to_db(now - timedelta(minutes=90 - i * 20))
            cur = conn.execute(
                "INSERT INTO callbacks(number, patient_id, queue, source, requested_at, place_at, waited_seconds)"
                " VALUES (?,?,?,?,?,?,?)",
                (number, pid, "front-desk", ("abandoned", "requested", "after-hours")[i % 3], at, at, 40.0 + i * 30),
            )
            ids.append(int(cur.lastrowid))
    return ids


def add_voicemail(repos: Repos, now: datetime, count: int = 2) -> list[tuple[int, bytes]]:
    """Voicemail rows whose audio is encrypted in the media vault."""
    numbers = patient_numbers(repos)
    made = []
    for i in range(count):
        pid, number = numbers[(i * 7 + 3) % len(numbers)]
        audio = tone_wav(0.5 + i * 0.25, freq=330 + 110 * i)
        name = f"voicemail/test/vm-{i}.wav"
        repos.media.write_bytes(name, audio)
        with repos.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO voicemail(mailbox, caller, patient_id, received_at, duration_s, media_file, language)"
                " VALUES (?,?,?,?,?,?,?)",
                ("general", number, pid, to_db(now - timedelta(hours=i + 1)), 0.5 + i * 0.25, name, "en"),
            )
            made.append((int(cur.lastrowid), audio))
    return made


def add_reminders(repos: Repos, now: datetime) -> int:
    """A reminder per upcoming appointment, with attempts for past ones."""
    rows = repos.store.query("SELECT id, starts_at FROM appointments ORDER BY starts_at")
    made = 0
    with repos.store.transaction() as conn:
        # Seeding already planned reminders through the appointment hook; these
        # screens need a known set with attempts, so they replace them.
        conn.execute("DELETE FROM reminders")
        for i, (aid, starts) in enumerate(rows):
            start = datetime.strptime(starts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=now.tzinfo)
            due = start - timedelta(days=1)
            done = due < now
            cur = conn.execute(
                "INSERT INTO reminders(appointment_id, offset_minutes, channel, due_at, expires_at, status, attempts,"
                " next_attempt_at, outcome, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    aid,
                    1440,
                    "sms" if i % 2 else "voice",
                    to_db(due),
                    to_db(start),
                    "done" if done else "pending",
                    1 if done else 0,
                    to_db(due),
                    ("confirmed", "no-answer", "confirmed", "cancelled")[i % 4] if done else "",
                    to_db(now),
                ),
            )
            if done:
                conn.execute(
                    "INSERT INTO reminder_attempts(reminder_id, channel, route, state, outcome, started_at, ended_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        cur.lastrowid,
                        "sms" if i % 2 else "voice",
                        "trunk",
                        "finished",
                        ("confirmed", "no-answer", "confirmed", "cancelled")[i % 4],
                        to_db(due),
                        to_db(due + timedelta(minutes=1)),
                    ),
                )
            made += 1
    return made
