"""Patients and appointments: escaping, audit, hostile input, export, erase."""

from __future__ import annotations

import csv
import io
import json

from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import NOW, login_as, post, repos
from tests.webui.data import add_voicemail

XSS = "<script>alert(1)</script>"


def new_patient(client: FlaskClient, token: str, **fields: str) -> object:
    data = {"given_name": "Ann", "family_name": "Lee", "date_of_birth": "1980-02-03", "phones": "+1 212 555 0150"}
    data.update(fields)
    return post(client, "/patients/new", data, token)


def test_a_new_patient_is_saved_and_its_record_opens(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    response = new_patient(client, token)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ann Lee" in page and "(212) 555-0150" in page


def test_names_render_as_text_everywhere(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    location = new_patient(client, token, given_name=XSS, family_name='"><img src=x onerror=alert(2)>').headers[
        "Location"
    ]
    for path in (location, "/patients?q=script", location + "/edit"):
        page = client.get(path).get_data(as_text=True)
        assert XSS not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert "<img src=x" not in page, path


def test_bad_values_get_a_clear_error_and_keep_what_was_typed(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    before = repos(app).patients.count()
    response = new_patient(client, token, date_of_birth="1980-13-45", phones="12", notes="keep me")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="error-date_of_birth"' in page and 'data-testid="error-phones"' in page
    assert "keep me" in page and 'value="Ann"' in page
    assert repos(app).patients.count() == before


def test_oversized_fields_are_refused_not_truncated(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    response = new_patient(client, token, notes="x" * 5000)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-testid="error-notes"' in page and "longer than 4000 characters" in page


def test_every_patient_read_is_audited(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "frontdesk")
    client.get("/patients/1")
    client.get("/patients?q=smith")
    client.get("/schedule")
    log = repos(app).audit.search(actor="frontdesk")
    seen = {(e.action, e.object_type, e.object_id) for e in log}
    assert ("view", "patient", "1") in seen
    assert ("search", "patient", "") in seen
    assert ("view", "schedule", "") in seen
    search = next(e for e in log if e.action == "search")
    assert "smith" not in search.detail.lower(), "the search text (a name) is never logged"


def test_the_screen_pop_audits_each_card_it_shows(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "frontdesk")
    number = repos(app).store.query_one("SELECT e164 FROM patient_phones WHERE patient_id = 2")[0]
    page = client.get(f"/console/pop?caller={number}&call_id=abc-1").get_data(as_text=True)
    assert 'data-testid="pop-card" data-patient-id="2"' in page
    entries = repos(app).audit.search(action="screen-pop")
    assert [(e.object_id, e.detail) for e in entries] == [("2", "call abc-1")]


def test_several_patients_on_one_number_offer_a_choice(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    number = repos(app).store.query_one("SELECT e164 FROM patient_phones WHERE patient_id = 2")[0]
    new_patient(client, token, given_name="Kid", family_name="Two", phones=number)
    page = client.get(f"/console/pop?caller={number}&call_id=c9").get_data(as_text=True)
    assert 'data-testid="pop-choice"' in page and page.count('data-testid="pop-choose"') == 2
    chosen = client.get(f"/console/pop/patient/2?caller={number}&call_id=c9")
    assert chosen.status_code == 200 and 'data-patient-id="2"' in chosen.get_data(as_text=True)
    # A patient who does not have the caller's number cannot be opened this way.
    assert client.get(f"/console/pop/patient/5?caller={number}&call_id=c9").status_code == 404


def test_an_unknown_number_offers_the_new_patient_form(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    page = client.get("/console/pop?caller=%2B12125550999&call_id=n1").get_data(as_text=True)
    assert 'data-testid="pop-new-patient"' in page and 'value="+12125550999"' in page
    response = post(
        client,
        "/console/new-patient",
        {"given_name": "Nowy", "family_name": "Pacjent", "phone": "+12125550999", "language": "pl", "call_id": "n1"},
        token,
    )
    assert response.status_code == 200 and "Nowy Pacjent" in response.get_data(as_text=True)
    hidden = client.get("/console/pop?caller=anonymous&call_id=n2").get_data(as_text=True)
    assert "Hidden or unknown number" in hidden


def test_export_json_and_csv_are_complete_and_audited(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "manager")
    data = json.loads(client.get("/patients/1/export.json").get_data(as_text=True))
    assert data["patient"]["id"] == 1 and "appointments" in data
    response = client.get("/patients/1/export.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="patient-1.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["section", "record", "field", "value"]
    assert ["patient", "1", "display_name", data["patient"]["display_name"]] in rows
    assert len([e for e in repos(app).audit.search(action="export") if e.object_id == "1"]) == 2


def test_csv_export_cannot_smuggle_spreadsheet_formulas(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    location = new_patient(client, token, notes='=HYPERLINK("http://evil")').headers["Location"]
    pid = location.rsplit("/", 1)[1]
    body = client.get(f"/patients/{pid}/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_erase_needs_the_patient_number_then_removes_record_and_media(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    vm_id, _audio = add_voicemail(repos(app), NOW, count=1)[0]
    pid, name = repos(app).store.query_one("SELECT patient_id, media_file FROM voicemail WHERE id = ?", (vm_id,))
    path = repos(app).media.path(name)
    assert path.exists()
    refused = post(client, f"/patients/{pid}/erase", {"confirm": "wrong"}, token)
    assert refused.status_code == 400 and repos(app).store.query_one("SELECT 1 FROM patients WHERE id = ?", (pid,))
    done = post(client, f"/patients/{pid}/erase", {"confirm": str(pid)}, token)
    assert done.status_code == 302
    assert client.get(f"/patients/{pid}").status_code == 404
    assert not path.exists()
    assert repos(app).audit.search(action="erase")[0].object_id == str(pid)


def test_booking_validates_the_time_and_runs_through_the_store(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    bad = post(client, "/patients/1/appointments", {"date": "2026-02-30", "time": "10:00"}, token)
    assert bad.status_code == 400 and "not a date" in bad.get_data(as_text=True)
    bad_time = post(client, "/patients/1/appointments", {"date": "2026-03-10", "time": "25:00"}, token)
    assert bad_time.status_code == 400
    ok = post(
        client,
        "/patients/1/appointments",
        {"date": "2026-03-10", "time": "10:30", "duration_min": "20", "provider": "Dr. Test"},
        token,
    )
    assert ok.status_code == 302
    row = repos(app).store.query_one(
        "SELECT starts_at, ends_at FROM appointments WHERE patient_id = 1 AND provider = 'Dr. Test'"
    )
    assert row[0] == "2026-03-10T14:30:00.000Z" and row[1] == "2026-03-10T14:50:00.000Z"  # New York, UTC-4


def test_schedule_status_change_and_week_view(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    aid = repos(app).store.query_one("SELECT id FROM appointments ORDER BY starts_at DESC LIMIT 1")[0]
    response = post(client, f"/appointments/{aid}/status", {"status": "confirmed", "next": "/schedule"}, token)
    assert response.status_code == 302 and response.headers["Location"] == "/schedule"
    assert repos(app).appointments.get(aid, "test").status == "confirmed"
    evil = post(client, f"/appointments/{aid}/status", {"status": "attended", "next": "//evil.example"}, token)
    assert evil.headers["Location"] == "/schedule"
    assert post(client, f"/appointments/{aid}/status", {"status": "deleted"}, token).status_code == 302
    assert repos(app).appointments.get(aid, "test").status == "attended"
    week = client.get("/schedule?view=week&date=2026-03-04").get_data(as_text=True)
    assert week.count('class="panel day') == 7
