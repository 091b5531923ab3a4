"""The web UI in a real browser (chromium) against the real ``clinicbox web``
process, with the FakeCore test double standing in for the core."""

from __future__ import annotations

import time

import pytest

from appliance.store import Store
from appliance.store.repos import make_repos
from tests.webui.conftest import Clinic, login, screenshot

pytestmark = pytest.mark.timeout(120)


def patient_with_number(clinic: Clinic) -> tuple[int, str, str]:
    store = Store.open(clinic.cfg.db_path, clinic.cfg.paths.key_file, media_dir=clinic.cfg.media_dir)
    try:
        row = store.query_one(
            "SELECT p.id, p.display_name, ph.e164 FROM patients p JOIN patient_phones ph ON ph.patient_id = p.id"
            " WHERE p.language = 'pl' ORDER BY p.id LIMIT 1"
        )
        return int(row[0]), str(row[1]), str(row[2])
    finally:
        store.close()


def test_login_shows_the_dashboard_with_live_line_status(page, clinic: Clinic) -> None:
    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/dashboard")
    page.wait_for_selector("[data-testid=trunk-state]:has-text('Connected')")
    assert page.get_attribute("[data-testid=core-banner]", "data-core") == "up"
    assert page.get_attribute("[data-testid=modem-bars]", "data-bars") == "4"
    screenshot(page, "dashboard")


def test_wrong_password_is_refused_with_a_clear_message(page, clinic: Clinic) -> None:
    page.goto(clinic.base_url + "/login")
    page.fill("#username", "tech")
    page.fill("#password", "not the password")
    page.click("[data-testid=login-submit]")
    assert "Wrong user name or password" in page.inner_text("[data-testid=login-error]")


@pytest.mark.serial
def test_wallboard_updates_within_a_second_without_reloading(page, clinic: Clinic) -> None:
    assert clinic.core is not None
    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/wallboard")
    page.wait_for_selector("[data-testid=queue-front-desk]")
    page.evaluate("window.__notReloaded = true")
    assert page.inner_text("[data-testid=queue-waiting-front-desk]") == "0"
    started = time.monotonic()
    clinic.core.add_waiting("front-desk", "call-wb-1", "+12125550199", wait_s=42)
    page.wait_for_selector("[data-testid=queue-waiting-front-desk]:has-text('1')", timeout=1500)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the wallboard took {elapsed:.2f} s"
    assert page.evaluate("window.__notReloaded") is True
    caller = page.inner_text("[data-testid=queue-front-desk] .caller")
    assert caller.endswith("199") and "555" not in caller, "a wallboard masks caller numbers"
    screenshot(page, "wallboard")
    clinic.core.remove_waiting("call-wb-1")
    page.wait_for_selector("[data-testid=queue-waiting-front-desk]:has-text('0')", timeout=1500)


def test_front_desk_is_refused_the_settings_page(page, clinic: Clinic) -> None:
    login(page, clinic, "frontdesk")
    assert page.locator("[data-testid=nav-index]").count() == 0
    response = page.goto(clinic.base_url + "/settings")
    assert response.status == 403
    assert page.locator("[data-testid=error-403]").is_visible()
    for path in ("/users", "/audit", "/settings/section/trunk"):
        assert page.goto(clinic.base_url + path).status == 403


def test_a_patient_named_like_a_script_renders_as_text(page, clinic: Clinic) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, clinic, "frontdesk")
    page.goto(clinic.base_url + "/patients/new")
    page.fill("#given_name", "<script>alert(1)</script>")
    page.fill("#family_name", "<img src=x onerror=alert(2)>")
    page.fill("#date_of_birth", "1980-05-04")
    page.fill("#phones", "+1 212 555 0177")
    page.click("[data-testid=patient-save]")
    heading = page.inner_text("[data-testid=patient-display-name]")
    assert heading == "<script>alert(1)</script> <img src=x onerror=alert(2)>"
    page.goto(clinic.base_url + "/patients?q=script")
    assert "<script>alert(1)</script>" in page.inner_text("[data-testid=patient-results]")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0


def test_csv_import_with_a_bad_row_shows_the_row_report_and_imports_nothing(page, clinic: Clinic, tmp_path) -> None:
    csv = tmp_path / "patients.csv"
    csv.write_text(
        "family_name;given_name;dob;phone;language\n"
        "Importowa;Anna;1970-01-02;+48 601 234 567;pl\n"
        "Broken;Row;1970-13-45;+48 601 234 568;pl\n"
        "Dobra;Ewa;1985-06-07;+48 601 234 569;pl\n",
        encoding="utf-8",
    )
    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/import")
    page.set_input_files("[data-testid=import-file]", str(csv))
    page.click("[data-testid=import-submit]")
    rows = page.locator("[data-testid=import-row-error]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-line") == "3"
    assert "date_of_birth" in rows.first.inner_text()
    assert "Nothing was imported" in page.inner_text("[data-testid=import-error]")
    screenshot(page, "import-report")
    page.goto(clinic.base_url + "/patients?q=Importowa")
    assert page.locator("[data-testid=patient-no-results]").is_visible()
    # Skipping the bad row imports the two good ones.
    page.goto(clinic.base_url + "/import")
    page.set_input_files("[data-testid=import-file]", str(csv))
    page.check("[data-testid=import-skip-bad]")
    page.click("[data-testid=import-submit]")
    assert "2 added" in page.inner_text("[data-testid=import-summary]")


def test_console_screen_pop_answer_and_hang_up(page, clinic: Clinic) -> None:
    assert clinic.core is not None
    pid, name, number = patient_with_number(clinic)
    login(page, clinic, "frontdesk")
    page.goto(clinic.base_url + "/console")
    page.wait_for_selector("[data-testid=agent-state][data-state=logged-out]")
    page.click("[data-testid=btn-login]")
    page.wait_for_selector("[data-testid=agent-state][data-state=available]")
    clinic.core.ring("desk1", "call-pop-1", number)
    page.wait_for_selector("[data-testid=agent-state][data-state=ringing]")
    card = page.wait_for_selector(f"[data-testid=pop-card][data-patient-id='{pid}']")
    assert card.query_selector("[data-testid=pop-name]").inner_text() == name
    screenshot(page, "console-screen-pop")
    page.keyboard.press("a")  # keyboard shortcut: answer
    page.wait_for_selector("[data-testid=agent-state][data-state=on-call]")
    assert clinic.core.received("call.answer") == [{"station": "desk1"}]
    page.fill("[data-testid=wrapup-note]", "Asked to move the visit")
    page.click("[data-testid=btn-note-save]")
    page.wait_for_selector("[data-testid=console-message]:has-text('Saved')")
    assert clinic.core.received("call.note")[-1] == {"call_id": "call-pop-1", "note": "Asked to move the visit"}
    page.keyboard.press("x")  # hang up
    page.wait_for_selector("[data-testid=agent-state][data-state=wrap-up]")
    page.click("[data-testid=btn-wrapup-done]")
    page.wait_for_selector("[data-testid=agent-state][data-state=available]")
    assert clinic.core.received("call.wrapup_done")[-1]["station"] == "desk1"
    # The card view was audited.
    store = Store.open(clinic.cfg.db_path, clinic.cfg.paths.key_file, media_dir=clinic.cfg.media_dir)
    try:
        entries = make_repos(clinic.cfg, store).audit.search(action="screen-pop", object_id=str(pid))
        assert entries and entries[0].actor == "frontdesk"
    finally:
        store.close()
