"""The Waitlist page without a browser: who may open it, bad input refused with nothing
stored, removal twice, and the offer text saved to the overlay (a bad placeholder refused)."""

from __future__ import annotations

import tomllib

from flask import Flask
from flask.testing import FlaskClient

from appliance.store.patient_input import PatientInput
from tests.unit.webui.conftest import Clinic, login_as, post, repos
from tests.webui.fakecore import FakeCore


def _patient(app: Flask) -> int:
    return repos(app).patients.create(PatientInput(name="Wanda Waitlist", phones=["+48601500001"]), "t")


def _overlay(clinic: Clinic) -> dict:  # type: ignore[type-arg]
    path = clinic.directory / "settings.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def test_a_technician_cannot_open_the_waitlist(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "tech")
    assert client.get("/waitlist").status_code == 403


def test_the_desk_adds_edits_and_removes_an_entry_audited(client: FlaskClient, app: Flask) -> None:
    pid = _patient(app)
    token = login_as(client, app, "frontdesk")
    card = client.get(f"/patients/{pid}").get_data(as_text=True)
    assert f'href="/waitlist/new/{pid}"' in card  # "Put on the waitlist" on the patient card
    form = {"when": "range", "from_time": "08:00", "to_time": "12:00", "day0": "1", "day2": "1", "duration_min": "20"}
    assert post(client, f"/waitlist/new/{pid}", form, token).status_code == 302
    (entry,) = repos(app).waitlist.entries("t")
    assert (entry.earliest, entry.weekdays, entry.from_time, entry.to_time) == (False, "02", "08:00", "12:00")
    html = client.get("/waitlist").get_data(as_text=True)
    assert "Wanda Waitlist" in html and "08:00–12:00" in html
    assert (
        post(client, f"/waitlist/{entry.id}/edit", {"when": "earliest", "provider": "Dr Nowak"}, token).status_code
        == 302
    )
    assert repos(app).waitlist.get(entry.id, "t").provider == "Dr Nowak"
    assert post(client, f"/waitlist/{entry.id}/remove", {}, token).status_code == 302
    again = post(client, f"/waitlist/{entry.id}/remove", {}, token)
    assert again.status_code == 302
    assert "removed already" in client.get("/waitlist").get_data(as_text=True)
    actions = [r[0] for r in repos(app).store.query("SELECT action FROM audit_log WHERE object_type = 'waitlist'")]
    assert {"waitlist-add", "waitlist-edit", "waitlist-remove", "view"} <= set(actions)


def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(client: FlaskClient, app: Flask) -> None:
    pid = _patient(app)
    token = login_as(client, app, "frontdesk")
    for form, field in (
        ({"when": "range", "from_time": "9am"}, "from_time"),
        ({"when": "range", "from_date": "2026-03-09", "to_date": "2026-03-01"}, "to_date"),
        ({"when": "earliest", "duration_min": "lots"}, "duration_min"),
    ):
        response = post(client, f"/waitlist/new/{pid}", form, token)
        assert response.status_code == 400
        assert field in response.get_data(as_text=True)
    assert repos(app).waitlist.entries("t", include_closed=True) == []
    assert client.get("/waitlist/new/999999").status_code == 404
    assert client.get("/waitlist/999999/edit").status_code == 404
    assert post(client, "/waitlist/999999/remove", {}, token).status_code == 404


def test_the_offer_text_is_saved_and_a_bad_placeholder_is_refused(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    page = client.get("/waitlist/texts").get_data(as_text=True)
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    bad = {"text.en": "{clinic}: {doctor} is free", "action": "save", "version": version}
    assert post(client, "/waitlist/texts", bad, token).status_code == 400
    assert "waitlist" not in _overlay(clinic)
    good = {"text.en": "{clinic}: free {date} {time}, YES in {minutes} min", "action": "save", "version": version}
    assert post(client, "/waitlist/texts", good, token).status_code == 302
    assert _overlay(clinic)["waitlist"]["offer_texts"] == {"en": "{clinic}: free {date} {time}, YES in {minutes} min"}
