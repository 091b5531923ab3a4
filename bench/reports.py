"""KPI report speed on a big call log: 500,000 synthetic calls in a real SQLCipher store.

Run: ``.venv/bin/python -m bench.reports [--calls N] [--days D] [--runs R]``

Fills a fresh encrypted store (``Store.create`` in a temp dir) with N calls
spread over D days (office-hours heavy, weekdays busier, 20,000 repeat
callers), their callbacks, agent state changes for 5 agents and reminder
attempts, then times :func:`appliance.reports.kpi_report` for the last 7,
30 and 90 days: first (cold) run, then p50/p95 of R warm runs. The web UI's
target is < 300 ms p95 for a report.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.clock import FakeClock
from appliance.ivr.hours import BusinessHours
from appliance.reports import kpi_report
from appliance.store import Store, to_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
QUEUES = ("front-desk", "appointments", "results", "billing")
AGENTS = ("desk1", "desk2", "desk3", "desk4", "desk5")


def _moment(rng: random.Random, days: int) -> datetime:
    """A call time: mostly weekdays 07:00-17:00 UTC, some evenings and weekends."""
    while True:
        day = NOW - timedelta(days=rng.randrange(days) + 1)
        weekend = day.weekday() >= 5
        if weekend and rng.random() < 0.7:
            continue
        hour = rng.gauss(11.5, 3.0) if rng.random() < 0.9 else rng.uniform(0, 24)
        hour = min(max(hour, 0.0), 23.99)
        return day.replace(hour=int(hour), minute=int(hour % 1 * 60), second=rng.randrange(60), microsecond=0)


def fill(store: Store, calls: int, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    callers = [f"+4860{n:07d}" for n in range(20000)]
    rows, callbacks = [], []
    # The switchboard writes calls as they happen: row order follows time.
    moments = sorted(_moment(rng, days) for _ in range(calls))
    for i, started in enumerate(moments):
        caller = rng.choice(callers)
        outbound = rng.random() < 0.05
        purpose = "reminder" if outbound else "patient"
        answered = started + timedelta(seconds=1)
        roll = rng.random()
        queue = queued = agent = agent_answered = None
        hold = wrap = 0.0
        if roll < 0.06:
            disposition, ended = "ivr", answered + timedelta(seconds=rng.uniform(3, 40))
        elif roll < 0.12:
            disposition, ended = "voicemail", answered + timedelta(seconds=rng.uniform(20, 90))
        else:
            queue = rng.choice(QUEUES)
            queued = answered + timedelta(seconds=rng.uniform(15, 40))
            wait = rng.expovariate(1 / 35)
            sub = rng.random()
            if sub < 0.80:
                disposition, agent = "answered", rng.choice(AGENTS)
                agent_answered = queued + timedelta(seconds=wait)
                hold = rng.choice((0.0, 0.0, 0.0, rng.uniform(5, 60)))
                ended = agent_answered + timedelta(seconds=hold + rng.expovariate(1 / 170))
                wrap = rng.uniform(5, 30)
            elif sub < 0.92:
                disposition, ended = "abandoned", queued + timedelta(seconds=wait)
            elif sub < 0.97:
                disposition, ended = "callback", queued + timedelta(seconds=wait)
            else:
                disposition, ended = "overflow", queued + timedelta(seconds=600)
            if disposition in ("abandoned", "callback"):
                done = rng.random() < 0.85
                completed = ended + timedelta(seconds=rng.uniform(120, 7200))
                callbacks.append(
                    (
                        caller,
                        queue,
                        "abandoned" if disposition == "abandoned" else "requested",
                        i + 1,
                        to_db(ended),
                        to_db(queued),
                        (ended - queued).total_seconds(),
                        "done" if done else "failed",
                        1,
                        to_db(completed),
                        to_db(completed) if done else None,
                    )
                )
        rows.append(
            (
                f"bench-{i}",
                "outbound" if outbound else "inbound",
                purpose,
                caller,
                to_db(started),
                to_db(answered),
                queue,
                to_db(queued) if queued else None,
                agent,
                to_db(agent_answered) if agent_answered else None,
                to_db(ended),
                disposition,
                hold,
                wrap,
            )
        )
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO calls(uuid, direction, purpose, caller, started_at, answered_at, queue, queued_at, agent,"
            " agent_answered_at, ended_at, disposition, hold_seconds, wrap_seconds) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        db.executemany(
            "INSERT INTO callbacks(number, queue, source, call_id, requested_at, place_at, waited_seconds, status,"
            " attempts, last_attempt_at, completed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            sorted(callbacks, key=lambda c: c[4]),
        )
        _agent_days(db, rng, days)
        _reminders(db, rng, days)


def _agent_days(db: object, rng: random.Random, days: int) -> None:
    events = []
    for d in range(days, 0, -1):
        day = (NOW - timedelta(days=d)).replace(hour=0, minute=0, second=0, microsecond=0)
        if day.weekday() >= 5:
            continue
        for agent in AGENTS:
            if rng.random() < 0.1:
                continue  # day off
            t = day + timedelta(hours=7, minutes=rng.uniform(-10, 25))
            events.append((to_db(t), agent, "available", ""))
            for _ in range(6):  # a few calls and pauses
                t += timedelta(minutes=rng.uniform(20, 60))
                events.append((to_db(t), agent, "on-call", ""))
                t += timedelta(minutes=rng.uniform(2, 8))
                events.append((to_db(t), agent, "available", ""))
            t += timedelta(minutes=rng.uniform(0, 30))
            events.append((to_db(t), agent, "paused", "lunch"))
            t += timedelta(minutes=rng.uniform(30, 60))
            events.append((to_db(t), agent, "available", ""))
            events.append((to_db(day + timedelta(hours=15, minutes=rng.uniform(-20, 20))), agent, "logged-out", ""))
    db.executemany("INSERT INTO agent_events(at, agent, state, reason) VALUES (?,?,?,?)", events)  # type: ignore[attr-defined]


def _reminders(db: object, rng: random.Random, days: int) -> None:
    stamp = to_db(NOW)
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO patients(id, import_key, display_name, name_search, created_at, updated_at) VALUES (?,?,?,?,?,?)",
        [(p, f"bench-p{p}", f"Patient {p}", f"patient {p}", stamp, stamp) for p in range(1, 1001)],
    )
    appointments, reminders, attempts = [], [], []
    for a in range(1, 30001):
        start = NOW - timedelta(days=rng.uniform(0, days))
        appointments.append(
            (a, f"bench-a{a}", rng.randrange(1, 1001), to_db(start), to_db(start + timedelta(minutes=20)), stamp, stamp)
        )
        due = start - timedelta(days=1)
        reminders.append((a, a, 1440, "voice", to_db(due), to_db(start), "done", to_db(due), stamp))
        outcome = rng.choices(("confirmed", "cancelled", "no-answer", "desk"), (0.6, 0.08, 0.27, 0.05))[0]
        attempts.append((a, "voice", "trunk", "finished", outcome, to_db(due)))
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO appointments(id, import_key, patient_id, starts_at, ends_at, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?)",
        appointments,
    )
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO reminders(id, appointment_id, offset_minutes, channel, due_at, expires_at, status,"
        " next_attempt_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        reminders,
    )
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO reminder_attempts(reminder_id, channel, route, state, outcome, started_at) VALUES (?,?,?,?,?,?)",
        attempts,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _sec(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="fill this folder once and reuse it on later runs")
    args = parser.parse_args()
    hours = BusinessHours({d: ["08:00-16:00"] for d in range(5)}, ["01-01", "12-25"], "Europe/Warsaw")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        if (tmp / "bench.db").exists():
            store = Store.open(tmp / "bench.db", tmp / "store.key", clock=FakeClock(NOW))
            print(f"reusing {tmp / 'bench.db'}")
        else:
            tmp.mkdir(parents=True, exist_ok=True)
            store = Store.create(tmp / "bench.db", tmp / "store.key", clock=FakeClock(NOW))
            t0 = time.perf_counter()
            fill(store, args.calls, args.days)
            print(f"filled {args.calls:,} calls over {args.days} days in {time.perf_counter() - t0:.1f} s")
            store.close()
            gc.collect()
        print(f"database size: {(tmp / 'bench.db').stat().st_size / 1e6:.0f} MB")
        for days in (7, 30, 90):
            start = NOW - timedelta(days=days)
            store.close()  # cold: a fresh connection, empty page cache
            t = time.perf_counter()
            report = kpi_report(store, start, NOW, hours=hours, now=NOW)
            cold = (time.perf_counter() - t) * 1000
            times, cpu = [], []
            for _ in range(args.runs):
                t, c = time.perf_counter(), time.process_time()
                kpi_report(store, start, NOW, hours=hours, now=NOW)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            q = report.queue
            print(
                f"last {days:>2} days: {q.queued:>6,} queued calls | cold {cold:6.1f} ms | "
                f"warm p50 {statistics.median(times):6.1f} ms p95 {p95:6.1f} ms (CPU p50 {statistics.median(cpu):5.1f} ms) | "
                f"SL {_pct(q.service_level)} ASA {_sec(q.asa_s)} abandon {_pct(q.abandon_rate)} "
                f"AHT {_sec(q.aht_s)} FCR {_pct(report.fcr.rate)} adherence {_pct(report.adherence.adherence)} "
                f"peak {report.staffing[0].weekday} {report.staffing[0].hour:02d}h: "
                f"{report.staffing[0].calls_per_hour:.0f} calls/h -> {report.staffing[0].agents} agents"
            )
        store.close()


if __name__ == "__main__":
    main()
