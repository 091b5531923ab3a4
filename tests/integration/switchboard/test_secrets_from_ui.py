"""Settings › Secrets against a real core: the manager sets the trunk password
in the web UI, the core process rewrites its secrets file, and the web
process never opens that file (an audit hook in this process, where the web
UI runs, watches every open)."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from appliance.clock import SystemClock
from appliance.config import load_config
from tests.integration.switchboard.box import Box
from tests.integration.switchboard.conftest import DESKS
from tests.unit.webui.conftest import login_as, post, repos
from webui import create_app
from webui.runtime import EXTENSION

VALUE = "Live-Trunk-Pw-5b21e0"

#: Paths under the watched folder this process opened (the audit hook cannot be removed: it stays idle).
_OPENED: list[str] = []
_WATCHED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and args and isinstance(args[0], str | Path):
        path = str(args[0])
        if any(path.startswith(w) for w in _WATCHED):
            _OPENED.append(path)


sys.addaudithook(_audit)


def test_the_ui_sets_the_trunk_password_in_the_cores_file_without_reading_it(box: Callable[..., Box]) -> None:
    b = box()
    secrets = b.dir / "secrets.toml"
    before = tomllib.loads(secrets.read_text())
    assert "trunk" not in before
    # The core gave each station its own password file at start.
    assert (b.dir / "station-secrets" / "desk1.password").read_text() == before["stations"]["desk1"]["password"]

    _WATCHED.append(str(secrets))
    try:
        cfg = load_config(b.config, use_secrets=False)
        app = create_app(cfg, b.config, clock=SystemClock(assume_synced=True), start_live=False)
        app.config["TESTING"] = True
        client = app.test_client()
        token = login_as(client, app, "manager")
        page = client.get("/settings/secrets").get_data(as_text=True)
        assert 'data-testid="secret-state-trunk.password">not set<' in page

        refused = post(client, "/settings/secrets", {"name": "trunk.password", "value": "x" * 129}, token)
        assert refused.status_code == 400 and "Too long" in refused.get_data(as_text=True)
        assert b.control.call("secrets.status")["secrets"]["trunk.password"] is False  # the core kept the file

        done = post(client, "/settings/secrets", {"name": "trunk.password", "value": VALUE}, token)
        assert done.status_code == 302
        after = client.get("/settings/secrets").get_data(as_text=True)
        assert 'data-testid="secret-state-trunk.password">set<' in after and VALUE not in after
        # The switchboard takes a new trunk password live (it registers again): nothing waits for a restart.
        assert "is set. It is never shown again." in after and "It takes effect when the core restarts" not in after
        assert app.extensions[EXTENSION].cfg.trunk.password == ""  # the web UI holds no trunk password
        [entry] = repos(app).audit.search(action="secret-set")
        assert (entry.actor, entry.object_id) == ("manager", "trunk.password") and VALUE not in repr(entry)
        app.extensions[EXTENSION].store.close()
    finally:
        _WATCHED.clear()
    assert _OPENED == [], f"the web process opened the secrets file: {_OPENED}"

    data = tomllib.loads(secrets.read_text())
    assert data["trunk"]["password"] == VALUE
    assert data["stations"] == before["stations"]  # the other secrets are kept
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert b.control.call("secrets.status")["secrets"]["trunk.password"] is True
    assert VALUE not in b.log.read_text(errors="replace")


def test_a_station_password_set_in_the_ui_reaches_only_that_stations_file(box: Callable[..., Box]) -> None:
    b = box()
    old_desk1 = (b.dir / "station-secrets" / "desk1.password").read_text()
    app = create_app(
        load_config(b.config, use_secrets=False), b.config, clock=SystemClock(assume_synced=True), start_live=False
    )
    app.config["TESTING"] = True
    client = app.test_client()
    token = login_as(client, app, "manager")
    try:
        done = post(client, "/settings/secrets", {"name": "stations.desk2.password", "value": "desk2-from-ui"}, token)
        assert done.status_code == 302
    finally:
        app.extensions[EXTENSION].store.close()
    assert (b.dir / "station-secrets" / "desk2.password").read_text() == "desk2-from-ui"
    assert (b.dir / "station-secrets" / "desk1.password").read_text() == old_desk1
    assert (b.dir / "station-secrets" / "desk2.password").stat().st_mode & 0o777 == 0o640


@pytest.fixture(autouse=True)
def _no_watch_left() -> Any:
    yield
    _WATCHED.clear()
    _OPENED.clear()


def test_a_removed_stations_password_file_is_deleted_by_the_core(box: Callable[..., Box]) -> None:
    """The manager removes desk2 (its settings and its password); the core applies it live
    and deletes desk2's own password file; desk1's stays as it was."""
    b = box(stations=DESKS)
    folder = b.dir / "station-secrets"
    desk1 = (folder / "desk1.password").read_text()
    assert (folder / "desk2.password").exists()
    settings = b.dir / "settings.toml"
    overlay = tomllib.loads(settings.read_text(encoding="utf-8"))
    del overlay["stations"]["desk2"]
    settings.write_text(tomli_w.dumps(overlay), encoding="utf-8")
    secrets = b.dir / "secrets.toml"
    data = tomllib.loads(secrets.read_text())
    del data["stations"]["desk2"]
    secrets.write_text(tomli_w.dumps(data))
    assert b.control.call("config.reload")["reloaded"] is True
    assert not (folder / "desk2.password").exists()
    assert (folder / "desk1.password").read_text() == desk1
    assert "station password files deleted for desk2" in b.log.read_text(errors="replace")
