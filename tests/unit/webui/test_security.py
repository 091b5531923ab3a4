"""Roles on every route, CSRF, cookies, headers, no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import Clinic, build_app, login_as, post, rt

TEMPLATES = Path(__file__).resolve().parents[3] / "webui" / "templates"

#: Screens by who may open them (GET). Technicians never see patient data.
MANAGER_ONLY = [
    "/settings",
    "/settings/section/trunk",
    "/settings/section/hours",
    "/settings/queues",
    "/settings/stations/desk1",
    "/settings/ivr",
    "/settings/prompts",
    "/users",
    "/audit",
    "/import",
    "/recordings",
    "/patients/1/export.json",
    "/patients/1/erase",
    "/reports",
    "/reports.csv",
]
STAFF = [
    "/console",
    "/callbacks",
    "/patients?q=smith",
    "/patients/1",
    "/patients/1/edit",
    "/patients/new",
    "/schedule",
    "/calls",
    "/voicemail",
    "/reminders",
    "/console/pop?caller=%2B12125550001&call_id=x",
]
EVERYONE = ["/dashboard", "/wallboard", "/account", "/dashboard/today", "/live/snapshot"]


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not getattr(app.view_functions[rule.endpoint], "_cbx_roles", None)
    ]
    assert undeclared == []


@pytest.mark.parametrize("path", MANAGER_ONLY + STAFF + EVERYONE)
def test_anonymous_users_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    if path.startswith("/live/"):  # scripts get a 401 they act on
        assert response.status_code == 401
        assert response.get_json()["error"] == "login"
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", MANAGER_ONLY)
def test_front_desk_cannot_open_manager_screens(client: FlaskClient, app: Flask, path: str) -> None:
    login_as(client, app, "frontdesk")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", MANAGER_ONLY + STAFF)
def test_technicians_see_no_patient_data(client: FlaskClient, app: Flask, path: str) -> None:
    login_as(client, app, "tech")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", STAFF + EVERYONE)
def test_front_desk_opens_its_screens(client: FlaskClient, app: Flask, path: str) -> None:
    login_as(client, app, "frontdesk")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [*MANAGER_ONLY, *STAFF, *EVERYONE, "/diagnostics"])
def test_managers_open_everything(client: FlaskClient, app: Flask, path: str) -> None:
    login_as(client, app, "manager")
    assert client.get(path).status_code == 200


def test_technicians_open_diagnostics_and_the_dashboard(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "tech")
    for path in ("/diagnostics", "/dashboard", "/wallboard", "/account"):
        assert client.get(path).status_code == 200
    nav = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="nav-patients"' not in nav and 'data-testid="nav-diagnostics"' in nav


def _post_routes(app: Flask) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or set()):
            path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
            path = re.sub(r"<any\([^)]*\):kind>", "queues", path)
            paths.append(path)
    return sorted(set(paths))


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "manager")
    routes = _post_routes(app)
    assert len(routes) > 25
    for path in routes:
        without = client.post(path, data={"x": "1"})
        assert without.status_code == 400, path
        wrong = client.post(path, data={"csrf_token": "forged"})
        assert wrong.status_code == 400, path


def test_a_cross_site_origin_is_refused_even_with_the_token(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    response = post(client, "/account", {"language": "pl"}, token, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    ok = post(client, "/account", {"language": "pl"}, token, headers={"Origin": "http://localhost"})
    assert ok.status_code == 302


def test_fetch_requests_may_send_the_token_in_a_header(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    response = client.post(
        "/account", data={"language": "es"}, headers={"X-CSRF-Token": token, "X-Requested-With": "fetch"}
    )
    assert response.status_code == 302


def test_session_cookie_is_httponly_and_strict(client: FlaskClient) -> None:
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


def test_behind_tls_the_cookie_is_secure_and_host_bound(clinic: Clinic, clock) -> None:
    app = build_app(clinic, clock, web={"behind_tls": True})
    response = app.test_client().get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-cbx=") and "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    rt(app).store.close()


def test_security_headers_on_pages(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "frontdesk")
    response = client.get("/patients/1")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_static_assets_are_local_and_cacheable(client: FlaskClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers["Cache-Control"]
    css = response.get_data(as_text=True)
    assert "url(http" not in css and "@import" not in css


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path.name}: inline script {match.group(0)}")
        if re.search(r"\sstyle=", text):
            offenders.append(f"{path.name}: style attribute")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path.name}: inline event handler")
        if re.search(r"(src|href)=\"(https?:)?//", text):
            offenders.append(f"{path.name}: asset from another site")
        if "|safe" in text or "Markup(" in text:
            offenders.append(f"{path.name}: unescaped output")
    assert offenders == []


def test_the_secret_key_is_generated_once_per_box_and_private(clinic: Clinic, clock) -> None:
    first = build_app(clinic, clock)
    key_file = clinic.directory / "web-secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    second = build_app(clinic, clock)
    assert first.secret_key == second.secret_key == key_file.read_bytes()
    assert len(first.secret_key) >= 32
    for app in (first, second):
        rt(app).store.close()


def test_health_says_nothing_about_patients(client: FlaskClient) -> None:
    data = client.get("/health").get_json()
    assert set(data) == {"ok", "store_locked", "core_up"}
