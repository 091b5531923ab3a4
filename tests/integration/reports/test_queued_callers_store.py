"""From a real store: callback calls and re-queued transfers do not flatter ASA, service level or abandons.

The rows are written the way the switchboard writes them: the CDR, the ACD's
queue events, and ``first_answered_at`` (the first agent's answer; a transfer
back into a queue moves ``agent_answered_at`` to the second agent).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from appliance.reports.kpis import tally_by_queue
from appliance.reports.query import load_abandons, load_calls, load_heat_buckets, load_queue_tallies
from appliance.store import Store, to_db
from appliance.store import calls as cdr

START = datetime(2026, 2, 2, 9, tzinfo=UTC)
END = START + timedelta(days=1)


def at(seconds: float) -> str:
    return to_db(START + timedelta(seconds=seconds))


def seed(store: Store) -> None:
    with store.transaction() as db:
        # A caller answered after 40 s.
        cdr.insert(db, uuid="a", direction="inbound", started_at=at(0), caller="+48600000002")
        cdr.update(db, "a", queue="desk", queued_at=at(10), agent="desk1", agent_answered_at=at(50), ended_at=at(200))
        cdr.update(db, "a", first_answered_at=at(50))
        cdr.update(db, "a", disposition="answered")
        cdr.add_queue_event(db, "a", at(50), "desk", "answer", "desk1", {"wait_s": 40})
        # A caller who asked to be called back after 30 s ...
        cdr.insert(db, uuid="b", direction="inbound", started_at=at(100), caller="+48600000001")
        cdr.update(db, "b", queue="desk", queued_at=at(110), ended_at=at(140), disposition="callback")
        # ... and the box's callback call, through to an agent a second after the greeting.
        cdr.insert(db, uuid="cb", direction="outbound", started_at=at(400), caller="+48600000001", purpose="callback")
        cdr.update(db, "cb", queue="desk", queued_at=at(405), agent="desk1", agent_answered_at=at(406))
        cdr.update(db, "cb", ended_at=at(600), disposition="answered")
        # A patient who hung up on their callback before the agent came: not a queue abandon.
        cdr.insert(db, uuid="cb2", direction="outbound", started_at=at(700), caller="+48600000003", purpose="callback")
        cdr.update(db, "cb2", queue="desk", queued_at=at(705), ended_at=at(709), disposition="abandoned")
        # Answered after 15 s, talked, transferred to billing at 205, answered there at 215.
        cdr.insert(db, uuid="t", direction="inbound", started_at=at(1000), caller="+48600000004")
        cdr.update(db, "t", queue="desk", queued_at=at(1010), agent="billing1", agent_answered_at=at(1215))
        cdr.update(db, "t", ended_at=at(1400), disposition="answered", first_answered_at=at(1025))
        cdr.add_queue_event(db, "t", at(1025), "desk", "answer", "desk1", {"wait_s": 15})
        cdr.add_queue_event(db, "t", at(1205), "billing", "transfer", "desk1", {"from": "desk1"})
        cdr.add_queue_event(db, "t", at(1215), "billing", "answer", "billing1", {"wait_s": 10})


def test_the_store_reports_callers_not_callbacks(store: Store) -> None:
    seed(store)
    tally = load_queue_tallies(store, START, END)["desk"]
    kpis = tally.kpis()
    assert (kpis.queued, kpis.answered, kpis.callback_requests, kpis.abandoned) == (3, 2, 1, 0)
    assert kpis.asa_s == pytest.approx((40 + 15) / 2)
    assert kpis.service_level == pytest.approx(1 / 3)
    assert load_abandons(store, START, END) == []
    assert sum(q for _, _, q in load_heat_buckets(store, START, END)) == 3


def test_sql_and_pure_tallies_agree_on_callbacks_and_transfers(store: Store) -> None:
    seed(store)
    pure = tally_by_queue(load_calls(store, START, END))["desk"]
    in_sql = load_queue_tallies(store, START, END)["desk"]
    assert asdict(in_sql) == pytest.approx(asdict(pure), abs=1e-3)
    assert pure.wait_s == pytest.approx(40 + 15)
