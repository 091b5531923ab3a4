"""The Waitlist page in real Chromium on the real web process (the demo clinic's store):
the desk adds a patient (a bad time is refused with the field named), edits and removes
entries, sees the offers the offer engine sent and their state; the manager previews the
offer text per language with its SMS length; the wallboard's "Today" and the report show
offers, fills and the fill rate. Screenshots under tests/output/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from appliance.config import load_config
from appliance.events import EventBus
from appliance.events.notifiers import WaitlistNotifier
from appliance.modem.smsservice import IncomingSms, SmsService
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.repos import make_repos
from appliance.store.sms import SmsRepo
from appliance.waitlist.answers import OfferReplies
from appliance.waitlist.engine import OfferEngine
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web
from tests.webui.fakecore import FakeCore

pytestmark = pytest.mark.timeout(240)
ALWAYS = {d: ["00:00-24:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
WAITER, OWNER = "+12125550181", "+12125550182"


@pytest.fixture(scope="module")
def clinic() -> Iterator[Clinic]:
    c = make_clinic()
    with open(c.config_path, "a", encoding="utf-8") as f:
        f.write("\n[waitlist]\nenabled = true\n")
    c.cfg = load_config(c.config_path)
    store = Store.open(c.cfg.db_path, c.cfg.paths.key_file, media_dir=c.cfg.media_dir)
    try:
        repos = make_repos(c.cfg, store)
        repos.patients.create(PatientInput(name="Wanda Waitlist", phones=[WAITER], language="ko"), "test")
        owner = repos.patients.create(PatientInput(name="Oscar Owner", phones=[OWNER], language="en"), "test")
        start = store.clock.now().replace(second=0, microsecond=0) + timedelta(days=2)
        repos.appointments.create(AppointmentInput(owner, start, provider="Dr Rivera"), "test")
    finally:
        store.close()
    c.core = FakeCore(c.cfg.control_socket, stations={}, queues={}).start()
    start_web(c)
    yield c
    stop_web(c)
    c.core.stop()
    remove_clinic(c)


def _engine(clinic: Clinic) -> tuple[Store, OfferEngine, OfferReplies]:
    """The core's offer engine and reply hook on the clinic's store (the SMS queue without a modem)."""
    cfg = load_config(clinic.config_path, overrides={"reminders": {"windows": ALWAYS}})
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    bus = EventBus()
    sms = SmsService(SmsRepo(store, store.clock), cfg.modem, store.clock, bus, region=cfg.clinic.country)
    repos = make_repos(cfg, store)
    notify = WaitlistNotifier(bus.emit)
    return (
        store,
        OfferEngine(cfg, store.clock, store, sms, notify),
        OfferReplies(cfg, store.clock, store, repos.appointments, sms, notify, lambda: None),
    )


def test_the_desk_fills_a_freed_slot_from_the_waitlist_page(page, clinic: Clinic) -> None:
    login(page, clinic, "frontdesk")
    page.click("[data-testid=nav-waitlist]")
    page.fill("[data-testid=waitlist-search-input]", "Wanda")
    page.press("[data-testid=waitlist-search-input]", "Enter")
    page.click("[data-testid=waitlist-add]")
    page.check("[data-testid=waitlist-range]")
    page.fill("[data-testid=waitlist-from-time]", "25:00")
    page.click("[data-testid=waitlist-save]")
    assert "from_time: not a time" in page.inner_text("[data-testid=waitlist-error]")
    page.fill("[data-testid=waitlist-from-time]", "")
    page.check("[data-testid=waitlist-earliest]")
    page.click("[data-testid=waitlist-save]")
    entry = page.locator("[data-testid=waitlist-entry]", has_text="Wanda Waitlist")
    assert "Earliest possible" in entry.inner_text()
    entry.locator("[data-testid=waitlist-edit]").click()
    page.fill("[data-testid=waitlist-provider]", "Dr Rivera")
    page.click("[data-testid=waitlist-save]")
    assert "Dr Rivera" in page.locator("[data-testid=waitlist-entry]", has_text="Wanda").inner_text()

    # Oscar's visit is cancelled on the schedule; the core's engine offers it to Wanda.
    store, engine, replies = _engine(clinic)
    try:
        (oscar,) = [r[0] for r in store.query("SELECT id FROM patients WHERE display_name = 'Oscar Owner'")]
        (visit,) = [r[0] for r in store.query("SELECT id FROM appointments WHERE patient_id = ?", (oscar,))]
        make_repos(load_config(clinic.config_path), store).appointments.set_status(visit, "cancelled", "frontdesk")
        assert engine.scan() == 1
        page.reload()
        offer = page.locator("[data-testid=waitlist-offer]")
        assert offer.get_attribute("data-state") == "offered"
        assert "Wanda Waitlist" in offer.inner_text() and "waiting for the answer" in offer.inner_text()
        screenshot(page, "en-waitlist-offered")
        sms_id, _ = SmsRepo(store, store.clock).insert_incoming(
            WAITER, "네", 1, "ucs2", "received", store.clock.now(), None
        )
        assert replies(IncomingSms(sms_id, WAITER, "네", store.clock.now(), False, None)) == "waitlist"
    finally:
        store.close()
    page.reload()
    assert page.locator("[data-testid=waitlist-offer]").get_attribute("data-state") == "accepted"
    assert page.locator("[data-testid=waitlist-entry]").count() == 0  # booked: off the waiting list
    page.click("[data-testid=nav-worklist]")
    assert "Book the visit (filled from the waitlist)" in page.inner_text("[data-testid=worklist]")
    page.click("[data-testid=nav-wallboard]")
    page.wait_for_selector("[data-testid=kpi-waitlist-filled]")
    assert page.inner_text("[data-testid=kpi-waitlist-offers]").strip() == "1"
    assert page.inner_text("[data-testid=kpi-fill-rate]").strip() == "100%"
    screenshot(page, "en-wallboard-waitlist")


def test_the_manager_previews_the_offer_text_per_language_with_its_length(page, clinic: Clinic) -> None:
    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/waitlist")
    page.click("[data-testid=waitlist-texts-link]")
    rows = page.locator("[data-testid=waitlist-text-row]")
    assert rows.count() == 6
    en = page.locator("[data-testid=waitlist-text-row][data-language=en]")
    assert (
        "Riverside Community Clinic: a visit is free on"
        in en.locator("[data-testid=waitlist-text-preview]").inner_text()
    )
    assert "GSM-7, 1 SMS" in en.locator("[data-testid=waitlist-text-length]").inner_text()
    ko = page.locator("[data-testid=waitlist-text-row][data-language=ko]")
    assert "UCS-2" in ko.locator("[data-testid=waitlist-text-length]").inner_text()
    page.fill("#waitlist-text-en", "{clinic}: free slot {date} {time}. Reply YES in {minutes} min.")
    page.click("[data-testid=waitlist-text-preview-button]")
    preview = page.locator("[data-testid=waitlist-text-row][data-language=en] [data-testid=waitlist-text-preview]")
    assert preview.inner_text().startswith("Riverside Community Clinic: free slot")
    assert "in 15 min." in preview.inner_text()
    page.fill("#waitlist-text-en", "{clinic}: {doctor}")
    page.click("[data-testid=waitlist-text-preview-button]")
    assert "may be filled in" in page.inner_text("[data-testid=waitlist-text-row][data-language=en]")
    screenshot(page, "en-waitlist-offer-text")
    page.goto(clinic.base_url + "/reports")
    assert page.locator("[data-testid=kpi-fill-rate]").count() == 1
