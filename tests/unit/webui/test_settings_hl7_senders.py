"""Settings › HL7 senders: a sender's mapping added, edited and removed through the overlay and the
core's reload, audited; bad values, hostile names and forged or token-less posts change nothing."""

from __future__ import annotations

import html as markup
import tomllib
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import Clinic, login_as, post, repos
from tests.unit.webui.test_settings_simulation import form_of, overlay_text
from tests.webui.fakecore import FakeCore

APPLIED = {"reloaded": True, "applied": ["feeds.hl7.senders"], "restart": []}


def senders_saved(clinic: Clinic) -> dict[str, Any]:
    text = overlay_text(clinic)
    return tomllib.loads(text).get("feeds", {}).get("hl7", {}).get("senders", {}) if text else {}


def new_sender_form(client: FlaskClient, name: str, **changes: str) -> dict[str, list[str]]:
    form = form_of(client, f"/settings/hl7-senders/{name}?new=1")
    for key, value in changes.items():
        form[key] = [value]
    return form


def page(client: FlaskClient, path: str = "/settings/hl7-senders") -> str:
    return client.get(path).get_data(as_text=True)


def test_a_manager_adds_a_senders_mapping_and_the_core_applies_it(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    assert 'data-testid="hl7-senders-none"' in page(client)
    response = post(client, "/settings/hl7-senders/add", {"sender": "LABSYS"}, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings/hl7-senders/LABSYS?new=1")
    assert senders_saved(clinic) == {}, "opening the form saves nothing"
    core.answers["config.reload"] = APPLIED
    form = new_sender_form(
        client,
        "LABSYS",
        timezone="Asia/Seoul",
        default_duration_min="40",
        statuses="Teleported = cancelled\nOnSite = attended",
    )
    response = post(client, "/settings/hl7-senders/LABSYS", form, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    # Only what differs from the defaults is written; the rest follows the shipped defaults.
    assert senders_saved(clinic) == {
        "LABSYS": {
            "timezone": "Asia/Seoul",
            "default_duration_min": 40,
            "statuses": {"Teleported": "cancelled", "OnSite": "attended"},
        }
    }
    assert core.received("config.reload") == [{}]
    assert "Saved. Applied now, calls in progress continue: feeds.hl7.senders." in page(client)
    [entry] = repos(app).audit.search(action="settings")
    assert (entry.actor, entry.object_id) == ("manager", "feeds.hl7.senders.LABSYS")
    listing = page(client)
    assert 'data-sender="LABSYS"' in listing and "default_duration_min, timezone, statuses" in listing
    assert 'value="Asia/Seoul"' in page(client, "/settings/hl7-senders/LABSYS")


def test_the_notice_does_not_say_applied_when_the_core_is_down(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    response = post(client, "/settings/hl7-senders/LABSYS", new_sender_form(client, "LABSYS", timezone="UTC"), token)
    assert response.status_code == 302
    assert senders_saved(clinic) == {"LABSYS": {"timezone": "UTC"}}
    shown = page(client)
    assert "The core could not apply it yet" in shown and "Applied now" not in shown


def test_a_mapping_the_core_refuses_is_taken_back(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    before = overlay_text(clinic)
    core.refusals["config.reload"] = ("invalid", "feeds: the listener cannot take it")
    response = post(client, "/settings/hl7-senders/LABSYS", new_sender_form(client, "LABSYS", timezone="UTC"), token)
    assert response.status_code == 400
    assert "Not saved: the box cannot apply this change (feeds: the listener cannot take it)" in response.get_data(
        as_text=True
    )
    assert overlay_text(clinic) == before and repos(app).audit.search(action="settings") == []


def test_a_manager_edits_then_removes_a_sender(client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore) -> None:
    token = login_as(client, app, "manager")
    post(client, "/settings/hl7-senders/LABSYS", new_sender_form(client, "LABSYS", timezone="UTC"), token)
    form = form_of(client, "/settings/hl7-senders/LABSYS")
    assert form["timezone"] == ["UTC"]
    form["timezone"] = [""]
    form["start_fields"] = ["AIS-4\nSCH-11"]
    assert post(client, "/settings/hl7-senders/LABSYS", form, token).status_code == 302
    assert senders_saved(clinic) == {"LABSYS": {"start_fields": ["AIS-4", "SCH-11"]}}
    version = form_of(client, "/settings/hl7-senders")["version"][0]
    response = post(client, "/settings/hl7-senders/LABSYS/delete", {"version": version}, token)
    assert response.status_code == 302
    assert senders_saved(clinic) == {} and 'data-testid="hl7-senders-none"' in page(client)
    assert [e.object_id for e in repos(app).audit.search(action="settings")][0] == "feeds.hl7.senders.LABSYS removed"
    assert post(client, "/settings/hl7-senders/LABSYS/delete", {"version": version}, token).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "time zone"),
        ("default_duration_min", "0", "below the minimum"),
        ("default_duration_min", "ten", "write a whole number"),
        ("start_fields", "SCH-11\nPID-99", "unknown field 'PID-99'"),
        ("start_fields", "", "name at least one field"),
        ("phone_fields", "PID-13\nNK1-5", "unknown field 'NK1-5'"),
        ("statuses", "Teleported = explode", "'explode' is not one of"),
        ("statuses", "Teleported cancelled", "write it as key = value"),
        ("languages", "POLSKI = klingon", "'klingon' is not one of"),
        ("provider_segment", "PV1", "is not allowed"),
        ("timezone", "UTC\x00", "control characters"),
        ("statuses", "A\x00B = booked", "control characters"),
        ("mobile_equipment", "CP\nX\x1bY", "control characters"),
        ("statuses", "X" * 41 + " = booked", "longer than 40 characters"),
        ("languages", "POLSKI = " + "p" * 41, "longer than 40 characters"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_changes(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore, field: str, value: str, message: str
) -> None:
    token = login_as(client, app, "manager")
    before = overlay_text(clinic)
    response = post(client, "/settings/hl7-senders/LABSYS", new_sender_form(client, "LABSYS", **{field: value}), token)
    html = markup.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert f'data-testid="field-error-{field}"' in html and message in html, html
    assert overlay_text(clinic) == before and core.received("config.reload") == []
    assert repos(app).audit.search(action="settings") == []


@pytest.mark.parametrize(
    "name",
    ["../../etc", "A|B", "A^B", 'LAB"]\n[paths', "<script>", "", "X" * 41, "LAB\r\nMSH", "ÄRZTE&CO", "-LAB"],
)
def test_a_hostile_sender_name_is_refused(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore, name: str
) -> None:
    token = login_as(client, app, "manager")
    before = overlay_text(clinic)
    response = post(client, "/settings/hl7-senders/add", {"sender": name}, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings/hl7-senders")
    assert "Write the sending application as in MSH-3" in page(client)
    form = new_sender_form(client, "LABSYS")
    direct = post(client, "/settings/hl7-senders/" + quote(name, safe=""), form, token)
    assert direct.status_code in (404, 405)
    assert post(client, "/settings/hl7-senders/%20LAB", form, token).status_code == 404
    assert overlay_text(clinic) == before and core.received("config.reload") == []


def test_injected_text_stays_text(client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore) -> None:
    """A status code full of TOML and HTML syntax is a literal key, escaped on the page; a line that
    tries to open a TOML table is refused; forged fields outside the form are ignored."""
    token = login_as(client, app, "manager")
    form = new_sender_form(client, "LABSYS", statuses='"]\n[paths]\nstate_dir = "/tmp/x"')
    assert post(client, "/settings/hl7-senders/LABSYS", form, token).status_code == 400
    assert overlay_text(clinic) is None
    code = '<script>alert(1)</script>"] [paths'
    form = new_sender_form(client, "LABSYS", statuses=f"{code} = cancelled")
    form["paths.state_dir"] = ["/tmp/evil"]
    form["senders.OTHER.timezone"] = ["UTC"]
    form["receiving_application"] = ["EVIL"]
    assert post(client, "/settings/hl7-senders/LABSYS", form, token).status_code == 302
    saved = tomllib.loads(overlay_text(clinic) or "")
    assert set(saved) == {"feeds"} and saved["feeds"] == {
        "hl7": {"senders": {"LABSYS": {"statuses": {code: "cancelled"}}}}
    }
    html = page(client, "/settings/hl7-senders/LABSYS")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_posts_without_the_csrf_token_or_by_other_roles_change_nothing(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    form = new_sender_form(client, "LABSYS", timezone="UTC")
    for path in ("/settings/hl7-senders/LABSYS", "/settings/hl7-senders/add", "/settings/hl7-senders/LABSYS/delete"):
        assert client.post(path, data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 400
        assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 400
    login_as(client, app, "frontdesk")
    assert client.get("/settings/hl7-senders").status_code == 403
    assert post(client, "/settings/hl7-senders/LABSYS", form, token).status_code == 403
    assert overlay_text(clinic) is None and core.received("config.reload") == []


def test_a_save_against_an_older_version_is_refused(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    stale = new_sender_form(client, "LABSYS", timezone="UTC")
    post(client, "/settings/hl7-senders/OTHER", new_sender_form(client, "OTHER", timezone="Europe/Warsaw"), token)
    response = post(client, "/settings/hl7-senders/LABSYS", stale, token)
    assert response.status_code == 400
    assert "Someone saved the settings after you opened this page" in response.get_data(as_text=True)
    assert senders_saved(clinic) == {"OTHER": {"timezone": "Europe/Warsaw"}}
