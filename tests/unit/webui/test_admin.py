"""Users and the audit log, as a clinic manager uses them: add a user who
then logs in with the chosen role, reset a password, narrow the audit log,
and verify its hash chain (which names the row someone edited)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from tests.unit.webui.conftest import Clinic, csrf, login_as, post, repos, rt


def real_login(client: FlaskClient, username: str, password: str) -> object:
    token = csrf(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def shown_password(html: str) -> str:
    match = re.search(r'data-testid="new-password-value">([^<]+)<', html)
    assert match, "the new password is shown once on the page"
    return match.group(1)


def first_login(app: Flask, username: str, password: str, chosen: str = "my own good password") -> FlaskClient:
    """Log in with a generated password and choose one's own, as a new user must."""
    client = app.test_client()
    response = real_login(client, username, password)
    assert response.headers["Location"] == "/account/password"
    token = csrf(client, "/account/password")
    changed = client.post(
        "/account/password", data={"current": password, "new": chosen, "repeat": chosen, "csrf_token": token}
    )
    assert changed.status_code == 302
    return client


def audit_rows(html: str) -> list[tuple[str, str, str]]:
    """(who, action, object) of each listed audit entry."""
    rows = re.findall(r'<tr data-testid="audit-row">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    return [(c[2], c[3], c[4].strip()) for c in cells]


# -- adding users ----------------------------------------------------------------------


def test_a_new_front_desk_user_logs_in_with_that_role_language_and_station(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    response = post(
        client,
        "/users",
        {"username": "ana.k", "display_name": "Ana K", "role": "front-desk", "language": "pl", "station": "desk2"},
        token,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-username="ana.k"' in html
    ana = first_login(app, "ana.k", shown_password(html))
    assert ana.get("/console").status_code == 200
    assert 'lang="pl"' in ana.get("/console").get_data(as_text=True)
    for refused in ("/settings", "/users", "/audit"):
        assert ana.get(refused).status_code == 403, refused
    user = repos(app).users.get("ana.k")
    assert (user.role, user.language, user.station, user.display_name) == ("front-desk", "pl", "desk2", "Ana K")
    added = [e for e in repos(app).audit.search(action="user-add") if e.object_id == str(user.id)]
    assert added and added[0].actor == "manager" and added[0].detail == "role front-desk"


def test_a_new_technician_sees_diagnostics_but_no_patients(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    html = post(client, "/users", {"username": "it-bob", "role": "technician", "language": "en"}, token).get_data(
        as_text=True
    )
    bob = first_login(app, "it-bob", shown_password(html))
    assert bob.get("/diagnostics").status_code == 200
    assert bob.get("/patients/1").status_code == 403
    assert bob.get("/console").status_code == 403


def test_a_new_manager_can_manage_users(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    html = post(client, "/users", {"username": "boss2", "role": "manager"}, token).get_data(as_text=True)
    boss = first_login(app, "boss2", shown_password(html))
    assert boss.get("/users").status_code == 200
    assert boss.get("/audit").status_code == 200


def test_the_generated_password_follows_the_password_rules_and_is_not_stored_in_clear(
    client: FlaskClient, app: Flask
) -> None:
    token = login_as(client, app, "manager")
    html = post(client, "/users", {"username": "carla", "role": "front-desk"}, token).get_data(as_text=True)
    password = shown_password(html)
    assert len(password) >= 10
    stored = rt(app).store.query_one("SELECT password_hash FROM users WHERE username = 'carla'")
    assert stored is not None and password not in stored[0] and stored[0].startswith("$argon2id$")
    # A generated password must be replaced, and the replacement follows the rules too.
    carla = app.test_client()
    real_login(carla, "carla", password)
    token2 = csrf(carla, "/account/password")
    short = carla.post(
        "/account/password", data={"current": password, "new": "short", "repeat": "short", "csrf_token": token2}
    )
    assert short.status_code == 400 and "at least 10" in short.get_data(as_text=True)
    assert carla.get("/console").headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"username": "x", "role": "front-desk"}, "User names are 2 to 32 letters"),
        ({"username": "has space", "role": "front-desk"}, "User names are 2 to 32 letters"),
        ({"username": "frontdesk", "role": "front-desk"}, "That user name is already taken."),
        ({"username": "newbie", "role": "superuser"}, "Choose one of the listed roles."),
        ({"username": "newbie", "role": "front-desk", "station": "desk99"}, "Choose one of the listed stations."),
        ({"username": "newbie", "role": "front-desk", "language": "xx"}, "Choose one of the listed languages."),
    ],
)
def test_a_bad_new_user_is_refused_with_a_clear_message_and_nothing_is_added(
    client: FlaskClient, app: Flask, form: dict[str, str], message: str
) -> None:
    token = login_as(client, app, "manager")
    before = [u.username for u in repos(app).users.list()]
    response = post(client, "/users", form, token, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'data-testid="notice-error"' in html and message in html
    assert 'data-testid="new-password"' not in html
    assert [u.username for u in repos(app).users.list()] == before


def test_a_manager_reads_why_a_new_user_was_refused_in_their_own_language(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    with client.session_transaction() as sess:
        sess["lang"] = "pl"  # the manager chose Polish
    html = post(client, "/users", {"username": "frontdesk", "role": "front-desk"}, token, follow_redirects=True)
    assert "Ta nazwa użytkownika jest już zajęta." in html.get_data(as_text=True)


def test_adding_a_user_without_the_csrf_token_is_refused(client: FlaskClient, app: Flask) -> None:
    login_as(client, app, "manager")
    for token in ("", "forged"):
        response = client.post("/users", data={"username": "sneaky", "role": "manager", "csrf_token": token})
        assert response.status_code == 400
    assert "sneaky" not in [u.username for u in repos(app).users.list()]


# -- resetting passwords -------------------------------------------------------------------


def test_a_reset_password_replaces_the_old_one_and_must_be_changed(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    old = clinic.logins["frontdesk"]
    token = login_as(client, app, "manager")
    response = post(client, "/users/frontdesk/password", {}, token)
    assert response.status_code == 200
    new = shown_password(response.get_data(as_text=True))
    assert new != old
    reset = repos(app).audit.search(action="password-set")[0]
    assert (reset.actor, reset.object_id) == ("manager", str(repos(app).users.get("frontdesk").id))
    assert real_login(app.test_client(), "frontdesk", old).status_code == 401
    desk = first_login(app, "frontdesk", new)
    assert desk.get("/console").status_code == 200


def test_a_reset_password_unlocks_an_account_locked_by_failed_logins(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    for _ in range(rt(app).cfg.web.login_max_failures):
        real_login(app.test_client(), "frontdesk", "wrong-wrong-wrong")
    assert real_login(app.test_client(), "frontdesk", clinic.logins["frontdesk"]).status_code == 401
    token = login_as(client, app, "manager")
    assert 'class="tag warn"' in client.get("/users").get_data(as_text=True)
    new = shown_password(post(client, "/users/frontdesk/password", {}, token).get_data(as_text=True))
    assert first_login(app, "frontdesk", new).get("/console").status_code == 200


def test_disabling_a_user_ends_their_session_and_refuses_their_login(
    client: FlaskClient, app: Flask, clinic: Clinic
) -> None:
    desk = app.test_client()
    login_as(desk, app, "frontdesk")
    assert desk.get("/console").status_code == 200
    token = login_as(client, app, "manager")
    form = {"role": "front-desk", "language": "en", "station": "desk1", "disabled": "on"}
    assert post(client, "/users/frontdesk", form, token).status_code == 302
    assert desk.get("/console").status_code == 302
    refused = real_login(app.test_client(), "frontdesk", clinic.logins["frontdesk"])
    assert refused.status_code == 401 and "disabled" in refused.get_data(as_text=True)  # type: ignore[attr-defined]


def test_the_last_manager_cannot_demote_or_disable_themselves(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    for form in ({"role": "front-desk"}, {"role": "manager", "disabled": "on"}):
        response = post(client, "/users/manager", form, token, follow_redirects=True)
        assert "this is the last manager" in response.get_data(as_text=True)
    manager = repos(app).users.get("manager")
    assert (manager.role, manager.disabled) == ("manager", False)
    assert client.get("/users").status_code == 200


def test_resetting_an_unknown_users_password_says_so(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    response = post(client, "/users/nobody/password", {}, token, follow_redirects=True)
    assert "No such user." in response.get_data(as_text=True)


# -- front desk is refused all of it ------------------------------------------------------


def test_front_desk_is_refused_the_user_and_audit_functions(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "frontdesk")
    before = rt(app).store.query_one("SELECT password_hash FROM users WHERE username = 'manager'")
    assert post(client, "/users", {"username": "mole", "role": "manager"}, token).status_code == 403
    assert post(client, "/users/manager/password", {}, token).status_code == 403
    assert post(client, "/users/frontdesk", {"role": "manager"}, token).status_code == 403
    assert post(client, "/audit/verify", {}, token).status_code == 403
    assert client.get("/audit?actor=manager").status_code == 403
    assert "mole" not in [u.username for u in repos(app).users.list()]
    assert repos(app).users.get("frontdesk").role == "front-desk"
    assert rt(app).store.query_one("SELECT password_hash FROM users WHERE username = 'manager'") == before


# -- the audit log ---------------------------------------------------------------------------


def test_audit_filters_narrow_the_list(client: FlaskClient, app: Flask, clock: FakeClock) -> None:
    audit = repos(app).audit
    audit.record("alice", "view", "patient", 7)
    audit.record("alice", "export", "patient", 7)
    clock.advance(timedelta(days=2).total_seconds())
    audit.record("bob", "view", "patient", 8)
    login_as(client, app, "manager")

    everything = audit_rows(client.get("/audit").get_data(as_text=True))
    assert {"alice", "bob"} <= {who for who, _, _ in everything}

    alice = audit_rows(client.get("/audit?actor=alice").get_data(as_text=True))
    assert alice == [("alice", "export", "patient 7"), ("alice", "view", "patient 7")]

    views = audit_rows(client.get("/audit?action=view&object_type=patient").get_data(as_text=True))
    assert ("bob", "view", "patient 8") in views and all(action == "view" for _, action, _ in views)

    one_patient = audit_rows(client.get("/audit?object_type=patient&object_id=8").get_data(as_text=True))
    assert one_patient == [("bob", "view", "patient 8")]

    day = clock.now().date().isoformat()
    today = audit_rows(client.get(f"/audit?since={day}&until={day}&action=view").get_data(as_text=True))
    assert today == [("bob", "view", "patient 8")]
    before = (clock.now().date() - timedelta(days=1)).isoformat()
    earlier = audit_rows(client.get(f"/audit?until={before}&actor=alice").get_data(as_text=True))
    assert len(earlier) == 2


def test_older_audit_entries_keep_the_filter(client: FlaskClient, app: Flask) -> None:
    audit = repos(app).audit
    for i in range(105):
        audit.record("alice", "view", "patient", i)
        audit.record("bob", "view", "patient", i)
    login_as(client, app, "manager")
    html = client.get("/audit?actor=alice").get_data(as_text=True)
    first = audit_rows(html)
    assert len(first) == 100 and {who for who, _, _ in first} == {"alice"}
    link = re.search(r'href="(/audit\?[^"]+)"', html)
    assert link, "a full page links to older entries"
    rest = audit_rows(client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True))
    assert [obj for _, _, obj in rest] == [f"patient {i}" for i in range(4, -1, -1)]


def test_a_bad_audit_date_says_so_and_keeps_the_other_filters(client: FlaskClient, app: Flask) -> None:
    repos(app).audit.record("alice", "view", "patient", 7)
    login_as(client, app, "manager")
    html = client.get("/audit?actor=alice&since=31/12/2026").get_data(as_text=True)
    assert 'data-testid="notice-error"' in html and "not a date" in html
    assert audit_rows(html) == [("alice", "view", "patient 7")]


def test_verify_chain_reports_an_intact_log(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    html = post(client, "/audit/verify", {}, token).get_data(as_text=True)
    assert 'data-ok="true"' in html and "The audit chain is intact" in html
    verified = repos(app).audit.search(action="audit-verify")
    assert verified and (verified[0].actor, verified[0].detail) == ("manager", "intact")


def test_verify_chain_names_the_row_edited_behind_the_boxs_back(client: FlaskClient, app: Flask) -> None:
    audit = repos(app).audit
    audit.record("alice", "view", "patient", 7)
    edited = audit.record("alice", "export", "patient", 7)
    audit.record("alice", "view", "patient", 9)
    # What someone with the key and a SQL shell would do: drop the guard, edit the row.
    conn = rt(app).store.connection()
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?", (edited,))
    token = login_as(client, app, "manager")
    html = post(client, "/audit/verify", {}, token).get_data(as_text=True)
    assert 'data-ok="false"' in html
    assert f"BROKEN at entry {edited}" in html
    assert repos(app).audit.search(action="audit-verify")[0].detail == "broken"
