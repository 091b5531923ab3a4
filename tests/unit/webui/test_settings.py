"""Settings screens: validated with the config's own rules, written only to
the overlay, minimal, conflict-safe, secrets never copied, core told."""

from __future__ import annotations

import io
import tomllib

from flask import Flask
from flask.testing import FlaskClient

from appliance.config import load_config
from tests.unit.webui.conftest import Clinic, login_as, post, repos, rt
from tests.webui.data import tone_wav
from tests.webui.fakecore import FakeCore


def overlay(clinic: Clinic) -> dict:  # type: ignore[type-arg]
    path = clinic.directory / "settings.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def version(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split('name="version" value="', 1)[1].split('"', 1)[0]


def hours_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    data = {day: "08:00-16:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    data.update(saturday="", sunday="", holidays="01-01\n12-25", version=version(client, "/settings/section/hours"))
    data.update(changes)
    return data


def test_a_valid_change_goes_to_the_overlay_only_and_the_core_reloads(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    before = (clinic.directory / "clinicbox.toml").read_text()
    response = post(client, "/settings/section/hours", hours_form(client, saturday="09:00-13:00"), token)
    assert response.status_code == 302
    base = load_config(clinic.config_path, use_overlay=False).hours
    form = {
        "monday": ["08:00-16:00"],
        "tuesday": ["08:00-16:00"],
        "wednesday": ["08:00-16:00"],
        "thursday": ["08:00-16:00"],
        "friday": ["08:00-16:00"],
        "saturday": ["09:00-13:00"],
        "sunday": [],
        "holidays": ["01-01", "12-25"],
    }
    # Only what differs from the clinic's own file goes to the overlay.
    assert overlay(clinic) == {"hours": {k: v for k, v in form.items() if getattr(base, k) != v}}
    assert overlay(clinic)["hours"]["saturday"] == ["09:00-13:00"]
    assert (clinic.directory / "clinicbox.toml").read_text() == before
    assert load_config(clinic.config_path).hours.saturday == ["09:00-13:00"]
    assert rt(app).cfg.hours.saturday == ["09:00-13:00"], "the web process reloads too"
    assert core.received("config.reload") == [{}]
    assert repos(app).audit.search(action="settings")[0].object_id == "hours"


def test_values_equal_to_the_clinics_file_are_not_pinned(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    cfg = rt(app).cfg
    form = {
        day: ", ".join(getattr(cfg.hours, day))
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    form.update(holidays="\n".join(cfg.hours.holidays), version=version(client, "/settings/section/hours"))
    assert post(client, "/settings/section/hours", form, token).status_code == 302
    assert overlay(clinic) == {}


def test_an_invalid_value_is_shown_at_its_field_and_nothing_is_written(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    token = login_as(client, app, "manager")
    response = post(
        client, "/settings/section/hours", hours_form(client, monday="17:00-08:00", holidays="02-30x"), token
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="field-error-monday"' in page and "ends before it starts" in page
    assert 'data-testid="field-error-holidays"' in page
    assert "17:00-08:00" in page, "what the user typed stays in the form"
    assert not (clinic.directory / "settings.toml").exists()


def test_type_errors_are_caught_before_validation(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    data = {
        "mailboxes": "general\nafter-hours",
        "max_seconds": "two minutes",
        "min_seconds": "2",
        "version": version(client, "/settings/section/voicemail"),
    }
    response = post(client, "/settings/section/voicemail", data, token)
    assert response.status_code == 400
    assert "write a whole number" in response.get_data(as_text=True)
    data["max_seconds"] = "9999"
    response = post(client, "/settings/section/voicemail", data, token)
    assert response.status_code == 400 and "above the maximum" in response.get_data(as_text=True)
    assert not (clinic.directory / "settings.toml").exists()


def test_a_stale_form_cannot_overwrite_a_newer_save(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    old = hours_form(client, saturday="09:00-12:00")
    assert post(client, "/settings/section/hours", hours_form(client, sunday="10:00-11:00"), token).status_code == 302
    stale = post(client, "/settings/section/hours", old, token)
    assert stale.status_code == 400
    page = stale.get_data(as_text=True)
    assert "Someone saved the settings" in page and "09:00-12:00" in page, "the user's edit is kept to review"
    assert overlay(clinic)["hours"]["sunday"] == ["10:00-11:00"] and overlay(clinic)["hours"]["saturday"] == []


def test_secrets_never_reach_the_overlay(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    page = client.get("/settings/stations/desk1").get_data(as_text=True)
    assert 'name="password"' not in page
    data = {
        "name": "Desk one",
        "contact": "",
        "queues": ["front-desk", "billing"],
        "answer_mode": "manual",
        "audio_device": "",
        "version": version(client, "/settings/stations/desk1"),
    }
    assert post(client, "/settings/stations/desk1", data, token).status_code == 302
    text = (clinic.directory / "settings.toml").read_text()
    assert "password" not in text
    secret = tomllib.loads((clinic.directory / "secrets.toml").read_text())["stations"]["desk1"]["password"]
    cfg = load_config(clinic.config_path)
    assert cfg.stations["desk1"].password == secret and cfg.stations["desk1"].queues == ["front-desk", "billing"]
    trunk = client.get("/settings/section/trunk").get_data(as_text=True)
    assert 'name="password"' not in trunk


def test_a_queue_still_in_use_cannot_be_deleted(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    response = post(client, "/settings/queues/billing/delete", {"version": version(client, "/settings/queues")}, token)
    assert response.status_code == 302
    page = client.get("/settings/queues").get_data(as_text=True)
    assert "Not deleted" in page and "unknown queue" in page
    assert "billing" in load_config(clinic.config_path).queues


def test_ivr_steps_are_added_edited_and_checked_as_a_whole(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    added = post(
        client,
        "/settings/ivr/add",
        {"name": "oncall", "type": "transfer", "version": version(client, "/settings/ivr")},
        token,
    )
    assert added.headers["Location"] == "/settings/ivr/node/oncall?type=transfer"
    bad = post(
        client,
        "/settings/ivr/node/oncall",
        {"type": "transfer", "number": "", "version": version(client, "/settings/ivr")},
        token,
    )
    assert bad.status_code == 400 and "a transfer needs the number to call" in bad.get_data(as_text=True)
    good = post(
        client,
        "/settings/ivr/node/oncall",
        {"type": "transfer", "number": "+12125550111", "version": version(client, "/settings/ivr")},
        token,
    )
    assert good.status_code == 302
    menu = load_config(clinic.config_path).ivr.nodes["main"]
    data = {
        "type": "menu",
        "prompt": "main_menu",
        "options": "\n".join(f"{k} = {v}" for k, v in {**menu.options, "9": "oncall"}.items()),
        "timeout_s": "5",
        "retries": "2",
        "fallback": "front-desk",
        "version": version(client, "/settings/ivr"),
    }
    assert post(client, "/settings/ivr/node/main", data, token).status_code == 302
    assert load_config(clinic.config_path).ivr.nodes["main"].options["9"] == "oncall"
    tree = client.get("/settings/ivr").get_data(as_text=True)
    assert 'data-node="oncall"' in tree
    dangling = post(client, "/settings/ivr/node/oncall/delete", {"version": version(client, "/settings/ivr")}, token)
    assert dangling.status_code == 302 and "oncall" in load_config(clinic.config_path).ivr.nodes


def test_prompt_uploads_are_checked_and_stored_where_the_ivr_looks(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    token = login_as(client, app, "manager")

    def send(name: str, data: bytes, lang: str = "es") -> object:
        return client.post(
            "/settings/prompts/upload",
            data={"name": name, "language": lang, "csrf_token": token, "file": (io.BytesIO(data), "x.wav")},
            content_type="multipart/form-data",
            headers={"X-Requested-With": "fetch"},
        )

    assert send("greeting", b"RIFF....not really").status_code == 400
    assert send("../../store", tone_wav(0.2)).status_code == 400
    assert send("greeting", tone_wav(0.2), lang="xx").status_code == 400
    assert send("greeting", tone_wav(0.2)).get_json() == {"ok": True}
    stored = clinic.directory / "prompts" / "custom" / "es" / "greeting.wav"
    assert stored.read_bytes() == tone_wav(0.2)
    assert client.get("/settings/prompts/audio/greeting.wav?lang=es").status_code == 200
    assert client.get("/settings/prompts/audio/..%2Fstore.wav?lang=es").status_code == 404


def test_prompt_texts_and_preview(client: FlaskClient, app: Flask, clinic: Clinic) -> None:
    token = login_as(client, app, "manager")
    data = {"text:pl:greeting": "Dzień dobry, tu {clinic}.", "version": version(client, "/settings/prompts")}
    assert post(client, "/settings/prompts/texts", data, token).status_code == 302
    assert load_config(clinic.config_path).prompts.texts["pl"]["greeting"] == "Dzień dobry, tu {clinic}."
    wav = post(
        client,
        "/settings/prompts/preview",
        {"text": "Dzień dobry", "language": "pl"},
        token,
        headers={"X-Requested-With": "fetch"},
    )
    assert wav.status_code == 200 and wav.mimetype == "audio/wav" and wav.get_data()[:4] == b"RIFF"
    empty = post(
        client,
        "/settings/prompts/preview",
        {"text": " ", "language": "pl"},
        token,
        headers={"X-Requested-With": "fetch"},
    )
    assert empty.status_code == 400
