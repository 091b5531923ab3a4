"""The Text messages screen in a real browser: each reply the reminders left for
the desk says why, in the user's language (screenshots under tests/output/screenshots/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.reminders.replies import read_reply
from appliance.store import Store
from appliance.store.repos import make_repos
from appliance.store.sms import SmsRepo, set_reply_reason
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web

pytestmark = pytest.mark.timeout(180)

#: (reply, the patient's language, what the desk reads in English / Korean)
REPLIES = [
    ("Can I come at 3 instead?", "en", "Asks a question", "질문이 있음"),
    ("Nie, przyjdę", "pl", "Yes and no together", "예와 아니요가 함께 있음"),
    ("다음 주로 미뤄주세요", "ko", "Asks to change the time", "시간 변경을 요청함"),
    ("明天", "zh", "Mentions a date", "날짜를 언급함"),
]


@pytest.fixture(scope="module")
def clinic() -> Iterator[Clinic]:
    c = make_clinic()
    store = Store.open(c.cfg.db_path, c.cfg.paths.key_file, media_dir=c.cfg.media_dir)
    try:
        repo = SmsRepo(store, store.clock)
        for i, (text, language, _, _) in enumerate(REPLIES):
            reading = read_reply(text, language)
            assert reading.meaning is None and reading.reason is not None, text
            sms_id, _ = repo.insert_incoming(f"+4860150010{i}", text, 1, "ucs2", "received", store.clock.now(), None)
            with store.transaction() as conn:
                set_reply_reason(conn, sms_id, reading.reason)
    finally:
        store.close()
    start_web(c)
    yield c
    stop_web(c)
    remove_clinic(c)


def set_language(clinic: Clinic, username: str, lang: str) -> None:
    store = Store.open(clinic.cfg.db_path, clinic.cfg.paths.key_file, media_dir=clinic.cfg.media_dir)
    try:
        make_repos(clinic.cfg, store).users.update(username, "test", language=lang)
    finally:
        store.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_each_unclear_reply_shows_why_in_the_users_language(page, clinic: Clinic, lang: str) -> None:
    set_language(clinic, "frontdesk", lang)
    try:
        login(page, clinic, "frontdesk")
        page.goto(clinic.base_url + "/messages")
        for text, _, english, korean in REPLIES:
            item = page.locator("[data-testid=sms-item]", has_text=text)
            reason = item.locator("[data-testid=sms-reason]")
            assert reason.is_visible()
            assert (english if lang == "en" else korean) in reason.inner_text()
        screenshot(page, f"{lang}-messages-reasons")
    finally:
        set_language(clinic, "frontdesk", "en")
