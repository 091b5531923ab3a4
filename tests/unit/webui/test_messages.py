"""Incoming SMS for staff: listed (escaped), audited, marked handled; not for technicians."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from appliance.store.sms import SmsRepo
from tests.unit.webui.conftest import login_as, post, repos


def incoming(app: Flask, text: str) -> int:
    r = repos(app)
    sms = SmsRepo(r.store, r.store.clock)
    sms_id, _ = sms.insert_incoming("+12125550001", text, 1, "ucs2", "received", r.store.clock.now(), None)
    return sms_id


def test_staff_read_texts_and_mark_them_handled(client: FlaskClient, app: Flask) -> None:
    sms_id = incoming(app, "<script>alert(1)</script> can I come at 10?")
    token = login_as(client, app, "frontdesk")
    page = client.get("/messages").get_data(as_text=True)
    assert f'data-sms-id="{sms_id}"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; can I come at 10?" in page and "<script>alert" not in page
    response = post(client, f"/messages/{sms_id}/handled", {"status": "new"}, token)
    assert response.status_code == 302
    assert f'data-sms-id="{sms_id}"' not in client.get("/messages").get_data(as_text=True)
    assert f'data-sms-id="{sms_id}"' in client.get("/messages?status=handled").get_data(as_text=True)
    actions = [e.action for e in repos(app).audit.search(actor="frontdesk", object_type="sms")]
    assert "view" in actions and "sms-handled" in actions


def test_technicians_cannot_read_patient_texts(client: FlaskClient, app: Flask) -> None:
    incoming(app, "hello")
    login_as(client, app, "tech")
    assert client.get("/messages").status_code == 403


def test_marking_an_unknown_message_is_a_clear_404(client: FlaskClient, app: Flask) -> None:
    token = login_as(client, app, "manager")
    assert post(client, "/messages/99999/handled", {}, token).status_code == 404


def test_a_reply_left_by_the_reminders_says_why_in_the_users_language(client: FlaskClient, app: Flask) -> None:
    from appliance.reminders.replies import REASONS
    from appliance.store.sms import set_reply_reason
    from webui.ui_text import reply_reasons

    with app.test_request_context():
        assert set(reply_reasons()) == set(REASONS)  # every reason the reader gives has a label
    sms_id = incoming(app, "Tak, ale czy mogę o 15?")
    plain = incoming(app, "hello")
    with repos(app).store.transaction() as conn:
        set_reply_reason(conn, sms_id, "question")
    login_as(client, app, "frontdesk")
    with client.session_transaction() as session:
        session["lang"] = "pl"
    page = client.get("/messages").get_data(as_text=True)
    item = page.split(f'data-sms-id="{sms_id}"', 1)[1].split("</li>", 1)[0]
    assert "Nie odczytano automatycznie: Zawiera pytanie" in item
    other = page.split(f'data-sms-id="{plain}"', 1)[1].split("</li>", 1)[0]
    assert "sms-reason" not in other
