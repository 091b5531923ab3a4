"""Translations: complete, faithful placeholders, real (not English copies),
chosen per user; dates and numbers in the user's local format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import login_as, post, repos
from webui.i18n import CATALOGUE, LANGUAGES, load_catalogues

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
#: Words that are the same in some languages (brand and technical names).
SAME_EVERYWHERE = {"SMS", "ID", "Id", "Agent", "Status", "Problem", "Build", "Rol", "Import CSV"}


def source_messages() -> set[str]:
    method_map = [("webui/**.py", "python"), ("webui/templates/**.html", "jinja2")]
    options = {"webui/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return source_messages()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated(lang: str, messages: set[str]) -> None:
    catalogue = load_catalogues()[lang]
    missing = sorted(m for m in messages if not catalogue.messages.get(m))
    assert missing == [], f"{len(missing)} messages lack a {lang} translation"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_placeholders_survive_translation(lang: str, messages: set[str]) -> None:
    catalogue = load_catalogues()[lang]
    broken = [
        m
        for m in messages
        if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(str(catalogue.messages.get(m, m))))
    ]
    assert broken == []


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_are_not_english_copies(lang: str, messages: set[str]) -> None:
    catalogue = load_catalogues()[lang]
    copies = [m for m in messages if catalogue.messages.get(m) == m and m not in SAME_EVERYWHERE]
    assert len(copies) <= len(messages) * 0.02, copies


def test_every_language_has_a_catalogue_file() -> None:
    for lang, folder in CATALOGUE.items():
        if lang != "en":
            assert (ROOT / "webui" / "translations" / folder / "LC_MESSAGES" / "messages.po").is_file()


@pytest.mark.parametrize(
    ("lang", "logout", "html_lang"),
    [
        ("es", "Cerrar sesión", "es"),
        ("pl", "Wyloguj", "pl"),
        ("tr", "Çıkış yap", "tr"),
        ("ko", "로그아웃", "ko"),
        ("zh", "退出登录", "zh-Hans"),
    ],
)
def test_the_ui_speaks_the_users_language(
    client: FlaskClient, app: Flask, lang: str, logout: str, html_lang: str
) -> None:
    repos(app).users.update("manager", "test", language=lang)
    login_as(client, app, "manager")
    with client.session_transaction() as sess:
        sess.pop("lang")
    page = client.get("/patients/1").get_data(as_text=True)
    assert f'<html lang="{html_lang}">' in page
    assert logout in page


def test_dates_and_numbers_follow_the_users_language(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    post(client, "/account", {"language": "pl"}, token)
    page = client.get("/schedule?view=week&date=2026-03-04").get_data(as_text=True)
    assert "środa" in page or "poniedziałek" in page  # Polish weekday names
    post(client, "/account", {"language": "zh"}, token)
    page = client.get("/schedule?view=week&date=2026-03-04").get_data(as_text=True)
    assert "星期三" in page and "2026年3月4日" in page


def test_the_login_page_follows_the_browser_until_a_language_is_chosen(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).get_data(as_text=True)
    assert "로그인" in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/language", data={"lang": "tr", "csrf_token": token, "next": "/login"})
    assert "Giriş yap" in client.get("/login", headers={"Accept-Language": "ko"}).get_data(as_text=True)
