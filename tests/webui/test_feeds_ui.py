"""The worklist, the feed page, the dashboard's feed figures and a navigation bar that fits,
in a real browser against the real web process (a fake core on the control socket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.clock import SystemClock
from appliance.feeds.intake import Intake
from appliance.store import Store
from appliance.store.repos import make_repos
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web
from tests.webui.fakecore import FakeCore

pytestmark = pytest.mark.timeout(180)
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hl7"


@pytest.fixture(scope="module")
def fed() -> Iterator[Clinic]:
    c = make_clinic()
    store = Store.open(
        c.cfg.db_path, c.cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=c.cfg.media_dir
    )
    repos = make_repos(c.cfg, store)
    intake = Intake(c.cfg, repos, store.clock)
    for name in ("s12_pl_cr.hl7", "s12_ko_lf.hl7", "bad_status.hl7"):
        intake.handle((CORPUS / name).read_bytes())
    aid = store.query_tuples("SELECT id FROM appointments WHERE filler_id = 'F1001'")[0][0]
    repos.appointments.set_status(aid, "cancelled", "reminder:sms")  # the patient cancelled by SMS
    store.close()
    c.core = FakeCore(
        c.cfg.control_socket,
        stations={sid: st.name for sid, st in c.cfg.stations.items()},
        queues={qid: q.name for qid, q in c.cfg.queues.items()},
    ).start()
    start_web(c)
    yield c
    stop_web(c)
    c.core.stop()
    remove_clinic(c)


def test_the_front_desk_ticks_a_worklist_item_done(page, fed: Clinic) -> None:
    login(page, fed, "frontdesk")
    page.goto(fed.base_url + "/worklist")
    row = page.locator("[data-testid=worklist-row]")
    assert row.count() == 1
    assert "Cancel the visit" in row.inner_text() and "Zofia Wiśniewska" in row.inner_text()
    assert "F1001" in row.locator("[data-testid=worklist-ids]").inner_text()
    screenshot(page, "en-worklist")
    page.click("[data-testid=worklist-done]")
    page.wait_for_selector("[data-testid=worklist-empty]")
    assert "Ticked done" in page.inner_text("[data-testid=notice-ok]")
    store = Store.open(fed.cfg.db_path, fed.cfg.paths.key_file, media_dir=fed.cfg.media_dir)
    try:
        done = store.query_tuples("SELECT actor FROM audit_log WHERE action = 'worklist-done'")
        left = store.query_tuples("SELECT count(*) FROM worklist WHERE done_at IS NULL")
    finally:
        store.close()
    assert done == [("frontdesk",)] and left == [(0,)]
    page.goto(fed.base_url + "/worklist?done=1")
    assert "frontdesk" in page.inner_text("[data-testid=worklist]")


def test_the_feed_page_lists_a_refused_message_with_its_reason(page, fed: Clinic) -> None:
    login(page, fed, "manager")
    page.goto(fed.base_url + "/feeds")
    assert page.inner_text("[data-testid=feed-applied]") == "2"
    assert page.inner_text("[data-testid=feed-rejected]") == "1"
    problem = page.locator("[data-testid=feed-problem]")
    assert problem.count() == 1 and "BAD-0009" in problem.inner_text() and "SCH-25" in problem.inner_text()
    assert "unknown filler status" in problem.locator("[data-testid=feed-problem-reason]").inner_text()
    assert page.locator("[data-testid=feed-reprocess]").count() == 1
    screenshot(page, "en-feeds")


def test_the_dashboard_shows_the_feed(page, fed: Clinic) -> None:
    login(page, fed, "manager")
    page.goto(fed.base_url + "/dashboard")
    page.wait_for_selector("[data-testid=today-feed]")
    assert page.inner_text("[data-testid=kpi-feed-applied]") == "2"
    assert page.inner_text("[data-testid=kpi-feed-problems]") == "1"


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1280, 800)])
@pytest.mark.parametrize("user", ["manager", "frontdesk", "tech"])
def test_the_top_navigation_fits_every_entry_on_screen(
    browser, fed: Clinic, user: str, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    try:
        page = context.new_page()
        login(page, fed, user)
        page.goto(fed.base_url + "/dashboard")
        links = page.locator("nav.mainnav a")
        assert links.count() >= 3
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            label = links.nth(i).inner_text()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (label, box)
            assert box["y"] + box["height"] <= height / 3, (label, box)  # the bar leaves the page its room
        scroll = page.evaluate(
            "() => { const n = document.querySelector('nav.mainnav'); return n.scrollWidth - n.clientWidth; }"
        )
        assert scroll <= 0  # nothing hidden behind a horizontal scroll
        if user == "manager":
            assert page.locator("[data-testid=nav-audit]").is_visible()
            assert (
                page.locator("[data-testid=nav-worklist]").is_visible()
                and page.locator("[data-testid=nav-feeds]").is_visible()
            )
        screenshot(page, f"en-nav-{user}-{width}")
    finally:
        context.close()
