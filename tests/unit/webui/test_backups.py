"""Settings › Backups: a manager lists the box's backups (time, size,
verified), downloads one (streamed as it is, audited: who, which backup),
sets the backup passphrase and backs up to a USB stick through the core (a
real :class:`~appliance.app.Core` command table holding the open store);
front-desk users and technicians cannot open any of it.

The kernel's mount table is stood in for (``sticks.mount_points``) in the
stick case; tests/integration/appliance/test_backup_stick.py mounts a real one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.app import Core
from appliance.store import backup_key, sticks
from appliance.store.keys import key_id
from tests.unit.webui.conftest import Clinic, login_as, post, repos

PASS = "our clinic's backup passphrase"


@pytest.fixture
def core(core_commands: Core) -> Iterator[Core]:
    """The core's command table, with the store open as the running core has it."""
    core_commands.open_store()
    yield core_commands
    core_commands._jobs.shutdown(wait=True)
    if core_commands.store is not None:
        core_commands.store.close()
    core_commands.lock.release()


def test_a_manager_downloads_a_verified_backup_and_the_download_is_audited(
    client: FlaskClient, app: Flask, clinic: Clinic, core: Core
) -> None:
    made = core.backup_store({})
    tar = Path(made["path"])
    login_as(client, app, "manager")
    page = client.get("/settings/backups").get_data(as_text=True)
    assert f'data-testid="backup-{tar.name}"' in page
    row = page.split(f'data-testid="backup-{tar.name}"', 1)[1].split("</tr>", 1)[0]
    assert "yes" in row and f"{tar.stat().st_size / 2**20:.1f} MB" in row  # verified, its size
    assert 'href="/settings/backups"' in client.get("/settings").get_data(as_text=True)

    response = client.get(f"/settings/backups/download/{tar.name}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename={tar.name}"
    assert response.mimetype == "application/x-tar"
    assert response.get_data() == tar.read_bytes()
    [entry] = repos(app).audit.search(action="backup-download")
    assert (entry.actor, entry.object_type, entry.object_id) == ("manager", "backup", tar.name)


@pytest.mark.parametrize("name", ["..%2F..%2Fclinicbox.db", "clinicbox.db", "clinicbox-nothere.tar", "..%2Fstore.key"])
def test_only_a_listed_backup_can_be_downloaded(client: FlaskClient, app: Flask, core: Core, name: str) -> None:
    core.backup_store({})
    login_as(client, app, "manager")
    assert client.get(f"/settings/backups/download/{name}").status_code == 404
    assert repos(app).audit.search(action="backup-download") == []


@pytest.mark.parametrize("user", ["frontdesk", "tech"])
def test_front_desk_and_technicians_cannot_see_or_download_backups(
    client: FlaskClient, app: Flask, core: Core, user: str
) -> None:
    tar = Path(core.backup_store({})["path"])
    token = login_as(client, app, user)
    assert client.get("/settings/backups").status_code == 403
    assert client.get(f"/settings/backups/download/{tar.name}").status_code == 403
    assert post(client, "/settings/backups/usb", {}, token).status_code == 403
    assert post(client, "/settings/backups/passphrase", {"passphrase": PASS, "repeat": PASS}, token).status_code == 403
    assert repos(app).audit.search(action="backup-download") == []
    assert backup_key.read(core.cfg.paths.state_dir) is None


def test_the_backup_passphrase_is_sealed_by_the_core_never_shown_or_logged(
    client: FlaskClient, app: Flask, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = login_as(client, app, "manager")
    assert "Not set: backups restore only with this box" in client.get("/settings/backups").get_data(as_text=True)
    differ = post(client, "/settings/backups/passphrase", {"passphrase": PASS, "repeat": PASS + "x"}, token)
    assert differ.status_code == 400 and "The two passphrases differ; nothing was changed." in differ.get_data(True)
    short = post(client, "/settings/backups/passphrase", {"passphrase": "short", "repeat": "short"}, token)
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    assert backup_key.read(core.cfg.paths.state_dir) is None

    done = post(client, "/settings/backups/passphrase", {"passphrase": PASS, "repeat": PASS}, token)
    assert done.status_code == 302
    page = client.get("/settings/backups").get_data(as_text=True)
    assert "The backup passphrase is set." in page and "Set: backups restore on a new box with it." in page
    blob = backup_key.read(core.cfg.paths.state_dir)
    assert blob is not None and core.store is not None
    assert blob["key_id"] == key_id(core.store.key) and backup_key.open_sealed(blob, PASS) == core.store.key
    [entry] = repos(app).audit.search(action="backup-passphrase-set")
    assert entry.actor == "manager" and PASS not in repr(entry)
    assert PASS not in caplog.text and PASS not in page


def test_back_up_now_to_a_usb_stick(
    client: FlaskClient, app: Flask, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = login_as(client, app, "manager")
    page = client.get("/settings/backups").get_data(as_text=True)
    assert "No backup stick plugged in" in page
    refused = post(client, "/settings/backups/usb", {}, token)
    assert refused.status_code == 409
    assert "No backup was made: no USB backup stick is plugged in" in refused.get_data(as_text=True)

    stick = sticks.usb_dir(core.cfg) / "sdb1"
    (stick / sticks.MARKER).mkdir(parents=True)
    monkeypatch.setattr(sticks, "mount_points", lambda: {str(stick.resolve())})
    no_pass = post(client, "/settings/backups/usb", {}, token)
    assert no_pass.status_code == 409 and "no backup passphrase is set" in no_pass.get_data(as_text=True)
    assert list((stick / sticks.MARKER).iterdir()) == []

    post(client, "/settings/backups/passphrase", {"passphrase": PASS, "repeat": PASS}, token)
    done = post(client, "/settings/backups/usb", {}, token)
    assert done.status_code == 302
    [tar] = (stick / sticks.MARKER).glob("clinicbox-*.tar")
    page = client.get("/settings/backups").get_data(as_text=True)
    assert f"Backup written to the USB stick: {tar.name}" in page and "read back and verified" in page
    assert "Last backup to a stick:" in page
    audit: list[Any] = repos(app).audit.search(action="backup-usb")
    assert [(e.object_id, e.detail) for e in audit if e.object_id] == [(tar.name, "verified")]
