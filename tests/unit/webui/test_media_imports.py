"""Voicemail playback (decrypted on the fly, audited), hostile media names,
and CSV imports with bad rows, bad files and oversized uploads."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient

from tests.unit.webui.conftest import NOW, Clinic, build_app, login_as, post, repos, rt
from tests.webui.data import add_voicemail


def test_voicemail_plays_decrypted_and_every_play_is_audited(client: FlaskClient, app: Flask) -> None:
    made = add_voicemail(repos(app), NOW, count=2)
    login_as(client, app, "frontdesk")
    page = client.get("/voicemail").get_data(as_text=True)
    assert page.count('data-testid="voicemail-item"') == 2
    vm_id, audio = made[1]
    response = client.get(f"/voicemail/{vm_id}/audio")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data() == audio
    client.get(f"/voicemail/{vm_id}/audio")
    plays = [e for e in repos(app).audit.search(action="play") if e.object_id == str(vm_id)]
    assert len(plays) == 2 and plays[0].actor == "frontdesk"


def test_audio_never_lies_on_disk_in_clear(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    vm_id, audio = add_voicemail(repos(app), NOW, count=1)[0]
    login_as(client, app, "frontdesk")
    assert client.get(f"/voicemail/{vm_id}/audio").get_data() == audio
    marker = audio[60:120]
    for path in clinic.directory.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm"):
            assert marker not in path.read_bytes(), f"clear audio found in {path}"


def test_a_tampered_media_name_cannot_read_other_files(client: FlaskClient, app: Flask) -> None:
    vm_id, _audio = add_voicemail(repos(app), NOW, count=1)[0]
    for evil in ("../../clinicbox.toml", "/etc/passwd", "voicemail/../../../store.key"):
        with repos(app).store.transaction() as conn:
            conn.execute("UPDATE voicemail SET media_file = ? WHERE id = ?", (evil, vm_id))
        login_as(client, app, "frontdesk")
        response = client.get(f"/voicemail/{vm_id}/audio")
        assert response.status_code == 400, evil
        assert "not valid" in response.get_data(as_text=True)
    assert client.get("/voicemail/..%2F..%2Fstore.key/audio").status_code == 404
    assert client.get("/voicemail/99999/audio").status_code == 404


def test_a_missing_or_damaged_audio_file_is_an_error_page(client: FlaskClient, app: Flask) -> None:
    vm_id, _audio = add_voicemail(repos(app), NOW, count=1)[0]
    name = repos(app).store.query_one("SELECT media_file FROM voicemail WHERE id = ?", (vm_id,))[0]
    path = repos(app).media.path(name)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    login_as(client, app, "frontdesk")
    assert client.get(f"/voicemail/{vm_id}/audio").status_code == 500
    path.unlink()
    assert client.get(f"/voicemail/{vm_id}/audio").status_code == 404
    assert not repos(app).audit.search(action="play")


def test_marking_voicemail_handled(client: FlaskClient, app: Flask) -> None:
    vm_id, _audio = add_voicemail(repos(app), NOW, count=1)[0]
    token = login_as(client, app, "frontdesk")
    assert post(client, f"/voicemail/{vm_id}/handled", {"handled": "1"}, token).status_code == 302
    status, by = repos(app).store.query_one("SELECT status, handled_by FROM voicemail WHERE id = ?", (vm_id,))
    assert (status, by) == ("handled", "frontdesk")
    assert 'data-testid="voicemail-empty"' in client.get("/voicemail?status=new").get_data(as_text=True)
    assert post(client, "/voicemail/4242/handled", {}, token).status_code == 404


def upload(client: FlaskClient, token: str, data: bytes, kind: str = "patients", skip: bool = False) -> object:
    form = {"kind": kind, "csrf_token": token, "file": (io.BytesIO(data), "file.csv")}
    if skip:
        form["skip_bad"] = "on"
    return client.post("/import", data=form, content_type="multipart/form-data")


def test_a_bad_row_is_reported_by_line_and_nothing_is_imported(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    before = repos(app).patients.count()
    csv = "name,dob,phone\nGood One,1970-01-01,+12125550160\nBad Date,1970-02-31,+12125550161\n,,\n"
    response = upload(client, token, csv.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-line="3"' in page and "date_of_birth" in page
    assert "Bad Date" not in page, "the report never echoes the row (patient data)"
    assert repos(app).patients.count() == before
    ok = upload(client, token, csv.encode(), skip=True)
    assert ok.status_code == 200 and repos(app).patients.count() == before + 1


def test_files_that_are_not_csv_get_a_clear_error(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    cases = {
        b"\x89PNG\r\n\x1a\n\x00\x00binary": "not UTF-8",
        b"name\nA\x00B\n": "NUL byte",
        "name\nZo\xe9".encode("latin-1"): "not UTF-8",
        b"": "empty",
        b"colour,flavour\nred,sweet\n": "unknown columns",
    }
    for data, message in cases.items():
        response = upload(client, token, data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), message
    missing = client.post("/import", data={"kind": "patients", "csrf_token": token})
    assert missing.status_code == 400 and "Choose a CSV file" in missing.get_data(as_text=True)


def test_an_oversized_upload_is_refused_before_it_is_read(clinic: Clinic, clock) -> None:
    app = build_app(clinic, clock, web={"max_upload_mb": 1})
    client = app.test_client()
    token = login_as(client, app, "manager")
    response = upload(client, token, b"name\n" + b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    rt(app).store.close()


def test_a_calendar_export_imports_appointments_and_reports_bad_events(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:visit-1@test\r\nDTSTART;TZID=America/New_York:20301104T093000\r\n"
        b"DURATION:PT30M\r\nX-PATIENT-ID:DEMO-0001\r\nLOCATION:Room 1\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:visit-2@test\r\nDTSTART;VALUE=DATE:20301105\r\nX-PATIENT-ID:DEMO-0002\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    form = {"kind": "appointments", "csrf_token": token, "file": (io.BytesIO(ics), "export.ics")}
    response = client.post("/import", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-line="' in page  # the all-day event is refused, by line
    form = {"kind": "appointments", "csrf_token": token, "skip_bad": "on", "file": (io.BytesIO(ics), "export.ics")}
    response = client.post("/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 200
    rows = repos(app).store.query("SELECT location, source FROM appointments WHERE external_id = 'ics:visit-1@test'")
    assert [tuple(r) for r in rows] == [("Room 1", "ics")]
