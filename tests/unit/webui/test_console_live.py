"""The console's commands reach the core; the live hub and its stream; the
web UI with the core down; callbacks through the core."""

from __future__ import annotations

import json
import time

from flask import Flask
from flask.testing import FlaskClient

from appliance.control import ControlClient
from appliance.switchboard.handler import CALLBACK_OUTCOMES
from tests.unit.webui.conftest import NOW, Clinic, build_app, login_as, post, repos, rt
from tests.webui.data import add_callbacks
from tests.webui.fakecore import FakeCore
from webui.live import LiveHub
from webui.ui_text import callback_outcomes

FETCH = {"X-Requested-With": "fetch"}


def action(client: FlaskClient, token: str, **data: str) -> object:
    return post(client, "/console/action", {"station": "desk1", **data}, token, headers=FETCH)


def test_console_actions_become_control_commands(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "frontdesk")
    assert action(client, token, action="login").get_json()["ok"]
    assert action(client, token, action="pause", reason="lunch").get_json()["ok"]
    assert action(client, token, action="pause", reason="<b>odd</b>").get_json()["ok"]
    assert core.received("agent.pause") == [
        {"station": "desk1", "reason": "lunch"},
        {"station": "desk1", "reason": "break"},
    ]
    assert action(client, token, action="unpause").get_json()["ok"]
    assert action(client, token, action="transfer", to_queue="billing").get_json()["ok"]
    assert core.received("call.transfer") == [{"station": "desk1", "to_queue": "billing"}]


def test_refusals_from_the_core_are_shown_as_they_come(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "frontdesk")
    reply = action(client, token, action="answer")
    assert reply.status_code == 409
    assert reply.get_json()["message"] == "station desk1 is not ringing"


def test_bad_console_input_is_refused_before_the_core(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "frontdesk")
    cases = [
        {"action": "reboot"},
        {"action": "answer", "station": "desk99"},
        {"action": "transfer", "to_queue": "nope"},
        {"action": "transfer", "to_number": "drop table"},
        {"action": "transfer", "to_station": "desk2", "to_queue": "billing"},
    ]
    for data in cases:
        reply = action(client, token, **data)
        assert reply.status_code == 400, data
        assert reply.get_json()["ok"] is False
    assert core.commands == []
    assert post(client, "/console/note", {"call_id": "c1", "note": "x" * 2001}, token, headers=FETCH).status_code == 400


def test_with_the_core_down_the_console_says_so(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    reply = action(client, token, action="login")
    assert reply.status_code == 503
    assert "not running" in reply.get_json()["message"]
    page = client.get("/console").get_data(as_text=True)
    assert 'data-testid="core-banner"' in page and "Core not running" in page


def test_callbacks_list_oldest_first_and_close_through_the_core(
    client: FlaskClient, app: Flask, core: FakeCore
) -> None:
    ids = add_callbacks(repos(app), NOW, count=3)
    token = login_as(client, app, "frontdesk")
    page = client.get("/callbacks").get_data(as_text=True)
    order = [int(part.split('"')[0]) for part in page.split('data-callback-id="')[1:]]
    assert order == ids  # requested 90, 70, 50 minutes ago
    assert post(client, f"/callbacks/{ids[0]}/call", {"station": "desk1"}, token, headers=FETCH).get_json()["ok"]
    assert core.received("callback.originate") == [{"callback_id": ids[0], "station": "desk1"}]
    bad = post(client, f"/callbacks/{ids[0]}/close", {"outcome": "whatever"}, token, headers=FETCH)
    assert bad.status_code == 400
    post(client, f"/callbacks/{ids[0]}/close", {"outcome": "reached"}, token, headers=FETCH)
    assert core.received("callback.close") == [{"callback_id": ids[0], "outcome": "reached", "actor": "frontdesk"}]
    assert repos(app).audit.search(action="view", object_type="callbacks")


def test_every_outcome_the_callback_list_offers_is_one_the_core_accepts(app: Flask) -> None:
    with app.test_request_context("/callbacks"):
        offered = set(callback_outcomes())
    assert offered <= set(CALLBACK_OUTCOMES), offered - set(CALLBACK_OUTCOMES)


def wait_for(predicate, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_the_hub_follows_the_core_and_notices_it_going_away(core: FakeCore, clinic: Clinic) -> None:
    hub = LiveHub(ControlClient(clinic.cfg.control_socket), retry_s=0.05)
    listener = hub.listen()
    hub.start()
    wait_for(lambda: hub.core_up)
    assert hub.snapshot()["trunk"]["state"] == "up"  # type: ignore[index]
    core.add_waiting("front-desk", "c1", "+48601234567", wait_s=3)
    wait_for(lambda: any(w["call_id"] == "c1" for q in hub.snapshot()["queues"] for w in q["waiting"]))  # type: ignore[index]
    core.stop()
    wait_for(lambda: not hub.core_up)
    kinds = []
    while (message := listener.get(timeout=0.01)) is not None:
        kinds.append(message.kind)
    assert kinds[0] == "core" and "snapshot" in kinds and kinds[-1] == "core"
    assert hub.snapshot() is None
    hub.stop()


def read_events(response: object, count: int) -> list[tuple[str, object]]:
    events = []
    buffer = ""
    for chunk in response.response:  # type: ignore[attr-defined]
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(
                line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
            )
            if "event" in lines:
                events.append((lines["event"], json.loads(lines["data"])))
        if len(events) >= count:
            return events
    return events


def test_the_stream_masks_callers_for_technicians_and_wallboards(clinic: Clinic, clock, core: FakeCore) -> None:
    core.add_waiting("front-desk", "c7", "+48601234567", wait_s=12)
    app = build_app(clinic, clock)
    hub = rt(app).hub
    hub.start()
    wait_for(lambda: hub.core_up)
    for who, view, masked in (
        ("tech", "dashboard", True),
        ("manager", "wallboard", True),
        ("manager", "dashboard", False),
    ):
        client = app.test_client()
        login_as(client, app, who)
        response = client.get(f"/live/stream?view={view}")
        assert response.mimetype == "text/event-stream"
        events = read_events(response, 2)
        response.close()
        assert events[0] == ("core", {"up": True, "reason": ""})
        kind, snap = events[1]
        assert kind == "snapshot"
        caller = next(w["caller"] for q in snap["queues"] for w in q["waiting"])  # type: ignore[index]
        assert (caller == "+48601234567") is not masked, (who, view, caller)
    hub.stop()
    rt(app).store.close()


def test_the_box_toggles_reach_the_core_and_are_audited(client: FlaskClient, app: Flask, core: FakeCore) -> None:
    token = login_as(client, app, "manager")
    assert post(client, "/box/night-mode", {"on": "1"}, token, headers=FETCH).get_json()["ok"]
    assert post(client, "/box/reminders", {"paused": "1"}, token, headers=FETCH).get_json()["ok"]
    assert core.snapshot()["box"]["night_mode"] is True and core.snapshot()["box"]["reminders_paused"] is True
    assert {e.action for e in repos(app).audit.search(object_type="box")} == {"night-mode-on", "reminders-pause"}
