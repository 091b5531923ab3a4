"""Every main screen in a real browser with a busy day's data: it renders,
without script errors, in several languages (CJK included); screenshots
are saved under tests/output/screenshots/. Also: voicemail plays in the
browser, and the console says clearly when the core is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from appliance.store import Store
from appliance.store.repos import make_repos
from tests.webui import data
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web
from tests.webui.fakecore import FakeCore

pytestmark = pytest.mark.timeout(180)

SCREENS = [
    ("/dashboard", "live-root"),
    ("/wallboard", "live-root"),
    ("/callbacks", "callbacks"),
    ("/patients?q=a", "patient-results"),
    ("/patients/13", "patient-display-name"),
    ("/schedule?view=week", "schedule"),
    ("/calls", "call-log"),
    ("/voicemail", "voicemail-list"),
    ("/reminders", "reminder-rates"),
    ("/reports?preset=30d", "heatmap"),
    ("/settings", "settings-sections"),
    ("/settings/ivr", "ivr-tree"),
    ("/settings/section/hours", "settings-form"),
    ("/settings/secrets", "secrets"),
    ("/settings/textback-texts", "textback-form"),
    ("/waitlist", "waitlist-search"),
    ("/waitlist/texts", "waitlist-text-form"),
    ("/settings/section/waitlist", "settings-form"),
    ("/users", "users"),
    ("/audit", "audit-entries"),
    ("/diagnostics", "run-doctor"),
]


@pytest.fixture(scope="module")
def busy() -> Iterator[Clinic]:
    c = make_clinic()
    store = Store.open(c.cfg.db_path, c.cfg.paths.key_file, media_dir=c.cfg.media_dir)
    repos = make_repos(c.cfg, store)
    now = datetime.now(UTC)
    data.add_calls(repos, now)
    data.add_callbacks(repos, now)
    data.add_voicemail(repos, now)
    data.add_reminders(repos, now)
    store.close()
    c.core = FakeCore(
        c.cfg.control_socket,
        stations={sid: st.name for sid, st in c.cfg.stations.items()},
        queues={qid: q.name for qid, q in c.cfg.queues.items()},
    ).start()
    c.core.add_waiting("front-desk", "w1", "+12125550104", wait_s=75)
    c.core.add_waiting("appointments", "w2", "+48601234567", wait_s=12, virtual=True)
    c.core.set_agent("desk2", state="on-call", call_id="t1", caller="+12125550107", queue="front-desk")
    start_web(c)
    yield c
    stop_web(c)
    c.core.stop()
    remove_clinic(c)


def set_language(clinic: Clinic, username: str, lang: str) -> None:
    store = Store.open(clinic.cfg.db_path, clinic.cfg.paths.key_file, media_dir=clinic.cfg.media_dir)
    try:
        make_repos(clinic.cfg, store).users.update(username, "test", language=lang)
    finally:
        store.close()


@pytest.mark.parametrize(("path", "testid"), SCREENS)
def test_main_screens_render_for_a_manager(page, busy: Clinic, path: str, testid: str) -> None:
    login(page, busy, "manager")
    response = page.goto(busy.base_url + path)
    assert response.status == 200
    page.wait_for_selector(f"[data-testid={testid}]")
    if path in ("/dashboard", "/wallboard"):
        page.wait_for_selector("[data-testid=queue-waiting-front-desk]:has-text('1')")
    if path.startswith("/reports"):
        assert page.locator("#heatmap svg rect").count() == 7 * 24
    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
    screenshot(page, f"en-{name}")


@pytest.mark.parametrize(
    ("lang", "path", "word"),
    [
        ("ko", "/dashboard", "대기 중인 발신자"),
        ("zh", "/reports?preset=30d", "来电高峰时段"),
        ("zh", "/patients/31", "预约挂号"),
        ("pl", "/schedule?view=week", "Terminarz"),
        ("tr", "/voicemail", "Sesli mesaj"),
        ("es", "/callbacks", "Devoluciones de llamada"),
    ],
)
def test_screens_in_other_languages_render_their_script(page, busy: Clinic, lang: str, path: str, word: str) -> None:
    set_language(busy, "manager", lang)
    try:
        login(page, busy, "manager")
        page.goto(busy.base_url + path)
        assert word in page.inner_text("main")
        if lang in ("ko", "zh"):
            # The CJK text is laid out with a real font (not zero-width boxes).
            width = page.evaluate("() => document.querySelector('main h1').getBoundingClientRect().width")
            assert width > 40
        screenshot(page, f"{lang}-{path.strip('/').split('?')[0].replace('/', '-')}")
    finally:
        set_language(busy, "manager", "en")


def test_voicemail_plays_in_the_browser(page, busy: Clinic) -> None:
    login(page, busy, "frontdesk")
    page.goto(busy.base_url + "/voicemail")
    audio = page.locator("[data-testid=voicemail-audio]").first
    duration = audio.evaluate(
        """el => new Promise((resolve, reject) => {
            el.addEventListener('loadedmetadata', () => resolve(el.duration));
            el.addEventListener('error', () => reject(new Error('audio error ' + (el.error && el.error.code))));
            el.preload = 'auto'; el.load();
        })"""
    )
    assert 0.2 < duration < 5


def test_console_with_a_ringing_call_in_korean(page, busy: Clinic) -> None:
    assert busy.core is not None
    set_language(busy, "frontdesk", "ko")
    try:
        login(page, busy, "frontdesk")
        page.goto(busy.base_url + "/console")
        page.click("[data-testid=btn-login]")
        page.wait_for_selector("[data-testid=agent-state][data-state=available]")
        store = Store.open(busy.cfg.db_path, busy.cfg.paths.key_file, media_dir=busy.cfg.media_dir)
        number = store.query_one(
            "SELECT ph.e164 FROM patient_phones ph JOIN patients p ON p.id = ph.patient_id WHERE p.language = 'ko'"
        )[0]
        store.close()
        busy.core.ring("desk1", "ko-call", number, "appointments")
        page.wait_for_selector("[data-testid=pop-card]")
        assert "받기" in page.inner_text("[data-testid=btn-answer]")
        screenshot(page, "ko-console-screen-pop")
    finally:
        busy.core.set_agent("desk1", state="logged-out", call_id="", caller="", queue="")
        set_language(busy, "frontdesk", "en")


def test_the_console_says_clearly_when_the_core_is_not_running(page) -> None:
    clinic = make_clinic()  # no FakeCore: nothing listens on the control socket
    start_web(clinic)
    try:
        login(page, clinic, "frontdesk")
        page.goto(clinic.base_url + "/console")
        page.wait_for_selector("[data-testid=agent-state][data-state=core-down]")
        assert page.get_attribute("[data-testid=core-banner]", "data-core") == "down"
        assert "core is not running" in page.inner_text("[data-testid=console-message]")
        assert page.locator("[data-testid=btn-answer]").is_disabled()
        screenshot(page, "en-console-core-down")
        page.goto(clinic.base_url + "/patients?q=smith")
        assert page.locator("[data-testid=patient-row]").count() >= 1, "patient work goes on without the core"
    finally:
        stop_web(clinic)
        remove_clinic(clinic)
