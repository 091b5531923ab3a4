"""First-run setup on a fresh box: claimed with the one-time code, then the
first manager, the clinic and the trunk, written at the end; gone (404) once
a manager exists, and refused, throttled and unchanged on bad input."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance import setup_code
from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.config.loader import OVERLAY_NAME
from appliance.store import Store
from tests.unit.webui.conftest import Clinic, build_app, repos, rt

PASSWORD = "a long manager password"


def make_fresh(clinic: Clinic, clock: FakeClock) -> None:
    """The clinic's store replaced by a new, empty one: a freshly imaged box."""
    cfg = clinic.cfg
    for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm")):
        path.unlink(missing_ok=True)
    cfg.db_path.with_name(cfg.db_path.name + ".keyid").unlink(missing_ok=True)
    cfg.paths.key_file.unlink()
    Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir).close()


@pytest.fixture
def fresh(clinic: Clinic, clock: FakeClock) -> Iterator[Flask]:
    make_fresh(clinic, clock)
    app = build_app(clinic, clock)
    app.config["TESTING"] = True
    yield app
    rt(app).store.close()


@pytest.fixture
def code(clinic: Clinic) -> str:
    return setup_code.new_code(clinic.cfg.paths.state_dir, "cli")


def token(client: FlaskClient) -> str:
    """The session's CSRF token, from the login page (or the account page once logged in)."""
    page = client.get("/login")
    if page.status_code == 302:
        page = client.get("/account")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match
    return match.group(1)


def send(client: FlaskClient, path: str, data: dict[str, object]) -> object:
    body = {"csrf_token": token(client), **data}
    return client.post(path, data=body)


MANAGER = {"username": "amira", "display_name": "Amira Haddad", "password": PASSWORD, "repeat": PASSWORD}
CLINIC = {
    "name": "Lakeside Family Practice",
    "country": "PL",
    "timezone": "Europe/Warsaw",
    "languages": ["pl", "en"],
    "default_language": "pl",
}
TRUNK = {"enabled": "on", "registrar": "sip:sip.provider.example", "username": "lakeside", "password": "trunk-secret-1"}


def walk(client: FlaskClient, code: str) -> object:
    assert send(client, "/setup", {"code": code}).status_code == 302  # type: ignore[attr-defined]
    assert send(client, "/setup/manager", MANAGER).status_code == 302  # type: ignore[attr-defined]
    assert send(client, "/setup/clinic", CLINIC).status_code == 302  # type: ignore[attr-defined]
    assert send(client, "/setup/trunk", TRUNK).status_code == 302  # type: ignore[attr-defined]
    summary = client.get("/setup/finish").get_data(as_text=True)
    assert "Lakeside Family Practice" in summary and "sip:sip.provider.example" in summary
    assert "trunk-secret-1" not in summary and "password set" in summary
    return send(client, "/setup/finish", {})


def test_a_fresh_box_offers_setup_on_its_login_page(fresh: Flask) -> None:
    client = fresh.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'data-testid="setup-link"' in page
    setup = client.get("/setup")
    assert setup.status_code == 200 and 'data-testid="setup-code-form"' in setup.get_data(as_text=True)


def test_setup_creates_the_manager_clinic_and_trunk_and_audits_it(
    fresh: Flask, clinic: Clinic, code: str, core_commands: object
) -> None:
    client = fresh.test_client()
    done = walk(client, code)
    assert done.status_code == 302 and done.headers["Location"] == "/"  # type: ignore[attr-defined]
    # Logged in as the new manager, who can open the settings.
    assert client.get("/settings").status_code == 200
    user = repos(fresh).users.get("amira")
    assert user.role == "manager" and user.display_name == "Amira Haddad" and not user.must_change_password
    assert repos(fresh).users.authenticate("amira", PASSWORD).username == "amira"
    cfg = load_config(clinic.config_path)
    assert cfg.clinic.name == "Lakeside Family Practice" and cfg.clinic.country == "PL"
    assert cfg.clinic.timezone == "Europe/Warsaw" and cfg.clinic.languages == ["pl", "en"]
    assert cfg.trunk.registrar == "sip:sip.provider.example" and cfg.trunk.username == "lakeside"
    assert cfg.trunk.password == "trunk-secret-1"
    # The password went to the secrets file, never into the overlay.
    overlay = (cfg.paths.state_dir / OVERLAY_NAME).read_text()
    assert "trunk-secret-1" not in overlay
    assert tomllib.loads(cfg.paths.secrets_file.read_text())["trunk"]["password"] == "trunk-secret-1"
    assert cfg.paths.secrets_file.stat().st_mode & 0o077 == 0
    actions = {e.action for e in repos(fresh).audit.search(limit=50)}
    assert {"setup-claimed", "user-add", "settings", "secret-set", "setup"} <= actions
    assert rt(fresh).cfg.clinic.name == "Lakeside Family Practice"  # the web UI reloaded


