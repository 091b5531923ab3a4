"""The text-back and contact rules in the web UI: the text per language with its preview and
SMS length, the message trace on the call's row and on the visit, the consent record."""

from __future__ import annotations

import tomllib

from flask import Flask
from flask.testing import FlaskClient

from appliance.store import calls, contacts
from appliance.store.patient_input import PatientInput
from appliance.store.timefmt import to_db
from appliance.textback import TEXTS
from tests.unit.webui.conftest import Clinic, login_as, post, repos
from tests.webui.fakecore import FakeCore


def version(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split('name="version" value="', 1)[1].split('"', 1)[0]


def test_each_language_shows_its_text_filled_in_and_its_sms_length(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "manager")
    html = client.get("/settings/textback-texts").get_data(as_text=True)
    cfg = repos(app).cfg
    for lang in cfg.clinic.languages:
        assert TEXTS[lang].format(clinic=cfg.clinic.name) in html
    assert "GSM-7, 1 SMS" in html  # English
    if "ko" in cfg.clinic.languages:
        assert "UCS-2" in html  # Korean never fits GSM-7


def test_preview_does_not_save_and_a_long_text_shows_its_parts(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    long_text = ("{clinic}: " + "we missed your call, reply YES. " * 8).strip()
    form = {"text.en": long_text, "action": "preview", "version": version(client, "/settings/textback-texts")}
    html = post(client, "/settings/textback-texts", form, token).get_data(as_text=True)
    name = repos(app).cfg.clinic.name
    assert long_text.format(clinic=name) in html and "GSM-7, 2 SMS" in html
    assert "textback" not in _overlay(clinic)


def test_save_writes_the_overlay_and_the_core_reloads(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    form = {
        "text.en": "{clinic}: we missed you. Reply YES for a call back.",
        "text.es": TEXTS["es"],  # unchanged: stays the shipped text
        "action": "save",
        "version": version(client, "/settings/textback-texts"),
    }
    assert post(client, "/settings/textback-texts", form, token).status_code == 302
    assert _overlay(clinic)["textback"]["texts"] == {"en": "{clinic}: we missed you. Reply YES for a call back."}


def test_a_text_with_an_unknown_placeholder_is_refused_and_nothing_saved(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    form = {"text.en": "{clinic} {doctor}", "action": "save", "version": version(client, "/settings/textback-texts")}
    response = post(client, "/settings/textback-texts", form, token)
    assert response.status_code == 400
    assert "textback.texts.en" in response.get_data(as_text=True)
    assert "textback" not in _overlay(clinic)


def test_the_call_log_row_shows_the_text_back_and_why_one_was_not_sent(client: FlaskClient, app: Flask) -> None:
    r = repos(app)
    now = r.store.clock.now()
    with r.store.transaction() as conn:
        sent = calls.insert(conn, uuid="tb-1", direction="inbound", started_at=to_db(now), caller="+48601234567")
        skipped = calls.insert(conn, uuid="tb-2", direction="inbound", started_at=to_db(now), caller="+48221234567")
        contacts.record(conn, now, "textback", "+48601234567", "delivered", call_id=sent, language="pl")
        contacts.record(conn, now, "textback", "+48221234567", "skipped", reason="landline", call_id=skipped)
    login_as(client, app, "manager")
    html = client.get("/calls").get_data(as_text=True)
    assert 'data-outcome="delivered"' in html and "Missed-call text: delivered" in html
    assert 'data-reason="landline"' in html and "not a mobile number" in html


def test_the_patient_card_shows_the_consent_record(client: FlaskClient, app: Flask) -> None:
    r = repos(app)
    pid = r.patients.create(PatientInput(name="Anna Nowak", phones=["+48601234567"]), "test")
    r.patients.set_opt_out(pid, True, "patient", via="sms", detail="SMS 12")
    login_as(client, app, "manager")
    html = client.get(f"/patients/{pid}").get_data(as_text=True)
    section = html.split('data-testid="consent-record"', 1)[1].split("</ul>", 1)[0]
    assert "Opted out" in section and "by SMS" in section and "patient" in section and "SMS 12" in section


def _overlay(clinic: Clinic) -> dict:  # type: ignore[type-arg]
    path = clinic.directory / "settings.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def test_the_desk_records_an_opt_out_said_on_the_phone_and_it_is_honoured(client: FlaskClient, app: Flask) -> None:
    r = repos(app)
    pid = r.patients.create(PatientInput(name="Anna Nowak", phones=["+48601234567"]), "test")
    token = login_as(client, app, "frontdesk")
    assert post(client, f"/patients/{pid}/messages", {"action": "opt-out", "via": "phone"}, token).status_code == 302
    assert r.patients.get(pid, "test").opted_out_at is not None
    with r.store.transaction() as conn:
        assert contacts.opted_out(conn, pid, "")
        (event,) = contacts.history(conn, pid)
    assert (event.action, event.via, event.actor) == ("opt-out", "phone", "frontdesk")
    assert post(client, f"/patients/{pid}/messages", {"action": "bogus"}, token).status_code == 400
    assert post(client, f"/patients/{pid}/messages", {"action": "opt-in", "via": "phone"}, token).status_code == 302
    assert r.patients.get(pid, "test").opted_out_at is None
