"""After a save the web UI says what the core applied and what waits for a restart;
a change the core refuses is taken back; "Restart when idle" is asked for and audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import Clinic, login_as, post, repos, rt
from tests.unit.webui.test_settings import hours_form
from tests.webui.fakecore import FakeCore


def notices(client: FlaskClient) -> str:
    return client.get("/settings").get_data(as_text=True)


def test_the_notice_lists_what_applied_and_what_waits(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "manager")
    core.answers["config.reload"] = {"reloaded": True, "applied": ["hours.saturday"], "restart": ["sip.port"]}
    assert post(client, "/settings/section/hours", hours_form(client, saturday="09:00-13:00"), token).status_code == 302
    page = notices(client)
    assert "Saved. Applied now: hours.saturday. Waits for a restart: sip.port" in page
    core.answers["config.reload"] = {"reloaded": True, "applied": ["hours.saturday"], "restart": []}
    assert post(client, "/settings/section/hours", hours_form(client, saturday="09:00-12:00"), token).status_code == 302
    assert "Saved. Applied now, calls in progress continue: hours.saturday." in notices(client)


def test_a_change_the_core_refuses_is_taken_back(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    overlay = clinic.directory / "settings.toml"
    before = overlay.read_bytes() if overlay.exists() else None
    core.refusals["config.reload"] = ("invalid", "trunk.registrar: PJSIP cannot parse it")
    response = post(client, "/settings/section/hours", hours_form(client, saturday="09:00-13:00"), token)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not saved: the box cannot apply this change (trunk.registrar: PJSIP cannot parse it)" in page
    assert (overlay.read_bytes() if overlay.exists() else None) == before
    assert rt(app).cfg.hours.saturday != ["09:00-13:00"], "the web process went back too"
    assert repos(app).audit.search(action="settings") == []


def test_restart_when_idle_is_offered_asked_for_and_audited(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "manager")
    status = {"pending": False, "calls": 0, "deadline_s": None, "requested_by": "", "waiting": []}
    core.answers["core.restart_status"] = status
    assert 'data-testid="restart-panel"' not in client.get("/settings").get_data(as_text=True)
    core.answers["core.restart_status"] = {**status, "waiting": ["sip.port", "modem.enabled"]}
    page = client.get("/settings").get_data(as_text=True)
    assert (
        'data-testid="restart-waiting">sip.port, modem.enabled<' in page and 'data-testid="restart-when-idle"' in page
    )
    assert post(client, "/settings/restart", {"deadline_min": "7"}, token).status_code == 302
    assert "Choose when the box may restart at the latest." in notices(client)
    assert core.received("core.restart_when_idle") == []
    assert post(client, "/settings/restart", {"deadline_min": "30"}, token).status_code == 302
    assert core.received("core.restart_when_idle") == [{"actor": "manager", "deadline_min": 30}]
    [entry] = repos(app).audit.search(action="restart-requested")
    assert (entry.actor, entry.object_id) == ("manager", "deadline 30 min")
    core.answers["core.restart_status"] = {**status, "pending": True, "calls": 3, "requested_by": "manager"}
    page = client.get("/settings").get_data(as_text=True)
    assert "Restart pending (3 calls in progress)." in page and 'data-testid="restart-cancel"' in page
    assert post(client, "/settings/restart/cancel", {}, token).status_code == 302
    assert core.received("core.restart_cancel") == [{"actor": "manager"}]
    assert repos(app).audit.search(action="restart-cancelled")
