"""Logging in: argon2 accounts, lockout, throttling, idle logout, sessions."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from tests.unit.webui.conftest import Clinic, csrf, login_as, post, repos, rt


def real_login(client: FlaskClient, username: str, password: str, next_url: str = "") -> object:
    token = csrf(client)
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


def test_a_real_login_opens_the_users_start_page(client: FlaskClient, clinic: Clinic) -> None:
    response = real_login(client, "frontdesk", clinic.logins["frontdesk"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/console"


def test_the_session_id_changes_at_login(client: FlaskClient, clinic: Clinic) -> None:
    client.get("/login")
    before = client.get_cookie("cbx_session").value
    real_login(client, "manager", clinic.logins["manager"])
    after = client.get_cookie("cbx_session").value
    assert before != after
    # The pre-login session id is dead: a stolen anonymous cookie gains nothing.
    other = client.application.test_client()
    other.set_cookie("cbx_session", before)
    assert other.get("/dashboard").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client: FlaskClient, clinic: Clinic) -> None:
    wrong = real_login(client, "manager", "not-the-password")
    ghost = real_login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == ghost.status_code == 401
    assert "Wrong user name or password." in wrong.get_data(as_text=True)
    assert "Wrong user name or password." in ghost.get_data(as_text=True)


def test_repeated_failures_lock_the_account_for_a_while(
    client: FlaskClient, app: Flask, clinic: Clinic, clock: FakeClock
) -> None:
    cfg = rt(app).cfg
    for _ in range(cfg.web.login_max_failures):
        real_login(client, "frontdesk", "wrong-wrong-wrong")
    locked = real_login(client, "frontdesk", clinic.logins["frontdesk"])
    assert locked.status_code == 401
    assert "locked" in locked.get_data(as_text=True)
    clock.advance(cfg.web.lockout_min * 60 + 1)
    assert real_login(client, "frontdesk", clinic.logins["frontdesk"]).status_code == 302
    actions = [e.action for e in repos(app).audit.search(object_type="user")]
    assert "login-failed" in actions and "login" in actions


def test_one_address_trying_many_accounts_is_throttled(client: FlaskClient, clinic: Clinic) -> None:
    for i in range(10):
        real_login(client, f"guess{i}", "wrong-wrong-wrong")
    response = real_login(client, "manager", clinic.logins["manager"])
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)


def test_idle_sessions_end_and_live_streams_do_not_keep_them_alive(
    client: FlaskClient, app: Flask, clock: FakeClock
) -> None:
    login_as(client, app, "manager")
    idle = rt(app).cfg.web.idle_logout_min * 60
    clock.advance(idle - 30)
    assert client.get("/live/snapshot").status_code == 200  # passive: not activity
    clock.advance(40)
    assert client.get("/dashboard").status_code == 302
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)


def test_activity_keeps_the_session(client: FlaskClient, app: Flask, clock: FakeClock) -> None:
    login_as(client, app, "manager")
    idle = rt(app).cfg.web.idle_logout_min * 60
    for _ in range(3):
        clock.advance(idle - 30)
        assert client.get("/dashboard").status_code == 200


def test_logout_ends_the_session_on_the_server(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    cookie = client.get_cookie("cbx_session").value
    assert post(client, "/logout", {}, token).status_code == 302
    replay = app.test_client()
    replay.set_cookie("cbx_session", cookie)
    assert replay.get("/dashboard").status_code == 302


def test_a_password_reset_ends_that_users_sessions(client: FlaskClient, app: Flask) -> None:
    victim = app.test_client()
    login_as(victim, app, "frontdesk")
    assert victim.get("/console").status_code == 200
    token = login_as(client, app, "manager")
    response = post(client, "/users/frontdesk/password", {}, token)
    assert response.status_code == 200
    assert 'data-testid="new-password-value"' in response.get_data(as_text=True)
    assert victim.get("/console").status_code == 302


def test_a_role_change_applies_at_once(client: FlaskClient, app: Flask) -> None:
    user = app.test_client()
    login_as(user, app, "frontdesk")
    repos(app).users.update("frontdesk", "test", role="technician")
    assert user.get("/console").status_code == 302


def test_a_generated_password_must_be_changed_first(client: FlaskClient, app: Flask) -> None:
    password = repos(app).users.add("newbie", "front-desk", "test", display_name="New")
    response = real_login(client, "newbie", password)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/console").headers["Location"] == "/account/password"
    token = csrf(client, "/account/password")
    bad = client.post(
        "/account/password", data={"current": password, "new": "short", "repeat": "short", "csrf_token": token}
    )
    assert bad.status_code == 400 and "at least 10" in bad.get_data(as_text=True)
    good = client.post(
        "/account/password",
        data={"current": password, "new": "a much better one", "repeat": "a much better one", "csrf_token": token},
    )
    assert good.status_code == 302
    assert client.get("/console").status_code == 200
    assert repos(app).users.authenticate("newbie", "a much better one").must_change_password is False


def test_login_never_redirects_to_another_site(client: FlaskClient, clinic: Clinic) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        fresh = client.application.test_client()
        response = real_login(fresh, "manager", clinic.logins["manager"], next_url=target)
        assert response.headers["Location"] == "/"
    kept = real_login(client.application.test_client(), "manager", clinic.logins["manager"], next_url="/calls")
    assert kept.headers["Location"] == "/calls"


def test_users_choose_their_language(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    post(client, "/account", {"language": "pl", "station": "desk1"}, token)
    page = client.get("/console").get_data(as_text=True)
    assert 'lang="pl"' in page and "Wyloguj" in page
    assert repos(app).users.get("frontdesk").language == "pl"
