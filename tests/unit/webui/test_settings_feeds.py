"""The feed's settings screen: the listener's keys, saved and applied by a reload (the per-sender
mappings, tables of tables, are set in clinicbox.toml and are not on this form)."""

from __future__ import annotations

import tomllib

from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import Clinic, login_as, post
from tests.unit.webui.test_settings_simulation import form_of, overlay_text
from tests.webui.fakecore import FakeCore


def test_the_feed_settings_turn_the_listener_on_with_an_allow_list(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    form = form_of(client, "/settings/section/feeds")
    assert "hl7.allowed_senders" in form and not any("senders." in k for k in form if k != "hl7.allowed_senders")
    form["hl7.enabled"] = ["on"]
    form["hl7.allowed_senders"] = ["192.168.1.20\n10.0.0.0/24"]
    response = post(client, "/settings/section/feeds", form, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = tomllib.loads(overlay_text(clinic) or "")["feeds"]["hl7"]
    assert saved["enabled"] is True and saved["allowed_senders"] == ["192.168.1.20", "10.0.0.0/24"]
    assert core.received("config.reload") == [{}]


def test_an_address_that_is_not_one_is_refused_naming_the_field(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    before = overlay_text(clinic)
    form = form_of(client, "/settings/section/feeds")
    form["hl7.allowed_senders"] = ["the front desk pc"]
    response = post(client, "/settings/section/feeds", form, token)
    assert response.status_code == 400
    assert "is not an address or network" in response.get_data(as_text=True)
    assert overlay_text(clinic) == before and core.received("config.reload") == []


def test_the_calendar_can_be_a_published_ics_url(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    form = form_of(client, "/settings/section/feeds")
    assert form["calendar.kind"] == ["caldav"]
    form["calendar.enabled"] = ["on"]
    form["calendar.kind"] = ["ics"]
    form["calendar.url"] = ["webcal://calendar.example.org/clinic.ics"]
    response = post(client, "/settings/section/feeds", form, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = tomllib.loads(overlay_text(clinic) or "")["feeds"]["calendar"]
    assert (saved["kind"], saved["url"]) == ("ics", "webcal://calendar.example.org/clinic.ics")
    form = form_of(client, "/settings/section/feeds")
    form["calendar.kind"] = ["caldav"]  # a CalDAV collection is never at a webcal:// URL
    response = post(client, "/settings/section/feeds", form, token)
    assert response.status_code == 400 and "not an http(s) URL" in response.get_data(as_text=True)
    assert tomllib.loads(overlay_text(clinic) or "")["feeds"]["calendar"]["kind"] == "ics"
