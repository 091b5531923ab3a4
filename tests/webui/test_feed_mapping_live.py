"""A manager fixes a practice system's HL7 mapping in the browser and the real core uses it.

The demo clinic's real core (``python -m appliance run``, its HL7 listener on
127.0.0.1), the real web process, Chromium, and Debian's ``mllp_send`` as the
practice system; what happened is read back from the core's own SQLCipher store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.config import load_config
from tests.integration.feeds.test_feed_real_core import send
from tests.integration.switchboard.box import Box
from tests.webui.conftest import Clinic, demo_logins, login, screenshot, start_web, stop_web

pytestmark = pytest.mark.timeout(240)
VISIT = (datetime.now(UTC) + timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Box, Clinic]]:
    box = Box(tmp_path_factory.mktemp("feedmap") / "clinic")
    clinic = Clinic(box.dir, box.config, load_config(box.config), demo_logins(box.dir, box.manager_password))
    try:
        start_web(clinic)
        yield box, clinic
    finally:
        stop_web(clinic)
        box.stop()


def message(tmp: Path, sender: str, control: str, filler: str, *, status: str = "", mrn: str = "") -> Path:
    """An SIU S12 whose start (SCH-11.4) has no UTC offset and which gives no duration."""
    path = tmp / f"{control}.hl7"
    path.write_text(
        "\r".join(
            [
                f"MSH|^~\\&|{sender}|MAIN|CLINICBOX|CLINIC|20261206090000||SIU^S12|{control}|P|2.5.1",
                f"SCH|P-{filler}|{filler}|||||||||^^^{VISIT:%Y%m%d%H%M}" + "|" * 14 + status,
                f"PID|1||{mrn or 'MRN-' + filler}^^^{sender}^MR||Kowalska^Anna||19800101|F|||||"
                "^PRN^CP^^^^^^^^^+48601200300||||pl",
            ]
        ),
        encoding="utf-8",
    )
    return path


def visit(box: Box, filler: str) -> tuple[str, str, str]:
    rows = box.query("SELECT starts_at, ends_at, status FROM appointments WHERE filler_id = ?", (filler,))
    assert len(rows) == 1, rows
    return rows[0]


def at(zone: str, minutes: int = 0) -> str:
    moment = VISIT.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_sender_mapping_added_in_the_browser_is_applied_to_the_next_message(
    live: tuple[Box, Clinic], page, tmp_path: Path
) -> None:
    box, clinic = live
    # Before: LABSYS uses the defaults (the clinic's zone, 15 minutes).
    assert send(box, message(tmp_path, "LABSYS", "LAB-0001", "FL1"))[0][:2] == ("AA", "LAB-0001")
    assert visit(box, "FL1") == (at("America/New_York"), at("America/New_York", 15), "booked")

    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/settings")
    page.click("[data-testid=settings-hl7-senders]")
    page.fill("[data-testid=hl7-sender-new]", "LABSYS")
    page.click("[data-testid=hl7-sender-add]")
    page.wait_for_selector("[data-testid=hl7-sender-unsaved]")
    page.fill("#f-timezone", "Asia/Seoul")
    page.fill("#f-default_duration_min", "40")
    screenshot(page, "en-hl7-sender-new")
    page.click("[data-testid=settings-save]")
    notice = page.inner_text("[data-testid=notice-ok]")
    assert "Applied now" in notice and "feeds.hl7.senders" in notice, notice
    page.goto(clinic.base_url + "/settings/hl7-senders")
    assert "default_duration_min, timezone" in page.inner_text("[data-testid=hl7-sender][data-sender=LABSYS]")

    # After: the core applies LABSYS's own zone and duration; the earlier visit is untouched.
    assert send(box, message(tmp_path, "LABSYS", "LAB-0002", "FL2"))[0][:2] == ("AA", "LAB-0002")
    assert visit(box, "FL2") == (at("Asia/Seoul"), at("Asia/Seoul", 40), "booked")
    assert visit(box, "FL1") == (at("America/New_York"), at("America/New_York", 15), "booked")
    # Another sender still gets the defaults.
    assert send(box, message(tmp_path, "OTHERSYS", "OTH-0001", "FO1"))[0][0] == "AA"
    assert visit(box, "FO1")[0] == at("America/New_York")
    audit = box.query("SELECT actor, object_id FROM audit_log WHERE action = 'settings'")
    assert ("manager", "feeds.hl7.senders.LABSYS") in audit


def test_a_refused_message_is_reprocessed_in_the_browser_after_the_mapping_is_fixed(
    live: tuple[Box, Clinic], page, tmp_path: Path
) -> None:
    box, clinic = live
    code, control, reason = send(box, message(tmp_path, "MEDREC", "MR-0777", "FM7", status="Teleported"))[0]
    assert (code, control) == ("AE", "MR-0777") and "unknown filler status" in reason
    assert box.query("SELECT count(*) FROM appointments WHERE filler_id = 'FM7'") == [(0,)]

    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/feeds")
    row = page.locator("[data-testid=feed-problem]", has_text="MR-0777")
    assert "unknown filler status" in row.inner_text()
    # Re-processed before the fix: still refused, nothing booked, the page says where.
    row.locator("[data-testid=feed-reprocess]").click()
    assert "Still refused at SCH-25" in page.inner_text("[data-testid=notice-error]")
    assert box.query("SELECT count(*) FROM appointments WHERE filler_id = 'FM7'") == [(0,)]

    page.click("[data-testid=feed-senders-link]")
    page.fill("[data-testid=hl7-sender-new]", "MEDREC")
    page.click("[data-testid=hl7-sender-add]")
    page.fill("#f-statuses", "Teleported = booked")
    page.click("[data-testid=settings-save]")
    assert "Applied now" in page.inner_text("[data-testid=notice-ok]")

    page.goto(clinic.base_url + "/feeds")
    page.locator("[data-testid=feed-problem]", has_text="MR-0777").locator("[data-testid=feed-reprocess]").click()
    assert "Re-processed: applied" in page.inner_text("[data-testid=notice-ok]")
    assert page.locator("[data-testid=feed-problem]", has_text="MR-0777").count() == 0
    screenshot(page, "en-feeds-reprocessed")
    assert visit(box, "FM7") == (at("America/New_York"), at("America/New_York", 15), "booked")
    assert box.query("SELECT actor FROM audit_log WHERE action = 'feed-reprocess'") == [("manager",), ("manager",)]
    pending = box.query(
        "SELECT count(*) FROM reminders r JOIN appointments a ON a.id = r.appointment_id"
        " WHERE a.filler_id = 'FM7' AND r.status = 'pending'"
    )
    assert pending != [(0,)], "the re-processed visit has its reminders planned"
