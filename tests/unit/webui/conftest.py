"""Web UI tests with Flask's test client: a real (copied) demo clinic in a
SQLCipher store, a fake clock, and optionally the FakeCore test double on
the control socket.

A demo clinic is seeded once per session (argon2 hashing makes seeding
cost a few hundred ms) and copied for each test, so tests never share
state.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from appliance.config import Config, load_config
from appliance.demo.seed import seed
from appliance.store.repos import Repos
from tests.webui.conftest import demo_logins
from tests.webui.fakecore import FakeCore
from webui import create_app
from webui.runtime import EXTENSION, Runtime

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@dataclass
class Template:
    directory: Path
    logins: dict[str, str]


@pytest.fixture(scope="session")
def template_clinic() -> Iterator[Template]:
    root = Path(tempfile.mkdtemp(prefix="cbxt"))
    result = seed(root / "c", web_port=18080, sip_port=15060, now=NOW)
    yield Template(result.directory, demo_logins(result.directory, result.password))
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Clinic:
    directory: Path
    config_path: Path
    logins: dict[str, str]

    @property
    def cfg(self) -> Config:
        return load_config(self.config_path)


@pytest.fixture
def clinic(template_clinic: Template) -> Iterator[Clinic]:
    root = Path(tempfile.mkdtemp(prefix="cbxu"))
    target = root / "c"
    shutil.copytree(template_clinic.directory, target, symlinks=True)
    yield Clinic(target, target / "clinicbox.toml", template_clinic.logins)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def build_app(clinic: Clinic, clock: FakeClock, **overrides: Any) -> Flask:
    cfg = load_config(clinic.config_path, overrides=overrides or None)
    return create_app(cfg, clinic.config_path, clock=clock, start_live=False)


@pytest.fixture
def app(clinic: Clinic, clock: FakeClock) -> Iterator[Flask]:
    application = build_app(clinic, clock)
    application.config["TESTING"] = True
    yield application
    rt(application).store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def core(clinic: Clinic) -> Iterator[FakeCore]:
    cfg = clinic.cfg
    fake = FakeCore(
        cfg.control_socket,
        stations={sid: st.name for sid, st in cfg.stations.items()},
        queues={qid: q.name for qid, q in cfg.queues.items()},
    ).start()
    yield fake
    fake.stop()


def rt(app: Flask) -> Runtime:
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def repos(app: Flask) -> Repos:
    return rt(app).repos


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, as a page embeds it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_as(client: FlaskClient, app: Flask, username: str) -> str:
    """Log ``username`` in without the argon2 round (tests of other things);
    returns the CSRF token. Real logins are tested in test_auth."""
    user = repos(app).users.get(username)
    with client.session_transaction() as sess:
        sess["uid"] = user.id
        sess["role"] = user.role
        sess["lang"] = "en"
        sess["csrf"] = "test-csrf-token"
    rt(app).sessions.touch(_sid(client, app))
    return "test-csrf-token"


def _sid(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie("cbx_session")
    assert cookie is not None
    from itsdangerous import Signer

    return Signer(app.secret_key, salt="clinicbox-session").unsign(cookie.value).decode()  # type: ignore[arg-type]


def post(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, token: str = "test-csrf-token", **kw: Any
) -> Any:
    body = dict(data or {})
    body.setdefault("csrf_token", token)
    return client.post(path, data=body, **kw)


@pytest.fixture
def core_commands(clinic: Clinic) -> Iterator[Any]:
    """The core's own command table (no phone line) serving the clinic's control socket:
    what writes the secrets file on a box (``secrets.set``)."""
    from appliance.app import Core

    cfg = clinic.cfg
    box = Core(cfg, clinic.config_path)
    cfg.paths.run_dir.mkdir(parents=True, exist_ok=True)
    box.control.start()
    yield box
    box.control.stop()
