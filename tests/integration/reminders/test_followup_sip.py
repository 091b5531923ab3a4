"""No-show follow-up calls through the real core and the real switchboard (PJSUA2) to a real SIP UA.

Two voice patients missed their visits and were marked no-shows on the
box. The real core's reminder dispatcher calls each once; the scriptable
PJSUA2 user agent answers, presses 1 at the greeting, then 1 ("call me to
rebook") or 2 ("no new visit") at the follow-up's menu. Each key lands on
the front desk's worklist, and nobody is called twice.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from tests.integration.reminders.test_reminder_sip import OVERLAY, Patients
from tests.integration.sip.peers import SipUA
from tests.integration.sip.peers.common import REPO, child_env, free_port, tail

#: Two of the UA's patients (test_reminder_sip's numbers): 1 = call me to rebook, 2 = no new visit.
NO_SHOWS = {"+12125550701": "1", "+12125550702": "2"}


def clinic(folder: Path, pstn_port: int) -> Path:
    seed(
        folder, web_port=free_port(socket.SOCK_STREAM), sip_port=free_port(), rtp_port=free_port(), pstn_port=pstn_port
    )
    (folder / "settings.toml").write_text(OVERLAY + "[followup]\ndelay_min = 0\n")
    config = folder / "clinicbox.toml"
    cfg = load_config(config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
    repos = repos_with_planner(cfg, store)
    with store.transaction() as conn:
        conn.execute("DELETE FROM appointments")
    for i, number in enumerate(NO_SHOWS):
        pid = repos.patients.create(
            PatientInput(name=f"No-show {i}", phones=[number], reminder_channel="voice", language="en"), "t"
        )
        start = datetime.now(UTC) - timedelta(hours=2, minutes=i)
        aid = repos.appointments.create(
            AppointmentInput(patient_id=pid, starts_at=start, provider="Dr Lee", reason="chest pain"), "t"
        )
        repos.appointments.set_status(aid, "no-show", "frontdesk")
    store.close()
    return config


class NoShows(Patients):
    def done(self) -> bool:
        return len(self.calls) == len(NO_SHOWS) and all(c["ended"] for c in self.calls.values())


@pytest.mark.slow
def test_follow_up_calls_put_the_patients_key_on_the_worklist(tmp_path: Path) -> None:
    pstn_port = free_port()
    (tmp_path / "peers").mkdir()
    with SipUA(tmp_path / "peers", name="patients", port=pstn_port) as ua:
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
            patients = NoShows(ua, ControlClient(cfg.control_socket))
            deadline = time.monotonic() + 120
            while not patients.done() and time.monotonic() < deadline and core.poll() is None:
                try:
                    patients.step()
                except ControlError:
                    pass
            assert patients.done(), f"calls: {patients.calls}\ncore log:\n{tail(log, 60)}"
            for _ in range(20):  # a few more dispatcher ticks: nobody is called again
                patients.step(timeout=0.25)
            store = Store.open(cfg.db_path, cfg.paths.key_file)
            worklist = {
                str(r[0]): str(r[1])
                for r in store.query(
                    "SELECT ph.e164, w.detail FROM worklist w JOIN appointments a ON a.id = w.appointment_id"
                    " JOIN patient_phones ph ON ph.patient_id = a.patient_id WHERE w.action = 'rebook'"
                )
            }
            states = [tuple(r) for r in store.query("SELECT number, state FROM followups ORDER BY number")]
            traces = [
                tuple(r)
                for r in store.query(
                    "SELECT outcome, reason FROM contact_log WHERE kind = 'followup' AND appointment_id IS NOT NULL"
                )
            ]
            store.close()
        finally:
            core.terminate()
            try:
                core.wait(timeout=20)
            except subprocess.TimeoutExpired:
                core.kill()
                core.wait()
    assert worklist == {
        "+12125550701": "pressed 1 on the follow-up call: please call to book a new time",
        "+12125550702": "pressed 2 on the follow-up call: does not want a new appointment",
    }, tail(log, 60)
    assert states == [("+12125550701", "sent"), ("+12125550702", "sent")]
    assert traces == [("delivered", "call"), ("delivered", "call")]
    assert len(patients.calls) == 2  # one call each
