"""Reminder calls through the real core and the real switchboard (PJSUA2) to a real SIP UA.

The demo clinic is seeded on free ports with its trunk pointing at a
scriptable PJSUA2 user agent that plays four patients: one presses 1
(confirmed), one 2 (cancelled, the slot is freed), one 3 (joins the front
desk queue ahead of normal callers), one presses nothing (an answering
machine: the short message, no PHI). Each first presses a key at the
greeting, as the prompt asks, before choosing.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.control.client import ControlClient
from appliance.demo.seed import seed
from appliance.errors import ControlError
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from tests.conftest import repos_with_planner
from tests.integration.sip.peers import SipUA
from tests.integration.sip.peers.common import REPO, child_env, free_port, tail

#: The patients the UA plays: number -> the key they choose after the greeting ("" = none).
PATIENTS = {"+12125550701": "1", "+12125550702": "2", "+12125550703": "3", "+12125550704": ""}
OVERLAY = """\
[modem]
enabled = false
[hours]
holidays = []
[clinic]
languages = ["en"]
[prompts]
tts_speed = 260
[reminders]
offsets_h = [24]
max_calls = 2
reserve_lines = 0
interval_s = 1
key_timeout_s = 2.0
ring_s = 20
[reminders.windows]
monday = ["00:00-24:00"]
tuesday = ["00:00-24:00"]
wednesday = ["00:00-24:00"]
thursday = ["00:00-24:00"]
friday = ["00:00-24:00"]
saturday = ["00:00-24:00"]
sunday = ["00:00-24:00"]
"""


def clinic(folder: Path, pstn_port: int) -> Path:
    """The demo clinic with only our four patients' visits, due for their reminder now."""
    rtp = free_port()
    seed(folder, web_port=free_port(socket.SOCK_STREAM), sip_port=free_port(), rtp_port=rtp, pstn_port=pstn_port)
    (folder / "settings.toml").write_text(OVERLAY)
    config = folder / "clinicbox.toml"
    cfg = load_config(config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
    repos = repos_with_planner(cfg, store)
    with store.transaction() as conn:
        conn.execute("DELETE FROM appointments")
    for i, number in enumerate(PATIENTS):
        pid = repos.patients.create(
            PatientInput(name=f"Reminder Patient {i}", phones=[number], reminder_channel="voice", language="en"), "t"
        )
        start = datetime.now(UTC) + timedelta(hours=23, minutes=i)
        repos.appointments.create(
            AppointmentInput(patient_id=pid, starts_at=start, provider="Dr Lee", reason="chest pain"), "t"
        )
    store.close()
    return config


class Patients:
    """The UA's side of each reminder call, driven by its events."""

    def __init__(self, ua: SipUA, control: ControlClient) -> None:
        self.ua = ua
        self.control = control
        self.calls: dict[int, dict[str, Any]] = {}
        self.queued: list[dict[str, Any]] = []

    def step(self, timeout: float = 0.5) -> None:
        try:
            event = self.ua.queue.get(timeout=timeout)
        except queue.Empty:
            return
        self.ua.events.append(event)
        kind, cid = event.get("event"), event.get("call")
        if kind == "incoming":
            number = next(n for n in PATIENTS if n in event["to"])
            self.calls[cid] = {
                "number": number,
                "choice": PATIENTS[number],
                "pressed": [],
                "heard": 0.0,
                "ended": False,
            }
            self.ua.answer(cid)
        elif kind == "audio" and cid in self.calls:
            self._listen(cid, self.calls[cid], float(event["heard"]))
        elif kind == "state" and event["state"] == "DISCONNECTED" and cid in self.calls:
            self.calls[cid]["ended"] = True

    def _listen(self, cid: int, call: dict[str, Any], heard: float) -> None:
        call["heard"] = heard
        if not call["choice"] or call["ended"]:
            return  # the answering machine only records
        if not call["pressed"] and heard >= 1.0:
            self.ua.dtmf("1", cid)  # "to hear it, press 1"
            call["pressed"].append(("1", heard))
        elif len(call["pressed"]) == 1 and heard >= call["pressed"][0][1] + 2.5:
            self.ua.dtmf(call["choice"], cid)  # the choice, while the menu plays
            call["pressed"].append((call["choice"], heard))
        elif call["choice"] == "3" and len(call["pressed"]) == 2 and not call.get("hung_up"):
            waiting = [w for q in self.control.status()["queues"] for w in q["waiting"] if q["id"] == "front-desk"]
            if waiting:
                self.queued.extend(waiting)
                self.ua.hangup(cid)
                call["hung_up"] = True

    def done(self) -> bool:
        return len(self.calls) == len(PATIENTS) and all(c["ended"] for c in self.calls.values())


@pytest.mark.slow
def test_reminder_calls_confirm_cancel_reach_the_desk_and_leave_a_message(tmp_path: Path) -> None:
    pstn_port = free_port()
    (tmp_path / "peers").mkdir()
    with SipUA(tmp_path / "peers", name="patients", port=pstn_port) as ua:
        run_campaign(tmp_path, ua, pstn_port)


def run_campaign(tmp_path: Path, ua: SipUA, pstn_port: int) -> None:
    config = clinic(tmp_path / "clinic", pstn_port)
    cfg = load_config(config)
    log = tmp_path / "core.log"
    with log.open("wb") as out:
        core = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(config), "run"],
            cwd=REPO,
            env=child_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        patients = Patients(ua, ControlClient(cfg.control_socket))
        deadline = time.monotonic() + 120
        while not patients.done() and time.monotonic() < deadline and core.poll() is None:
            try:
                patients.step()
            except ControlError:
                pass  # the control socket is not up yet
        assert patients.done(), f"calls: {patients.calls}\ncore log:\n{tail(log, 60)}"
        store = Store.open(cfg.db_path, cfg.paths.key_file)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            open_attempts = store.query_one("SELECT count(*) FROM reminder_attempts WHERE state != 'finished'")
            if open_attempts is not None and open_attempts[0] == 0:
                break
            time.sleep(0.2)
        outcomes = {
            str(r[0]): (str(r[1]), str(r[2]), str(r[3]) if r[3] else "")
            for r in store.query(
                "SELECT ph.e164, ra.outcome, a.status, a.status_changed_by FROM reminder_attempts ra"
                " JOIN reminders r ON r.id = ra.reminder_id JOIN appointments a ON a.id = r.appointment_id"
                " JOIN patient_phones ph ON ph.patient_id = a.patient_id"
            )
        }
        linked = store.query_one(
            "SELECT count(*) FROM calls WHERE purpose = 'reminder' AND reminder_attempt_id IS NOT NULL"
        )
        store.close()
    finally:
        core.terminate()
        try:
            core.wait(timeout=20)
        except subprocess.TimeoutExpired:
            core.kill()
            core.wait()
    assert outcomes == {
        "+12125550701": ("confirmed", "confirmed", "reminders"),
        "+12125550702": ("cancelled", "cancelled", "reminders"),  # a freed slot in the web UI
        "+12125550703": ("desk", "booked", ""),
        "+12125550704": ("voicemail", "booked", ""),
    }, tail(log, 60)
    assert patients.queued and patients.queued[0]["priority"] == cfg.reminders.desk_priority  # ahead of callers
    machine = next(c for c in patients.calls.values() if not c["choice"])
    assert machine["heard"] >= 3.0  # it heard the greeting twice and the message
    assert linked is not None and linked[0] == 4
