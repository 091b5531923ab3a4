"""A passphrase-locked store: the web UI runs, sends everyone to the unlock
page, unlocks with the manager passphrase and tells the core."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from appliance.clock import FakeClock
from appliance.store import keys as keymod
from tests.unit.webui.conftest import Clinic, build_app, repos, rt
from tests.webui.fakecore import FakeCore

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def locked_app(clinic: Clinic, clock: FakeClock) -> Flask:
    cfg = clinic.cfg
    key = keymod.read_key_file(cfg.paths.key_file).key
    assert key is not None
    keymod.write_key_file(cfg.paths.key_file, key, PASSPHRASE, replace=True)
    app = build_app(clinic, clock)
    assert rt(app).store.locked
    return app


def token_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_every_page_leads_to_the_unlock_page(locked_app: Flask) -> None:
    client = locked_app.test_client()
    for path in ("/", "/login", "/patients/1", "/settings", "/console"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/unlock", path
    assert client.get("/live/snapshot").status_code == 503
    page = client.get("/unlock").get_data(as_text=True)
    assert 'data-testid="unlock-form"' in page
    assert client.get("/health").get_json()["store_locked"] is True


def test_a_wrong_passphrase_is_refused_and_throttled(locked_app: Flask) -> None:
    client = locked_app.test_client()
    token = token_of(client.get("/unlock").get_data(as_text=True))
    for _ in range(10):
        response = client.post("/unlock", data={"passphrase": "wrong guess", "csrf_token": token})
        assert response.status_code == 401
    blocked = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": token})
    assert blocked.status_code == 429
    assert rt(locked_app).store.locked


def test_the_right_passphrase_unlocks_audits_and_tells_the_core(locked_app: Flask, clinic: Clinic) -> None:
    core = FakeCore(clinic.cfg.control_socket).start()
    try:
        client = locked_app.test_client()
        token = token_of(client.get("/unlock").get_data(as_text=True))
        response = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == "/login"
        assert not rt(locked_app).store.locked
        told = core.received("store.unlock") + core.received("store.unlocked")
        assert len(told) == 1
        assert repos(locked_app).audit.search(action="unlock")[0].object_type == "store"
        assert client.get("/login").status_code == 200
    finally:
        core.stop()
