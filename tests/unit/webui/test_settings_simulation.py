"""The settings screens never show the simulator's keys, refuse a form that
posts one anyway (nothing written, core not told), and drop one left in an
old overlay."""

from __future__ import annotations

import tomllib
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import load_config
from appliance.errors import ConfigError
from tests.unit.webui.conftest import Clinic, login_as, post, rt
from tests.webui.fakecore import FakeCore
from webui.services.overlay import Overlay


class _Form(HTMLParser):
    """The values a browser would submit for the page's settings form, as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))
            else:
                self.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = name
            self.fields.append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)


def form_of(client: FlaskClient, path: str) -> dict[str, list[str]]:
    parser = _Form()
    response = client.get(path)
    assert response.status_code == 200
    parser.feed(response.get_data(as_text=True))
    out: dict[str, list[str]] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    return out


def overlay_text(clinic: Clinic) -> str | None:
    path = clinic.directory / "settings.toml"
    return path.read_text(encoding="utf-8") if path.exists() else None


@pytest.mark.parametrize(
    ("section", "hidden", "shown"),
    [
        ("reminders", ["dialer", "simulator."], "max_calls"),
        ("modem", ["simulate", "simulator_profile"], "sms_per_minute"),
    ],
)
def test_the_simulators_keys_are_never_shown(
    client: FlaskClient, app: Flask, section: str, hidden: list[str], shown: str
) -> None:
    login_as(client, app, "manager")
    assert rt(app).cfg.simulate, "even on the demo box"
    fields = form_of(client, f"/settings/section/{section}")
    assert shown in fields
    for name in hidden:
        assert not [f for f in fields if f == name or (name.endswith(".") and f.startswith(name))], fields


@pytest.mark.parametrize(
    ("section", "forged"),
    [
        ("reminders", {"dialer": "simulator"}),
        ("reminders", {"simulator.answer": "1.0"}),
        ("modem", {"simulate": "on"}),
        ("modem", {"simulator_profile": "sim7600"}),
    ],
)
def test_a_forged_form_with_a_simulator_key_is_refused_and_nothing_changes(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore, section: str, forged: dict[str, str]
) -> None:
    token = login_as(client, app, "manager")
    before = load_config(clinic.config_path)
    form = form_of(client, f"/settings/section/{section}")
    form.update({k: [v] for k, v in forged.items()})
    response = post(client, f"/settings/section/{section}", form, token)
    assert response.status_code == 400
    assert "Simulation cannot be set from the web UI; nothing was changed." in response.get_data(as_text=True)
    assert overlay_text(clinic) is None
    assert core.received("config.reload") == []
    assert load_config(clinic.config_path) == before


def test_the_same_form_without_the_forgery_saves(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    """The refusal above is the forged key's doing: the page's own form saves."""
    token = login_as(client, app, "manager")
    form = form_of(client, "/settings/section/modem")
    form["sms_per_minute"] = ["7"]
    response = post(client, "/settings/section/modem", form, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert tomllib.loads(overlay_text(clinic) or "") == {"modem": {"sms_per_minute": 7}}
    assert core.received("config.reload") == [{}]


def test_the_overlay_refuses_a_simulator_key_whoever_builds_the_candidate(clinic: Clinic) -> None:
    overlay = Overlay(clinic.cfg.paths.state_dir, clinic.config_path)
    with pytest.raises(ConfigError) as caught:
        overlay.save({"reminders": {"dialer": "simulator", "max_calls": 3}}, overlay.version())
    assert caught.value.problems == [
        "reminders.dialer: simulation cannot be set from the web UI's settings (only a demo or test box has it)"
    ]
    assert overlay_text(clinic) is None


def test_a_simulator_key_left_in_an_old_overlay_is_dropped_on_the_next_save(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    (clinic.directory / "settings.toml").write_text(
        '[reminders]\ndialer = "simulator"\nmax_calls = 3\n[reminders.simulator]\nanswer = 0.9\n'
        "[modem]\nsimulate = false\n"
    )
    token = login_as(client, app, "manager")
    form = form_of(client, "/settings/section/voicemail")
    form["max_seconds"] = ["100"]
    assert post(client, "/settings/section/voicemail", form, token).status_code == 302
    assert tomllib.loads(overlay_text(clinic) or "") == {
        "reminders": {"max_calls": 3},
        "voicemail": {"max_seconds": 100},
    }


def test_the_reminder_policy_page_saves_its_own_form_and_its_hour_offsets(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    """Lists of numbers (reminder offsets) go back to the config as numbers, not text."""
    token = login_as(client, app, "manager")
    form = form_of(client, "/settings/section/reminders")
    form["offsets_h"] = ["72\n24"]
    response = post(client, "/settings/section/reminders", form, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert tomllib.loads(overlay_text(clinic) or "")["reminders"]["offsets_h"] == [72, 24]
    assert core.received("config.reload") == [{}]


def test_an_hour_offset_that_is_not_a_number_is_refused_and_nothing_changes(
    client: FlaskClient, app: Flask, clinic: Clinic, core: FakeCore
) -> None:
    token = login_as(client, app, "manager")
    before = overlay_text(clinic)
    form = form_of(client, "/settings/section/reminders")
    form["offsets_h"] = ["48\ntomorrow"]
    response = post(client, "/settings/section/reminders", form, token)
    assert response.status_code == 400
    assert "write whole numbers, one per line" in response.get_data(as_text=True)
    assert overlay_text(clinic) == before
    assert core.received("config.reload") == []
