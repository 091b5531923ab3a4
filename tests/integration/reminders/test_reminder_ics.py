"""iCalendar import: time zones (IANA, Windows, VTIMEZONE, UTC, floating), patients, updates, bad events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.errors import ImportFileError
from appliance.reminders.ics import IcsImporter, looks_like_ics
from tests.integration.reminders.conftest import World

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Clinic Local
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
"""


def calendar(*events: str, timezone: str = "") -> bytes:
    body = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//EN\n" + timezone + "".join(events) + "END:VCALENDAR\n"
    return body.replace("\n", "\r\n").encode()


def event(uid: str, start: str, *extra: str, patient: str = "X-PATIENT-ID:P-1") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", start, *extra, patient, "END:VEVENT"]
    return "\n".join(line for line in lines if line) + "\n"


@pytest.fixture
def ics_world(world: World) -> World:
    world.patient("601500600", external_id="P-1")
    return world


def starts(world: World) -> list[str]:
    return [r[0] for r in world.q("SELECT starts_at FROM appointments ORDER BY external_id")]


def test_every_kind_of_time_zone_lands_on_the_right_instant(ics_world: World) -> None:
    data = calendar(
        event("a1", "DTSTART;TZID=Clinic Local:20260330T090000", "DURATION:PT20M"),  # after spring-forward: CEST
        event(
            "a2",
            "DTSTART;TZID=W. Europe Standard Time:20260327T090000",
            "DTEND;TZID=W. Europe Standard Time:20260327T093000",
        ),
        event("a3", "DTSTART;TZID=America/New_York:20260310T090000"),  # EDT already
        event("a4", "DTSTART:20260305T081500Z"),
        event("a5", "DTSTART:20260306T100000"),  # floating: the clinic's zone (CET)
        timezone=VTIMEZONE,
    )
    report = IcsImporter(ics_world.repos).run(data, "test")
    assert (report.inserted, report.errors) == (5, [])
    assert starts(ics_world) == [
        "2026-03-30T07:00:00.000Z",
        "2026-03-27T08:00:00.000Z",
        "2026-03-10T13:00:00.000Z",
        "2026-03-05T08:15:00.000Z",
        "2026-03-06T09:00:00.000Z",
    ]
    durations = ics_world.q("SELECT (julianday(ends_at) - julianday(starts_at)) * 1440 FROM appointments ORDER BY id")
    assert [round(d[0]) for d in durations] == [20, 30, 15, 15, 15]


def test_a_patient_is_found_by_attendee_phone_and_reminders_are_planned(ics_world: World) -> None:
    data = calendar(
        event(
            "b1",
            "DTSTART:20260304T100000Z",
            "ORGANIZER;CN=dr Nowak:mailto:nowak@example.com",
            "LOCATION:Room 2",
            "DESCRIPTION:control visit",
            patient="ATTENDEE;CN=Patient:tel:+48 601 500 600",
        )
    )
    assert IcsImporter(ics_world.repos).run(data, "test").inserted == 1
    assert ics_world.q("SELECT provider, location, reason, source FROM appointments") == [
        ("dr Nowak", "Room 2", "control visit", "ics")
    ]
    assert [r[1:4] for r in ics_world.reminders()] == [(1440, "voice", "pending")]


def test_reimport_changes_nothing_a_moved_event_moves_and_a_cancelled_one_cancels(ics_world: World) -> None:
    importer = IcsImporter(ics_world.repos)
    first = calendar(event("c1", "DTSTART:20260305T100000Z"), event("c2", "DTSTART:20260306T100000Z"))
    assert importer.run(first, "test").inserted == 2
    again = importer.run(first, "test")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    moved = calendar(
        event("c1", "DTSTART:20260307T100000Z"),
        event("c2", "DTSTART:20260306T100000Z", "STATUS:CANCELLED"),
    )
    report = importer.run(moved, "test")
    assert (report.updated, report.inserted) == (2, 0)
    assert ics_world.q("SELECT status, starts_at FROM appointments ORDER BY id") == [
        ("booked", "2026-03-07T10:00:00.000Z"),
        ("cancelled", "2026-03-06T10:00:00.000Z"),
    ]
    due = ics_world.q("SELECT r.status, r.due_at FROM reminders r ORDER BY r.appointment_id")
    assert due[0] == ("pending", "2026-03-06T10:00:00.000Z") and due[1][0] == "cancelled"


def test_bad_events_are_reported_by_line_and_nothing_is_written(ics_world: World) -> None:
    data = calendar(
        event("d1", "DTSTART:20260305T100000Z"),
        event("d2", "DTSTART;VALUE=DATE:20260305"),
        event("d3", "DTSTART:20260305T100000Z", "RRULE:FREQ=WEEKLY"),
        event("d4", "DTSTART:20260305T110000Z", patient="X-PATIENT-ID:nobody"),
        event("", "DTSTART:20260305T120000Z"),
    )
    with pytest.raises(ImportFileError) as err:
        IcsImporter(ics_world.repos).run(data, "test")
    assert [line for line, _ in err.value.errors] == [9, 14, 20, 25]  # each BEGIN:VEVENT
    reasons = " | ".join(reason for _, reason in err.value.errors)
    assert "all-day" in reasons and "repeating" in reasons and "X-PATIENT-ID" in reasons and "UID" in reasons
    assert ics_world.q("SELECT count(*) FROM appointments") == [(0,)]
    report = IcsImporter(ics_world.repos).run(data, "test", skip_bad=True)
    assert report.inserted == 1 and len(report.errors) == 4


def test_not_a_calendar_is_refused_clearly(ics_world: World) -> None:
    assert not looks_like_ics(b"start,patient\n")
    assert looks_like_ics("\ufeffBEGIN:VCALENDAR\r\n".encode())
    with pytest.raises(ImportFileError, match="not an iCalendar file"):
        IcsImporter(ics_world.repos).run(b"BEGIN:VCALENDAR\r\nthis is not ical", "test")
    with pytest.raises(ImportFileError, match="not UTF-8"):
        IcsImporter(ics_world.repos).run(b"BEGIN:VCALENDAR\r\n\xff\xfe", "test")


def test_import_is_audited_without_content(ics_world: World) -> None:
    IcsImporter(ics_world.repos).run(calendar(event("e1", "DTSTART:20260305T100000Z")), "cli:tech")
    row = ics_world.q("SELECT actor, action, detail FROM audit_log WHERE action = 'import'")[0]
    assert row[0] == "cli:tech" and "iCalendar" in row[2] and "P-1" not in row[2]
    assert datetime(2026, 3, 5, 10, tzinfo=UTC) > ics_world.clock.now()