def test_after_setup_every_setup_route_is_gone(fresh: Flask, clinic: Clinic, code: str) -> None:
    client = fresh.test_client()
    walk(client, code)
    scanner = fresh.test_client()
    fresh_code = setup_code.new_code(clinic.cfg.paths.state_dir, "console")  # even a valid-looking code
    # Without a CSRF token a POST gets what a POST to an address the box never had gets.
    tokenless = scanner.post("/no-such-page", data={"code": fresh_code}).status_code
    for path in ("/setup", "/setup/manager", "/setup/clinic", "/setup/trunk", "/setup/finish"):
        assert scanner.get(path).status_code == 404, path
        assert send(scanner, path, {"code": fresh_code}).status_code == 404, path
        assert scanner.post(path, data={"code": fresh_code}).status_code == tokenless, path
    assert 'data-testid="setup-link"' not in scanner.get("/login").get_data(as_text=True)


def test_a_replayed_finish_is_refused_and_changes_nothing(fresh: Flask, code: str) -> None:
    client = fresh.test_client()
    walk(client, code)
    before = len(repos(fresh).users.list())
    replay = send(client, "/setup/finish", {})
    assert replay.status_code == 404  # type: ignore[attr-defined]
    assert len(repos(fresh).users.list()) == before


def test_a_wrong_code_is_refused_with_a_clear_message_and_nothing_changes(
    fresh: Flask, clinic: Clinic, code: str
) -> None:
    client = fresh.test_client()
    response = send(client, "/setup", {"code": "AAAA-BBBB-CCCC"})
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert "wrong or was already used" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert client.get("/setup/manager").headers["Location"] == "/setup"  # not claimed
    assert not repos(fresh).users.has_manager()
    assert setup_code.pending(clinic.cfg.paths.state_dir)  # the real code still works
    assert send(client, "/setup", {"code": code.lower()}).status_code == 302  # type: ignore[attr-defined]


def test_a_replayed_claim_is_refused(fresh: Flask, code: str) -> None:
    first = fresh.test_client()
    assert send(first, "/setup", {"code": code}).status_code == 302  # type: ignore[attr-defined]
    other = fresh.test_client()
    replay = send(other, "/setup", {"code": code})
    assert replay.status_code == 401  # type: ignore[attr-defined]
    assert "wrong or was already used" in replay.get_data(as_text=True)  # type: ignore[attr-defined]
    assert other.get("/setup/finish").headers["Location"] == "/setup"
    assert not repos(fresh).users.has_manager()


def test_a_weak_manager_password_is_refused_and_nothing_changes(fresh: Flask, clinic: Clinic, code: str) -> None:
    client = fresh.test_client()
    send(client, "/setup", {"code": code})
    weak = send(client, "/setup/manager", {**MANAGER, "password": "short", "repeat": "short"})
    assert weak.status_code == 400  # type: ignore[attr-defined]
    assert "at least 10 characters" in weak.get_data(as_text=True)  # type: ignore[attr-defined]
    assert client.get("/setup/clinic").headers["Location"] == "/setup/manager"  # not past this step
    assert not repos(fresh).users.has_manager()
    assert (
        not (clinic.cfg.paths.state_dir / OVERLAY_NAME).exists()
        or "Lakeside" not in (clinic.cfg.paths.state_dir / OVERLAY_NAME).read_text()
    )


