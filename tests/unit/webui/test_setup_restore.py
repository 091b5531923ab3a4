"""First-run setup › Restore from a USB backup stick: only after the setup code,
the passphrase is checked before the box is asked, a wrong one changes
nothing, the right one hands the request to the root helper, which restores
the old box (its managers, patients); afterwards setup (and this page) is gone.

The kernel's mount table (``sticks.mount_points``) and systemctl are stood in for."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from appliance import setup_code
from appliance.clock import FakeClock
from appliance.store import Store, backup, backup_key, sticks
from provisioning.restore_request import request_path, serve_request
from provisioning.services import RecordingServiceManager
from tests.unit.webui.conftest import Clinic, Template, build_app, rt
from tests.unit.webui.test_setup import make_fresh, send

PASS = "the old box's backup passphrase"


@pytest.fixture
def stick(template_clinic: Template, clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The old clinic's backup (the demo, with its managers and patients) on a plugged-in stick."""
    old = template_clinic.directory
    store = Store.open(old / "clinicbox.db", old / "store.key", media_dir=old / "media")
    mount = sticks.usb_dir(clinic.cfg) / "sdb1"
    tar = backup.backup(store, mount / sticks.MARKER, backup_key.seal(store.key, PASS)).path
    store.close()
    monkeypatch.setattr(sticks, "mount_points", lambda: {str(mount.resolve())})
    return tar


@pytest.fixture
def fresh(clinic: Clinic, clock: FakeClock) -> Iterator[Flask]:
    make_fresh(clinic, clock)
    app = build_app(clinic, clock)
    app.config["TESTING"] = True
    yield app
    rt(app).store.close()


def test_restore_from_the_stick_at_setup(
    fresh: Flask, clinic: Clinic, stick: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = fresh.test_client()
    assert client.get("/setup/restore").headers["Location"] == "/setup"  # the setup code first
    code = setup_code.new_code(clinic.cfg.paths.state_dir, "cli")
    assert send(client, "/setup", {"code": code}).status_code == 302  # type: ignore[attr-defined]
    assert 'data-testid="setup-restore-link"' in client.get("/setup/manager").get_data(as_text=True)
    page = client.get("/setup/restore").get_data(as_text=True)
    assert f"Newest verified backup on the stick: {stick.name}" in page

    wrong = send(client, "/setup/restore", {"passphrase": "not the passphrase"})
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    assert "Not restored: wrong backup passphrase" in wrong.get_data(as_text=True)  # type: ignore[attr-defined]
    assert not request_path(clinic.cfg).exists()

    done = send(client, "/setup/restore", {"passphrase": PASS})
    assert done.headers["Location"] == "/setup/restore/requested"  # type: ignore[attr-defined]
    assert "The backup is being restored" in client.get("/setup/restore/requested").get_data(as_text=True)
    assert request_path(clinic.cfg).stat().st_mode & 0o777 == 0o600
    assert PASS not in caplog.text

    rt(fresh).store.close()  # the helper stops the web UI before it restores
    services = RecordingServiceManager()
    assert serve_request(clinic.cfg, services)["ok"]
    again = build_app(clinic, FakeClock(rt(fresh).clock.now()))
    try:
        assert rt(again).repos.users.has_manager()  # the old box's managers log in
        assert again.test_client().get("/setup/restore").status_code == 404
        assert again.test_client().get("/setup").status_code == 404
    finally:
        rt(again).store.close()


def test_without_a_stick_the_page_says_so(fresh: Flask, clinic: Clinic) -> None:
    client = fresh.test_client()
    code = setup_code.new_code(clinic.cfg.paths.state_dir, "cli")
    send(client, "/setup", {"code": code})
    page = client.get("/setup/restore").get_data(as_text=True)
    assert 'data-testid="setup-restore-no-stick"' in page
    refused = send(client, "/setup/restore", {"passphrase": PASS})
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert not request_path(clinic.cfg).exists()
