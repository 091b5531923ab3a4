"""Idle logout on pages left open: what the page scripts fetch on their own
timers must not count as someone using the computer.

A dashboard or wallboard left open on a shared front-desk screen keeps
fetching today's figures (live.js, every minute), the live snapshot when
it falls back to polling and the session check (common.js). If any of
those counted as activity, the session would never time out.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from tests.unit.webui.conftest import login_as, rt

FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}  # as cbx.get sends


def background_polls(view: str) -> list[str]:
    """What an open dashboard/wallboard page requests by itself each minute."""
    return ["/dashboard/today", f"/live/snapshot?view={view}", "/session"]


@pytest.mark.parametrize(("page", "view"), [("/dashboard", "dashboard"), ("/wallboard", "wallboard")])
def test_a_page_left_open_is_logged_out_after_the_idle_time(
    client: FlaskClient, app: Flask, clock: FakeClock, page: str, view: str
) -> None:
    login_as(client, app, "manager")
    assert client.get(page).status_code == 200
    idle = rt(app).cfg.web.idle_logout_min * 60
    minutes = 0
    while minutes * 60 < idle - 60:
        clock.advance(60)
        minutes += 1
        for url in background_polls(view):
            assert client.get(url, headers=FETCH).status_code == 200, url
    clock.advance(120)
    # The next poll finds the session gone, so the page script sends the user to log in.
    reply = client.get("/dashboard/today", headers=FETCH)
    assert reply.status_code == 401 and reply.get_json()["error"] == "login"
    assert client.get(page).status_code == 302


def test_the_today_figures_poll_does_not_reset_the_idle_countdown(
    client: FlaskClient, app: Flask, clock: FakeClock
) -> None:
    login_as(client, app, "manager")
    idle = rt(app).cfg.web.idle_logout_min * 60
    clock.advance(300)
    assert client.get("/dashboard/today", headers=FETCH).status_code == 200
    left = client.get("/session", headers=FETCH).get_json()["idle_left_s"]
    assert left == idle - 300
