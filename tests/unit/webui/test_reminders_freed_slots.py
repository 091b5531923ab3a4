"""The reminders screen lists the freed slots: cancelled visits still ahead whose
time nobody took since, most recently freed first, with no patient data."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import FakeClock
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from tests.unit.webui.conftest import NOW, login_as, repos


def freed_rows(page: str) -> list[str]:
    table = re.search(r'data-testid="freed-slots-list">(.*?)</table>', page, re.S)
    assert table, "no list of freed slots on the page"
    return re.findall(r'<tr data-testid="freed-slot">(.*?)</tr>', table.group(1), re.S)


def test_the_freed_slots_are_listed_newest_first_without_patient_data(
    client: FlaskClient, app: Flask, clock: FakeClock
) -> None:
    r = repos(app)
    pid = r.patients.create(PatientInput(name="Zofia Freedtest", phones=["+48601987654"]), "test")

    other = r.patients.create(PatientInput(name="Other Patient", phones=["+48601987656"]), "test")

    def visit(hours: float, provider: str, location: str = "Room 9", patient: int = pid) -> int:
        start = NOW + timedelta(hours=hours)
        return r.appointments.create(
            AppointmentInput(
                patient_id=patient, starts_at=start, provider=provider, location=location, reason="secret"
            ),
            "test",
        )

    first = visit(50, "dr Alpha")
    second = visit(30, "dr Beta", "Room 7")
    past = visit(-5, "dr Gamma")
    refilled = visit(70, "dr Delta")
    r.appointments.set_status(first, "cancelled", "test")
    r.appointments.set_status(past, "cancelled", "test")
    r.appointments.set_status(refilled, "cancelled", "test")
    visit(70, "dr Delta", patient=other)  # someone else took that time
    clock.advance(600)
    r.appointments.set_status(second, "cancelled", "test")

    login_as(client, app, "frontdesk")
    page = client.get("/reminders").get_data(as_text=True)
    rows = [row for row in freed_rows(page) if "dr Alpha" in row or "dr Beta" in row or "dr Gamma" in row]
    assert len(rows) == 2
    assert "dr Beta" in rows[0] and "Room 7" in rows[0]  # freed last, listed first
    assert "dr Alpha" in rows[1] and "Room 9" in rows[1]
    section = re.search(r'data-testid="freed-slots-list">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "dr Gamma" not in section and "dr Delta" not in section  # in the past / booked again
    assert "Freedtest" not in section and "secret" not in section


def test_a_slot_freed_through_a_reminder_says_so(client: FlaskClient, app: Flask) -> None:
    r = repos(app)
    pid = r.patients.create(PatientInput(name="Jan Viareminder", phones=["+48601987655"]), "test")
    aid = r.appointments.create(
        AppointmentInput(patient_id=pid, starts_at=NOW + timedelta(hours=40), provider="dr Epsilon"), "test"
    )
    with r.store.transaction() as conn:
        rid = conn.execute("SELECT id FROM reminders WHERE appointment_id = ? LIMIT 1", (aid,)).fetchone()[0]
        conn.execute(
            "INSERT INTO reminder_attempts(reminder_id, channel, route, state, started_at, outcome)"
            " VALUES (?, 'voice', 'trunk', 'finished', ?, 'cancelled')",
            (rid, "2026-03-04T10:00:00.000Z"),
        )
    r.appointments.set_status(aid, "cancelled", "reminders")
    login_as(client, app, "frontdesk")
    (row,) = [row for row in freed_rows(client.get("/reminders").get_data(as_text=True)) if "dr Epsilon" in row]
    assert "through a reminder" in row
