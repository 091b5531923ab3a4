"""A patient's call through the real switchboard: IVR, queue, station, call log.

Real core process (PJSUA2), real station program, real PJSUA2 caller, all
on 127.0.0.1.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.config import load_config
from appliance.reports import kpi_report_for
from tests.integration.switchboard.conftest import DESKS

PATIENT = "+12125550001"  # the first demo patient


def test_caller_reaches_a_station_and_the_call_log_is_right(box, sipua, station_proc) -> None:
    b = box(stations=DESKS)
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    caller = sipua(name="patient")
    cid = caller.call(b.uri, from_user=PATIENT)
    caller.wait_state("CONFIRMED", cid)
    caller.wait_heard(1.0, cid, timeout=10)  # the greeting is audible
    caller.dtmf("0", cid)  # front desk, pressed during the greeting: kept for the menu
    status = b.wait(
        lambda s: any(a["station"] == "desk2" and a["state"] == "on-call" for a in s["agents"]),
        timeout=20,
        what="desk2 on a call",
    )
    assert status["calls"][0]["agent"] == "desk2"
    time.sleep(2.0)  # talk
    caller.hangup(cid)
    caller.wait_state("DISCONNECTED", cid)
    rec = b.call_record(lambda r: r.caller == PATIENT)
    assert rec.disposition == "answered"
    assert rec.queue == "front-desk" and rec.agent == "desk2"
    assert rec.patient_id is not None and rec.language == "en"
    assert rec.ivr_path[:2] == ["hours", "welcome"] and "key:0" in rec.ivr_path
    assert rec.hangup_by == "caller"
    assert rec.queued_at and rec.agent_answered_at and rec.queued_at <= rec.agent_answered_at <= rec.ended_at
    events = [e["event"] for e in b.query_events(rec.uuid)]
    assert events[:3] == ["enter", "ring", "answer"]
    b.wait_agent("desk2", "available")  # back after wrap-up
    wrap: list[Any] = []
    for _ in range(50):
        wrap = b.query("SELECT wrap_seconds FROM calls WHERE uuid = ?", (rec.uuid,))
        if wrap and wrap[0][0] > 0:
            break
        time.sleep(0.1)
    assert 0.9 <= wrap[0][0] <= 3.0, wrap  # the queue's 1 s wrap-up counts in the handle time
    cfg = load_config(b.config)
    now = datetime.now(UTC)
    report = kpi_report_for(cfg, b.store, now - timedelta(hours=1), now + timedelta(minutes=1)).as_dict()
    assert report["queue"]["answered"] == 1
    assert report["queue"]["abandoned"] == 0
    assert 0 <= report["queue"]["asa_s"] < 10
    assert report["queue"]["aht_s"] >= report["queue"]["avg_talk_s"] + 0.9
