"""The agent console against the real core: a patient's call rings a real
station, the screen pop shows that patient, the agent answers and hangs up
in Chromium. Real core (PJSUA2), real station program, real PJSUA2 caller,
real web process, real browser."""

from __future__ import annotations

from pathlib import Path

from appliance.config import load_config
from appliance.store.audit import AuditLog
from tests.integration.switchboard.conftest import DESKS, box, peer_dir, sipua, station_proc  # noqa: F401
from tests.webui.conftest import Clinic, demo_logins, login, screenshot, start_web, stop_web

PATIENT_NUMBER = "+12125550001"


def test_a_call_rings_the_console_pops_the_patient_and_is_answered_there(box, sipua, station_proc, page) -> None:  # noqa: F811
    b = box(stations={"desk1": DESKS["desk1"]})  # manual answer: the agent accepts in the console
    station_proc(b.config, station="desk1", core=b.core)
    b.wait_agent("desk1", "available")
    password = (b.dir / "first-login.txt").read_text().splitlines()[1].split(": ", 1)[1]
    clinic = Clinic(Path(b.dir), b.config, load_config(b.config), demo_logins(Path(b.dir), password))
    start_web(clinic)
    try:
        patient = b.query(
            "SELECT p.id, p.display_name FROM patients p JOIN patient_phones ph ON ph.patient_id = p.id WHERE ph.e164 = ?",
            (PATIENT_NUMBER,),
        )[0]
        login(page, clinic, "frontdesk")  # seeded with station desk1
        page.goto(clinic.base_url + "/console")
        page.wait_for_selector("#agent-state[data-state=available]")
        caller = sipua(name="patient")
        cid = caller.call(b.uri, from_user=PATIENT_NUMBER)
        caller.wait_state("CONFIRMED", cid)
        caller.dtmf("0", cid)  # the front desk
        page.wait_for_selector("#agent-state[data-state=ringing]", timeout=20000)
        card = page.wait_for_selector(f"[data-testid=pop-card][data-patient-id='{patient[0]}']", timeout=10000)
        assert patient[1] in card.inner_text()
        screenshot(page, "console-live-ringing")
        page.click("[data-testid=btn-answer]")
        b.wait_agent("desk1", "on-call", timeout=10)
        page.wait_for_selector("#agent-state[data-state=on-call]", timeout=10000)
        page.click("[data-testid=btn-hangup]")
        caller.wait_state("DISCONNECTED", cid, timeout=10)
        rec = b.call_record(lambda r: r.caller == PATIENT_NUMBER)
        assert (rec.disposition, rec.agent, rec.hangup_by) == ("answered", "desk1", "agent")
        views = AuditLog(b.store).search(actor="frontdesk", object_type="patient", object_id=str(patient[0]))
        assert views, "the screen pop of a patient's card must be audited"
    finally:
        stop_web(clinic)