def test_each_step_is_checked_with_the_configs_own_rules(fresh: Flask, clinic: Clinic, code: str) -> None:
    client = fresh.test_client()
    send(client, "/setup", {"code": code})
    send(client, "/setup/manager", MANAGER)
    bad = send(client, "/setup/clinic", {**CLINIC, "timezone": "Mars/Olympus", "country": "XX"})
    page = bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert 'data-testid="field-error-timezone"' in page and 'data-testid="field-error-country"' in page
    send(client, "/setup/clinic", CLINIC)
    no_registrar = send(client, "/setup/trunk", {**TRUNK, "registrar": ""})
    assert no_registrar.status_code == 400  # type: ignore[attr-defined]
    assert 'data-testid="field-error-registrar"' in no_registrar.get_data(as_text=True)  # type: ignore[attr-defined]
    assert not repos(fresh).users.has_manager()
    assert load_config(clinic.config_path).clinic.name == "Riverside Community Clinic"


def test_guessing_codes_is_throttled_and_voids_every_code(fresh: Flask, clinic: Clinic, code: str) -> None:
    scanner = fresh.test_client()
    for guess in range(setup_code.MAX_FAILURES):
        assert send(scanner, "/setup", {"code": f"AAAA-BBBB-{guess:04d}"}).status_code == 401  # type: ignore[attr-defined]
    throttled = send(scanner, "/setup", {"code": code})
    assert throttled.status_code == 429  # type: ignore[attr-defined]
    assert "Too many wrong setup codes" in throttled.get_data(as_text=True)  # type: ignore[attr-defined]
    # Ten wrong codes voided every code, so another address cannot use the real one either.
    assert not setup_code.pending(clinic.cfg.paths.state_dir)
    technician = fresh.test_client()
    technician.environ_base["REMOTE_ADDR"] = "192.168.1.77"
    assert send(technician, "/setup", {"code": code}).status_code == 401  # type: ignore[attr-defined]
    assert not repos(fresh).users.has_manager()
    # A new code from the box works (from the technician's laptop; the scanner stays throttled).
    again = setup_code.new_code(clinic.cfg.paths.state_dir, "console")
    assert send(scanner, "/setup", {"code": again}).status_code == 429  # type: ignore[attr-defined]
    assert send(technician, "/setup", {"code": again}).status_code == 302  # type: ignore[attr-defined]


def test_a_box_with_a_manager_never_offers_setup(app: Flask, clinic: Clinic) -> None:
    """The demo clinic has its managers: /setup does not exist there."""
    setup_code.new_code(clinic.cfg.paths.state_dir, "cli")
    client = app.test_client()
    assert client.get("/setup").status_code == 404
    assert 'data-testid="setup-link"' not in client.get("/login").get_data(as_text=True)


def test_a_bundle_made_manager_meanwhile_closes_setup_before_anything_is_written(
    fresh: Flask, clinic: Clinic, code: str
) -> None:
    client = fresh.test_client()
    send(client, "/setup", {"code": code})
    send(client, "/setup/manager", MANAGER)
    send(client, "/setup/clinic", CLINIC)
    send(client, "/setup/trunk", TRUNK)
    repos(fresh).users.add_first_manager("usb-manager", "provisioning", password=PASSWORD)
    assert send(client, "/setup/finish", {}).status_code == 404  # type: ignore[attr-defined]
    assert [u.username for u in repos(fresh).users.list()] == ["usb-manager"]
    assert load_config(clinic.config_path).clinic.name == "Riverside Community Clinic"


@pytest.mark.parametrize("lang", ["es", "pl", "tr", "ko", "zh"])
def test_every_setup_page_speaks_the_chosen_language(fresh: Flask, code: str, lang: str) -> None:
    client = fresh.test_client()
    send(client, "/language", {"lang": lang, "next": "/setup"})
    page = client.get("/setup").get_data(as_text=True)
    assert "Enter the one-time setup code" not in page and 'data-testid="setup-code-form"' in page
    send(client, "/setup", {"code": code})
    send(client, "/setup/manager", MANAGER)
    send(client, "/setup/clinic", CLINIC)
    send(client, "/setup/trunk", TRUNK)
    for path in ("/setup/manager", "/setup/clinic", "/setup/trunk", "/setup/finish"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Check and finish" not in response.get_data(as_text=True), path
    assert send(client, "/setup/finish", {}).status_code == 302  # type: ignore[attr-defined]
    assert repos(fresh).users.get("amira").language == lang
