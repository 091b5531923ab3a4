"""Reminder benchmark: planning a large schedule, and how well a campaign uses the lines.

    python -m bench.reminders [--appointments 20000] [--lines 4] [--reminders 3000]

1. **Planning**: 20,000 visits over the next two weeks, patients on voice,
   SMS or both, planned by the nightly job (``plan_horizon``) into a real
   SQLCipher store: first run (every reminder row written) and a re-run
   (nothing changed). Target: under 2 s.
2. **Campaign**: the real dispatcher and call script against the shipped
   fake switchboard with ``--lines`` lines for reminders and simulated
   patients drawn from a known distribution (70 % answer after 3-15 s,
   10 % busy, the rest ring out after 40 s; of those who answer 55 %
   press 1, 10 % 2, 5 % 3, 5 % 9 then 1, 25 % nothing). Time is simulated
   (a fake clock moved from event to event); the dispatcher ticks on every
   call result, as the service does. Reported: attempts finished per
   line-hour against the theoretical maximum (3600 s over the mean line
   holding time of an attempt, i.e. lines never idle; target 90 %), and
   the dispatcher's CPU time per 10,000 reminders (claims, commits,
   results, audit; the simulated patients not counted).

Prints figures; it is not a test and never runs in CI.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.config.reminders import SimulatedPatients
from appliance.events import EventBus
from appliance.reminders.replanning import ReminderPlanner
from appliance.reminders.service import ReminderService
from appliance.store import Store
from appliance.store.repos import make_repos
from appliance.store.timefmt import to_db
from appliance.switchboard.fake import FakeSwitchboard

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Warsaw
ALL_DAY = {d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
PATIENTS = SimulatedPatients(
    answer=0.7 / 0.9,  # of the calls that are not busy: 70 % of all calls
    busy=0.1,
    keys={"1": 0.55, "2": 0.10, "3": 0.05, "9": 0.05, "none": 0.25},
    answer_after_s=[3.0, 15.0],
    listen_s=[4.0, 10.0],
    time_scale=1.0,
    dial_log="",
    seed=0,
)


def config(folder: Path, lines: int) -> Any:
    return load_config(
        overrides={
            "clinic": {"name": "Bench Clinic", "country": "PL", "timezone": "Europe/Warsaw", "languages": ["pl", "en"],
                       "default_language": "pl"},
            "paths": {"state_dir": str(folder / "state"), "run_dir": str(folder / "run"),
                      "key_file": str(folder / "store.key"), "secrets_file": str(folder / "none.toml")},
            "clock": {"assume_synced": True},
            "hours": {"holidays": []},
            "sip": {"max_calls": lines + 2},
            "reminders": {"windows": ALL_DAY, "offsets_h": [48, 24], "max_calls": lines, "reserve_lines": 2,
                          "max_attempts": 1, "desk_queue": "front-desk"},
        },
        use_secrets=False,
        use_overlay=False,
    )  # fmt: skip


def fill(store: Store, appointments: int, rng: random.Random, hours: float, channels: tuple[str, ...]) -> None:
    """Patients and visits written in bulk (no hooks: planning is what is measured)."""
    stamp = to_db(NOW)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO patients(id, import_key, display_name, name_search, language, reminder_channel, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                (i, f"b:{i}", f"P{i}", f"p{i}", "pl", rng.choice(channels), stamp, stamp)
                for i in range(1, appointments + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO patient_phones(patient_id, e164, is_primary) VALUES (?,?,1)",
            ((i, f"+48{600000000 + i:09d}") for i in range(1, appointments + 1)),
        )
        conn.executemany(
            "INSERT INTO appointments(import_key, patient_id, starts_at, ends_at, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?)",
            (
                (
                    f"a:{i}",
                    i,
                    to_db(NOW + timedelta(hours=start)),
                    to_db(NOW + timedelta(hours=start, minutes=20)),
                    stamp,
                    stamp,
                )
                for i, start in ((i, rng.uniform(*hours) if isinstance(hours, tuple) else hours) for i in range(1, appointments + 1))
            ),
        )  # fmt: skip


def bench_planning(folder: Path, appointments: int) -> None:
    cfg = config(folder, 4)
    clock = FakeClock(NOW)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock)
    fill(store, appointments, random.Random(1), (6.0, 14 * 24.0), ("voice", "sms", "both", "sms"))
    planner = ReminderPlanner(cfg, clock)
    first = planner.plan_horizon(store)
    again = planner.plan_horizon(store)
    rows = store.query_one("SELECT count(*) FROM reminders")
    print(f"planning {appointments} appointments (offsets 48 h and 24 h, windows, DST-aware, SQLCipher):")
    print(f"  first run:  {first.seconds:.2f} s ({rows[0] if rows else 0} reminder rows written)   target < 2 s")
    print(f"  re-run:     {again.seconds:.2f} s ({again.added} added, {again.updated} moved)")
    store.close()


def dispatcher_has_work(store: Store) -> bool:
    row = store.query_one("SELECT count(*) FROM reminders WHERE status IN ('pending', 'active')")
    return bool(row and row[0])


def bench_campaign(folder: Path, lines: int, reminders: int) -> None:
    cfg = config(folder, lines)
    clock = FakeClock(NOW)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock)
    fill(store, reminders, random.Random(2), 23.0, ("voice",))
    ReminderPlanner(cfg, clock).plan_horizon(store)
    switchboard = FakeSwitchboard(clock, PATIENTS, lines=lines + 2, seed=3, prompt_s=4.0)
    service = ReminderService(
        cfg,
        clock,
        EventBus(),
        store,
        switchboard,
        repos=make_repos(cfg, store, [ReminderPlanner(cfg, store.clock).on_appointment_change]),
    )
    dispatcher = service.dispatcher
    dispatcher.recover()
    cpu = 0.0
    started = clock.now()
    finished_at = started
    wall = time.perf_counter()
    interval = float(cfg.reminders.interval_s)
    next_tick = 0.0  # simulated seconds: the service ticks on every result and every interval_s
    results = 0
    elapsed = 0.0
    while True:
        if len(switchboard.results) != results or elapsed >= next_tick:
            results = len(switchboard.results)
            next_tick = elapsed + interval
            t0 = time.process_time()
            dispatcher.tick()
            cpu += time.process_time() - t0
        upcoming = switchboard.next_event_in()
        if upcoming is None and not dispatcher.inflight and not dispatcher_has_work(store):
            break
        step = min(upcoming if upcoming is not None else interval, max(0.0, next_tick - elapsed))
        switchboard.advance(step)
        elapsed += step
        if len(switchboard.results) != results:
            finished_at = clock.now()
    attempts = len(switchboard.results)
    busy_hours = (finished_at - started).total_seconds() / 3600
    per_line_hour = attempts / (lines * busy_hours)
    mean_hold = switchboard.hold_seconds / attempts
    theoretical = 3600 / mean_hold
    outcomes: dict[str, int] = {}
    for r in store.query("SELECT outcome, count(*) FROM reminder_attempts GROUP BY outcome"):
        outcomes[str(r[0])] = int(r[1])
    print(
        f"campaign: {attempts} reminder calls on {lines} lines, simulated patients ({time.perf_counter() - wall:.1f} s wall)"
    )
    print(f"  simulated duration:        {busy_hours:.2f} h; mean line holding time per call {mean_hold:.1f} s")
    print(f"  finished per line-hour:    {per_line_hour:.1f}   theoretical maximum {theoretical:.1f}"
          f"   -> {100 * per_line_hour / theoretical:.1f} %   target >= 90 %")  # fmt: skip
    print(f"  dispatcher CPU time:       {cpu:.2f} s = {cpu * 10000 / attempts:.1f} s per 10,000 reminders")
    print("  outcomes:                  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=4)
    parser.add_argument("--reminders", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        bench_planning(Path(tmp) / "plan", args.appointments)
        bench_campaign(Path(tmp) / "campaign", args.lines, args.reminders)


if __name__ == "__main__":
    main()
