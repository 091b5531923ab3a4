"""Settings › Secrets: a manager sets the trunk password, the SIM PIN and the
station passwords; the core (a real :class:`~appliance.app.Core` command
table on the clinic's control socket) writes them; the web UI never reads
the secrets file and never shows, logs or audits a value."""

from __future__ import annotations

import logging
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.app import Core
from appliance.config import load_config
from appliance.config.secretfile import MAX_SECRET_CHARS
from appliance.store.timefmt import from_db
from tests.unit.webui.conftest import Clinic, login_as, post, repos, rt
from webui import create_app

VALUE = "Trunk-Pw-7f3a9c"

#: Paths opened, and by which thread, while a test watches (an audit hook cannot be removed: it stays idle).
_WATCH: list[tuple[str, list[tuple[str, str]]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCH and args and isinstance(args[0], str | bytes | Path):
        path = str(args[0] if not isinstance(args[0], bytes) else args[0].decode(errors="replace"))
        for prefix, seen in _WATCH:
            if path.startswith(prefix):
                seen.append((threading.current_thread().name, path))


sys.addaudithook(_audit)


@pytest.fixture
def core(core_commands: Core) -> Core:
    """The core's own command table (no phone line) serving the clinic's control socket."""
    return core_commands


@pytest.fixture
def app(clinic: Clinic, clock: Any) -> Iterator[Flask]:
    """The web UI as ``clinicbox web`` builds it: its config loaded without the secrets file."""
    application = create_app(
        load_config(clinic.config_path, use_secrets=False), clinic.config_path, clock=clock, start_live=False
    )
    application.config["TESTING"] = True
    yield application
    rt(application).store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def secrets_file(clinic: Clinic) -> Path:
    return Path(clinic.cfg.paths.secrets_file)


def test_the_web_ui_holds_no_secret(app: Flask) -> None:
    cfg = rt(app).cfg
    assert cfg.trunk.password == "" and all(not st.password for st in cfg.stations.values())


def test_a_manager_sets_the_trunk_password_and_sees_only_set(
    client: FlaskClient, app: Flask, clinic: Clinic, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = login_as(client, app, "manager")
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert 'data-testid="secret-state-trunk.password">not set<' in page
    assert 'data-testid="secret-state-stations.desk1.password">set<' in page
    station_pw = tomllib.loads(secrets_file(clinic).read_text())["stations"]["desk1"]["password"]
    assert station_pw not in page
    assert 'href="/settings/secrets"' in client.get("/settings").get_data(as_text=True)

    watched: list[tuple[str, str]] = []
    _WATCH.append((str(secrets_file(clinic).parent / "secrets.toml"), watched))
    try:
        done = post(client, "/settings/secrets", {"name": "trunk.password", "value": VALUE}, token)
        after = client.get("/settings/secrets").get_data(as_text=True)
    finally:
        _WATCH.clear()
    assert done.status_code == 302
    assert tomllib.loads(secrets_file(clinic).read_text())["trunk"]["password"] == VALUE
    assert core.cfg.trunk.password == VALUE
    assert watched and {thread for thread, _ in watched} == {"control-conn"}  # only the core opened it
    assert rt(app).cfg.trunk.password == ""
    assert 'data-testid="secret-state-trunk.password">set<' in after
    assert "SIP trunk password is set. It is never shown again." in after
    assert VALUE not in after and VALUE not in caplog.text
    [entry] = repos(app).audit.search(action="secret-set")
    assert (entry.actor, entry.object_type, entry.object_id) == ("manager", "secret", "trunk.password")
    assert VALUE not in repr(entry) and from_db(entry.at) is not None


def test_a_station_password_reaches_that_stations_own_file(
    client: FlaskClient, app: Flask, clinic: Clinic, core: Core
) -> None:
    token = login_as(client, app, "manager")
    assert (
        post(client, "/settings/secrets", {"name": "stations.desk2.password", "value": "desk-2-new"}, token).status_code
        == 302
    )
    assert (secrets_file(clinic).parent / "station-secrets" / "desk2.password").read_text() == "desk-2-new"
    assert load_config(clinic.config_path).stations["desk2"].password == "desk-2-new"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("trunk.password", "t" * (MAX_SECRET_CHARS + 1), f"Too long: at most {MAX_SECRET_CHARS} characters."),
        ("trunk.password", "first-line\nmodem.pin = 1", "Control characters and line breaks are not allowed."),
        ("trunk.password", "nul\x00byte", "Control characters and line breaks are not allowed."),
        ("modem.pin", "12345678901", "A SIM PIN is 4 to 8 digits."),
        ("trunk.username", "sneaky-value", "There is no such secret on this box."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes(
    client: FlaskClient,
    app: Flask,
    clinic: Clinic,
    core: Core,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    says: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = secrets_file(clinic).read_bytes()
    token = login_as(client, app, "manager")
    done = post(client, "/settings/secrets", {"name": name, "value": value}, token)
    html = done.get_data(as_text=True)
    assert done.status_code == 400 and says in html
    assert value not in html and value not in caplog.text
    assert secrets_file(clinic).read_bytes() == before
    assert repos(app).audit.search(action="secret-set") == []


def test_the_cores_refusal_is_shown_without_the_value(
    client: FlaskClient, app: Flask, clinic: Clinic, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value past the web UI's quick check is still refused by the core, which names the key only."""
    from webui.blueprints import secrets as view

    monkeypatch.setattr(view, "value_problem", lambda name, value: None)
    before = secrets_file(clinic).read_bytes()
    token = login_as(client, app, "manager")
    done = post(client, "/settings/secrets", {"name": "modem.pin", "value": "98x7"}, token)
    html = done.get_data(as_text=True)
    assert done.status_code == 400 and "Not saved: modem.pin: a SIM PIN is 4 to 8 digits" in html
    assert "98x7" not in html and secrets_file(clinic).read_bytes() == before


@pytest.mark.parametrize("who", ["frontdesk", "tech"])
def test_only_a_manager_may_set_or_see_secrets(
    client: FlaskClient, app: Flask, clinic: Clinic, core: Core, who: str
) -> None:
    before = secrets_file(clinic).read_bytes()
    token = login_as(client, app, who)
    assert client.get("/settings/secrets").status_code == 403
    done = post(client, "/settings/secrets", {"name": "trunk.password", "value": VALUE}, token)
    assert done.status_code == 403 and VALUE not in done.get_data(as_text=True)
    assert secrets_file(clinic).read_bytes() == before


def test_with_the_core_down_nothing_is_written(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    before = secrets_file(clinic).read_bytes()
    token = login_as(client, app, "manager")
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert 'data-testid="secret-state-trunk.password">unknown<' in page
    done = post(client, "/settings/secrets", {"name": "trunk.password", "value": VALUE}, token)
    assert done.status_code == 503 and "only it writes secrets" in done.get_data(as_text=True)
    assert VALUE not in done.get_data(as_text=True)
    assert secrets_file(clinic).read_bytes() == before


def test_the_page_speaks_the_managers_language(client: FlaskClient, app: Flask, core: Core) -> None:
    repos(app).users.update("manager", "test", language="es")
    login_as(client, app, "manager")
    with client.session_transaction() as sess:
        sess["lang"] = "es"
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert "Contraseña de la troncal SIP" in page and "sin configurar" in page


def test_a_secret_that_waits_for_a_restart_says_so(client: FlaskClient, app: Flask, core: Core) -> None:
    """The core's answer names what waits for a restart (the switchboard takes the trunk at start)."""
    from appliance.config import Applied, Config

    class Switchboard:
        name = "switchboard"

        def reconfigure(self, cfg: Config) -> Applied:
            return Applied.sort_out(core.cfg, cfg, restart=("trunk",))

    core._started.append(Switchboard())  # type: ignore[arg-type]
    token = login_as(client, app, "manager")
    post(client, "/settings/secrets", {"name": "trunk.password", "value": VALUE}, token)
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert "SIP trunk password is set. It takes effect when the core restarts" in page and VALUE not in page
