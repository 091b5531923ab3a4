"""The no-show follow-up in a real browser: the front desk marks a missed visit, the visit's
message trace shows the follow-up's state, its answer is on the worklist; a visit still to
come is refused; the manager previews the follow-up text and finds the reason switch.

The real ``clinicbox web`` process on a demo clinic (a fake core on the control socket);
the follow-up itself is sent by the real reminder dispatcher in the test process, on the same
SQLCipher file (the core's part), with the calling windows open all day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.events import EventBus
from appliance.modem.smsservice import IncomingSms, SmsService
from appliance.reminders.followup_replies import FollowUpReplies
from appliance.reminders.service import ReminderService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import make_repos
from appliance.store.sms import SmsRepo
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web
from tests.webui.fakecore import FakeCore

pytestmark = pytest.mark.timeout(180)
MOBILE = "+13126647665"
ALL_DAY = {d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}


@dataclass
class Setup:
    clinic: Clinic
    patient: int
    missed: int
    coming: int


def open_store(c: Clinic) -> Store:
    return Store.open(
        c.cfg.db_path, c.cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=c.cfg.media_dir
    )


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    c = make_clinic()
    store = open_store(c)
    repos = make_repos(c.cfg, store)
    pid = repos.patients.create(
        PatientInput(name="Dana Followup", phones=[MOBILE], reminder_channel="sms", language="en"), "test"
    )
    now = store.clock.now().replace(second=0, microsecond=0)
    missed = repos.appointments.create(
        AppointmentInput(patient_id=pid, starts_at=now - timedelta(hours=2), reason="knee pain"), "test"
    )
    coming = repos.appointments.create(
        AppointmentInput(patient_id=pid, starts_at=now + timedelta(days=3), reason="knee pain"), "test"
    )
    store.close()
    c.core = FakeCore(
        c.cfg.control_socket,
        stations={sid: st.name for sid, st in c.cfg.stations.items()},
        queues={qid: q.name for qid, q in c.cfg.queues.items()},
    ).start()
    start_web(c)
    yield Setup(c, pid, missed, coming)
    stop_web(c)
    c.core.stop()
    remove_clinic(c)


def dispatch_followups(c: Clinic) -> None:
    """The core's part: the real reminder dispatcher sends what is due (SMS into the modem's queue)."""
    cfg = load_config(c.config_path, overrides={"reminders": {"windows": ALL_DAY}, "followup": {"delay_min": 0}})
    store = open_store(c)
    try:
        bus = EventBus()
        sms = SmsService(SmsRepo(store, store.clock), cfg.modem, store.clock, bus, region=cfg.clinic.country)
        service = ReminderService(cfg, store.clock, bus, store, None, sms=sms)
        service.dispatcher.recover()
        service.dispatcher.tick()
    finally:
        store.close()


def patient_replies(c: Clinic, text: str) -> None:
    store = open_store(c)
    try:
        sms_id, _ = SmsRepo(store, store.clock).insert_incoming(
            MOBILE, text, 1, "gsm7", "received", store.clock.now(), None
        )
        hook = FollowUpReplies(c.cfg, store.clock, store, make_repos(c.cfg, store).audit)
        assert hook(IncomingSms(sms_id, MOBILE, text, store.clock.now(), False, None)) == "followup"
    finally:
        store.close()


def visit_row(page, appointment_id: int):  # type: ignore[no-untyped-def]
    return page.locator("[data-testid=patient-appointments] tr", has=page.locator(f"#st-{appointment_id}"))


def test_the_front_desk_marks_a_no_show_and_follows_it_to_the_worklist(page, setup: Setup) -> None:
    c = setup.clinic
    login(page, c, "frontdesk")
    page.goto(f"{c.base_url}/patients/{setup.patient}")
    row = visit_row(page, setup.missed)
    row.locator("[data-testid=appointment-status]").select_option("no-show")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=notice-ok]")
    row = visit_row(page, setup.missed)
    trace = row.locator("[data-testid=appointment-texts]").inner_text()
    assert "No-show follow-up" in trace and "planned" in trace
    assert "No-show" in row.inner_text()

    dispatch_followups(c)
    page.reload()
    row = visit_row(page, setup.missed)
    line = row.locator("[data-testid=appointment-texts] .trace")
    assert line.count() == 1
    assert line.get_attribute("data-outcome") == "queued"
    assert "No-show follow-up: queued" in line.inner_text()
    screenshot(page, "en-noshow-trace")

    # Marked again by mistake: the page says saved, and still one follow-up line.
    row.locator("[data-testid=appointment-status]").select_option("booked")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=notice-ok]")
    row = visit_row(page, setup.missed)
    row.locator("[data-testid=appointment-status]").select_option("no-show")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=notice-ok]")
    dispatch_followups(c)
    page.reload()
    assert visit_row(page, setup.missed).locator("[data-testid=appointment-texts] .trace").count() == 1

    patient_replies(c, "yes please")
    page.goto(c.base_url + "/worklist")
    item = page.locator("[data-testid=worklist-row]", has_text="Dana Followup")
    assert item.count() == 1
    assert "Call the patient to book a new visit" in item.locator("[data-testid=worklist-action]").inner_text()
    assert '"yes please"' in item.locator("[data-testid=worklist-detail]").inner_text()
    screenshot(page, "en-noshow-worklist")


def test_a_visit_still_to_come_cannot_be_marked_a_no_show(page, setup: Setup) -> None:
    c = setup.clinic
    login(page, c, "manager")
    page.goto(f"{c.base_url}/patients/{setup.patient}")
    row = visit_row(page, setup.coming)
    row.locator("[data-testid=appointment-status]").select_option("no-show")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=notice-error]")
    assert "has not started yet" in page.inner_text("[data-testid=notice-error]")
    row = visit_row(page, setup.coming)
    assert "No-show" not in row.locator(".tag").inner_text()
    assert row.locator("[data-testid=appointment-texts] .trace").count() == 0


def test_the_manager_previews_the_follow_up_text_and_finds_the_reason_switch(page, setup: Setup) -> None:
    c = setup.clinic
    login(page, c, "manager")
    page.goto(c.base_url + "/settings")
    page.click("[data-testid=settings-followup-texts]")
    rows = page.locator("[data-testid=followup-row]")
    assert rows.count() == len(c.cfg.clinic.languages)
    en = page.locator("[data-testid=followup-row][data-language=en]")
    assert "Reply YES" in en.locator("[data-testid=followup-preview]").inner_text()
    assert "GSM-7" in en.locator("[data-testid=followup-length]").inner_text()
    assert "knee" not in page.inner_text("body")
    ko = page.locator("[data-testid=followup-row][data-language=ko]")
    ko.locator("textarea").fill(
        "{clinic}: {date} {time} 예약에 오지 않으셨습니다. 새 예약을 원하시면 네 라고 답장해 주세요."
    )
    page.click("[data-testid=followup-preview-button]")
    ko = page.locator("[data-testid=followup-row][data-language=ko]")
    assert "UCS-2" in ko.locator("[data-testid=followup-length]").inner_text()
    screenshot(page, "en-noshow-texts")
    page.goto(c.base_url + "/settings")
    page.click("[data-testid=settings-contact]")
    switch = page.locator("input[type=checkbox][name$=include_reason]")
    assert switch.count() == 1 and not switch.is_checked()  # off unless the clinic turns it on
    assert "Texts name the reason for the visit" in page.inner_text("[data-testid=settings-form]")
    switch.check()
    page.click("[data-testid=settings-save]")
    page.wait_for_selector("[data-testid=notice-ok]")
    assert page.locator("input[type=checkbox][name$=include_reason]").is_checked()
    assert load_config(c.config_path).contact.include_reason is True  # saved to the settings the box loads
    page.goto(f"{c.base_url}/patients/{setup.patient}")
    assert "named in texts" in page.inner_text("label[for=a-reason]")  # the booking form says what now happens
