"""The KPI report read from a real SQLCipher store equals the pure calculation on the same rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from appliance.config import Config
from appliance.reports import kpi_report_for
from appliance.reports.kpis import abandons_of, callback_kpis, contacts_of, first_call_resolution, tally_by_queue
from appliance.reports.query import load_callbacks, load_calls, load_queue_tallies
from appliance.reports.rows import CallRow
from appliance.store import Store, to_db
from appliance.store import calls as cdr

START = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday
END = START + timedelta(days=28)
NOW = END + timedelta(days=10)


def at(seconds: float) -> str:
    return to_db(START + timedelta(seconds=seconds))


def write(store: Store, calls: list[CallRow]) -> None:
    """Write CDRs the way the switchboard does: insert at INVITE, update as the call moves."""
    with store.transaction() as db:
        for i, c in enumerate(calls):
            uuid = f"call-{i}"
            cdr.insert(
                db, uuid=uuid, direction=c.direction, started_at=at(c.started), caller=c.caller, purpose=c.purpose
            )
            fields: dict[str, object] = {
                "answered_at": at(c.started + 1),
                "hold_seconds": c.hold,
                "wrap_seconds": c.wrap,
            }
            if c.queued is not None:
                fields.update(queue=c.queue, queued_at=at(c.queued))
            if c.agent_answered is not None:
                fields.update(agent=c.agent or "desk1", agent_answered_at=at(c.agent_answered))
            if c.ended is not None:
                fields["ended_at"] = at(c.ended)
            if c.disposition:
                fields["disposition"] = c.disposition
            cdr.update(db, uuid, **fields)


def random_calls(seed: int, n: int) -> list[CallRow]:
    rng = random.Random(seed)
    calls = []
    for _ in range(n):
        started = rng.uniform(0, 27 * 86400)
        caller = rng.choice(["", "anonymous", *(f"+4860000{k:04d}" for k in range(40))])
        kind = rng.random()
        if kind < 0.15:
            calls.append(CallRow(started, caller, disposition="ivr", ended=started + rng.uniform(5, 60)))
            continue
        queued = started + rng.uniform(5, 30)
        queue = rng.choice(["front-desk", "billing", "results"])
        wait = round(rng.choice([rng.uniform(0, 60), 20.0, 5.0, 4.999]), 3)
        if kind < 0.7:
            hold = rng.choice([0.0, rng.uniform(0, 90), 500.0])  # 500 s hold exceeds the call: talk clamps to 0
            ended = None if rng.random() < 0.05 else queued + wait + rng.uniform(30, 400)
            calls.append(
                CallRow(
                    started,
                    caller,
                    disposition=rng.choice(["answered", "answered", "transferred"]),
                    queue=queue,
                    queued=queued,
                    agent_answered=queued + wait,
                    ended=ended,
                    hold=round(hold, 3),
                    wrap=round(rng.uniform(0, 30), 3),
                )
            )
        else:
            disposition = rng.choice(["abandoned", "abandoned", "callback", "overflow"])
            ended = None if rng.random() < 0.05 else queued + wait
            calls.append(CallRow(started, caller, disposition=disposition, queue=queue, queued=queued, ended=ended))
    return [c._replace(started=round(c.started, 3)) for c in calls]


def millis(calls: list[CallRow]) -> list[CallRow]:
    """Times as the store keeps them (whole milliseconds)."""

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return [
        c._replace(started=ms(c.started), queued=ms(c.queued), agent_answered=ms(c.agent_answered), ended=ms(c.ended))
        for c in calls
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_tallies_equal_the_pure_tallies(store: Store, seed: int) -> None:
    calls = millis(random_calls(seed, 400))
    write(store, calls)
    in_db = load_queue_tallies(store, START, END)
    expected = tally_by_queue([c._replace(started=c.started) for c in calls])
    assert sorted(in_db) == sorted(expected)
    for queue, tally in expected.items():
        got = in_db[queue]
        ints = (
            "queued",
            "answered",
            "abandoned",
            "short_abandoned",
            "callback_requests",
            "overflowed",
            "answered_within",
        )
        assert {k: getattr(got, k) for k in ints} == {k: getattr(tally, k) for k in ints}, queue
        for name in ("wait_s", "talk_s", "hold_s", "wrap_s", "longest_wait_s"):
            assert getattr(got, name) == pytest.approx(getattr(tally, name), abs=1e-3), (queue, name)


def test_rows_read_back_from_the_store_match_what_was_written(store: Store) -> None:
    calls = millis(random_calls(9, 50))
    write(store, calls)
    base = START.timestamp()

    def rel(v: float | None) -> float | None:
        return None if v is None else round(v - base, 3)

    read = {
        (rel(c.started), c.caller): (c.disposition, c.queue, rel(c.queued), rel(c.agent_answered), rel(c.ended), c.hold)
        for c in load_calls(store, START, END)
    }
    written = {
        (c.started, c.caller): (c.disposition, c.queue, c.queued, c.agent_answered, c.ended, c.hold) for c in calls
    }
    assert read == written


def test_full_report_from_the_store(cfg: Config, store: Store) -> None:
    base = START.timestamp()
    calls = millis(random_calls(4, 300))
    write(store, calls)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO callbacks(number, queue, source, requested_at, place_at, status, completed_at)"
            " VALUES ('+48600000001', 'front-desk', 'abandoned', ?, ?, 'done', ?)",
            (at(100), at(100), at(5000)),
        )
        for when, state in (
            (8 * 3600, "available"),
            (12 * 3600, "paused"),
            (13 * 3600, "available"),
            (16 * 3600, "logged-out"),
        ):
            cdr.add_agent_event(db, at(when - 3600), "desk1", state)  # Warsaw is UTC+1 in February
    report = kpi_report_for(cfg, store, START, END, now=NOW)
    absolute = [
        c._replace(
            started=c.started + base,
            queued=None if c.queued is None else c.queued + base,
            agent_answered=None if c.agent_answered is None else c.agent_answered + base,
            ended=None if c.ended is None else c.ended + base,
        )
        for c in calls
    ]
    expected_tallies = tally_by_queue(absolute)
    assert report.queue.queued == sum(t.queued for t in expected_tallies.values())
    assert report.queue.asa_s == pytest.approx(
        sum(t.wait_s for t in expected_tallies.values()) / sum(t.answered for t in expected_tallies.values()), abs=1e-3
    )
    assert report.fcr == first_call_resolution(
        contacts_of(absolute), START.timestamp(), END.timestamp(), NOW.timestamp()
    )
    assert report.callbacks == callback_kpis(abandons_of(absolute), load_callbacks(store, START, NOW))
    # desk1 worked 08:00-12:00 and 13:00-16:00 local on Monday 2026-02-02 against 08:00-16:00 planned.
    assert report.adherence.adherence == pytest.approx(7 / 8)
    assert report.heatmap.weeks == 4 and sum(map(sum, report.heatmap.calls)) == pytest.approx(300 / 4)


def test_callbacks_of_a_period_use_the_index(store: Store) -> None:
    plan = store.query(
        "EXPLAIN QUERY PLAN SELECT number FROM callbacks WHERE requested_at >= ? AND requested_at < ?", ("a", "b")
    )
    assert "callbacks_requested" in " ".join(str(tuple(r)) for r in plan)
