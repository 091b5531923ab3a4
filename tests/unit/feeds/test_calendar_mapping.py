"""The pure calendar mapping: the patient convention, repeats, exceptions, time zones (table-tested)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.feeds import calmap

WARSAW = ZoneInfo("Europe/Warsaw")
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


def vcal(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *lines, "END:VCALENDAR", ""])


def vevent(*lines: str) -> list[str]:
    return ["BEGIN:VEVENT", "DTSTAMP:20260301T000000Z", *lines, "END:VEVENT"]


def mapped(text: str) -> tuple[list[tuple[object, ...]], list[str]]:
    changes, unusable, _ = calmap.changes(calmap.parse(text), "caldav@clinic", "Europe/Warsaw", *WINDOW)
    rows = []
    for c in changes:
        a, p = c.appointment, c.patient
        assert a is not None and p is not None
        rows.append((c.action, a.filler_id, a.starts_at, a.ends_at, p.given_name, p.phones, p.external_id[:4]))
    return rows, [u.reason for u in unusable]


CASES = [
    (
        "name and phone in the summary, TZID",
        vcal(
            *vevent(
                "UID:a",
                "DTSTART;TZID=Europe/Warsaw:20260304T090000",
                "DTEND;TZID=Europe/Warsaw:20260304T091500",
                "SUMMARY:Jan Nowak +48 601 200 300",
            )
        ),
        [
            (
                "book",
                "a",
                datetime(2026, 3, 4, 9, 0, tzinfo=WARSAW),
                datetime(2026, 3, 4, 9, 15, tzinfo=WARSAW),
                "Jan Nowak",
                ("+48601200300",),
                "cal-",
            )
        ],
    ),
    (
        "tel: attendee with CN, UTC time, DURATION",
        vcal(
            *vevent(
                "UID:b",
                "DTSTART:20260304T080000Z",
                "DURATION:PT30M",
                "SUMMARY:Kontrola",
                "ATTENDEE;CN=Zofia Wiśniewska:tel:+48601200301",
            )
        ),
        [
            (
                "book",
                "b",
                datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
                datetime(2026, 3, 4, 8, 30, tzinfo=UTC),
                "Zofia Wiśniewska",
                ("+48601200301",),
                "cal-",
            )
        ],
    ),
    (
        "X-PATIENT-ID, floating time in the clinic's zone, no end",
        vcal(*vevent("UID:c", "DTSTART:20260305T100000", "SUMMARY:王芳", "X-PATIENT-ID:P-77")),
        [
            (
                "book",
                "c",
                datetime(2026, 3, 5, 10, 0, tzinfo=WARSAW),
                datetime(2026, 3, 5, 10, 15, tzinfo=WARSAW),
                "王芳",
                (),
                "P-77",
            )
        ],
    ),
    (
        "cancelled event",
        vcal(*vevent("UID:d", "DTSTART:20260306T080000Z", "SUMMARY:Ala Lis +48601200302", "STATUS:CANCELLED")),
        [
            (
                "cancel",
                "d",
                datetime(2026, 3, 6, 8, 0, tzinfo=UTC),
                datetime(2026, 3, 6, 8, 15, tzinfo=UTC),
                "Ala Lis",
                ("+48601200302",),
                "cal-",
            )
        ],
    ),
    (
        "all-day event: not a visit, silently skipped",
        vcal(*vevent("UID:e", "DTSTART;VALUE=DATE:20260307", "SUMMARY:Holiday")),
        [],
    ),
    ("outside the window", vcal(*vevent("UID:f", "DTSTART:20270101T080000Z", "SUMMARY:Jan +48601200300")), []),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_events_map_to_visits(text: str, expected: list[tuple[object, ...]]) -> None:
    assert mapped(text)[0] == expected


def test_an_event_naming_no_patient_is_listed_not_guessed() -> None:
    rows, reasons = mapped(vcal(*vevent("UID:g", "DTSTART:20260304T080000Z", "SUMMARY:Staff meeting")))
    assert rows == [] and reasons and "names no patient" in reasons[0]


def test_repeats_exdates_and_a_moved_occurrence() -> None:
    text = vcal(
        *vevent(
            "UID:w",
            "DTSTART;TZID=Europe/Warsaw:20260303T100000",
            "DTEND;TZID=Europe/Warsaw:20260303T103000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Warsaw:20260310T100000",
            "SUMMARY:Ewa +48601200301",
        ),
        *vevent(
            "UID:w",
            "RECURRENCE-ID;TZID=Europe/Warsaw:20260317T100000",
            "DTSTART;TZID=Europe/Warsaw:20260317T120000",
            "DTEND;TZID=Europe/Warsaw:20260317T123000",
            "SUMMARY:Ewa +48601200301",
        ),
    )
    rows, _ = mapped(text)
    assert [(r[1], r[2]) for r in rows] == [
        ("w#20260303T090000Z", datetime(2026, 3, 3, 10, 0, tzinfo=WARSAW)),
        ("w#20260317T090000Z", datetime(2026, 3, 17, 12, 0, tzinfo=WARSAW)),
        ("w#20260324T090000Z", datetime(2026, 3, 24, 10, 0, tzinfo=WARSAW)),
    ]
    assert len({r[6] for r in rows}) == 1  # one patient for the series


def test_two_people_sharing_a_phone_are_two_patients() -> None:
    text = vcal(
        *vevent("UID:m", "DTSTART:20260304T080000Z", "SUMMARY:Ewa Kowalska +48601200800"),
        *vevent("UID:s", "DTSTART:20260304T090000Z", "SUMMARY:Jan Kowalski +48601200800"),
    )
    changes, _, _ = calmap.changes(calmap.parse(text), "caldav@clinic", "Europe/Warsaw", *WINDOW)
    assert len({c.patient.external_id for c in changes if c.patient}) == 2


def test_write_back_marks_the_event_or_excludes_the_occurrence() -> None:
    single = vcal(*vevent("UID:a", "DTSTART:20260304T080000Z", "SUMMARY:Jan +48601200300", "STATUS:CONFIRMED"))
    assert "STATUS:CANCELLED" in (calmap.written_back(single, "a", "", "cancel") or "")
    weekly = vcal(*vevent("UID:w", "DTSTART:20260303T090000Z", "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Ewa +48601200301"))
    out = calmap.written_back(weekly, "w", "20260310T090000Z", "cancel") or ""
    assert "EXDATE:20260310T090000Z" in out and "SEQUENCE:1" in out
    assert calmap.written_back(weekly, "w", "20260310T090000Z", "confirm") is None
