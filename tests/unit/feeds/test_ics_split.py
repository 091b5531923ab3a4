"""A published calendar split into one object per UID, and the ICS URL's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.feeds import calmap
from appliance.feeds.icsurl import _token, http_url, split
from tests.conftest import clinic_config

CALENDAR = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Booking//EN",
        "BEGIN:VTIMEZONE",
        "TZID:Clinic Time",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:weekly@clinic",
        "DTSTART;TZID=Clinic Time:20260303T100000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Ewa Kowalska +48601200301",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:single/1",
        "DTSTART:20260304T080000Z",
        "SUMMARY:Jan Nowak +48601200300",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:weekly@clinic",
        "RECURRENCE-ID;TZID=Clinic Time:20260310T100000",
        "DTSTART;TZID=Clinic Time:20260310T120000",
        "SUMMARY:Ewa Kowalska +48601200301",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20260305T080000Z",
        "SUMMARY:No UID at all",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)
URL = "https://cal.example.org/clinic.ics"


def test_events_are_grouped_by_uid_with_their_overrides_and_time_zones() -> None:
    parts = split(CALENDAR, URL)
    hrefs = [href for href, _ in parts]
    assert hrefs[:2] == [f"{URL}#weekly@clinic", f"{URL}#single%2F1"]
    assert len(parts) == 3 and hrefs[2].startswith(f"{URL}#no-uid-")
    weekly = calmap.parse(parts[0][1])
    assert [e.get("UID") for e in weekly.walk("VEVENT")] == ["weekly@clinic", "weekly@clinic"]
    assert [z.get("TZID") for z in weekly.walk("VTIMEZONE")] == ["Clinic Time"]
    assert [str(e.get("SUMMARY")) for e in calmap.parse(parts[1][1]).walk("VEVENT")] == ["Jan Nowak +48601200300"]


def test_the_split_is_stable_so_an_unchanged_event_is_an_unchanged_object() -> None:
    assert split(CALENDAR, URL) == split(CALENDAR.encode("utf-8"), URL)


@pytest.mark.parametrize(
    "data",
    ["", "<html>Sign in</html>", "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"],
)
def test_what_is_not_a_calendar_is_refused(data: str) -> None:
    with pytest.raises(ValueError):
        split(data, URL)


def test_webcal_means_https_and_a_broken_token_means_a_full_read() -> None:
    assert http_url("webcal://cal.example.org/c.ics") == "https://cal.example.org/c.ics"
    assert http_url("http://127.0.0.1:8080/c.ics") == "http://127.0.0.1:8080/c.ics"
    assert _token(None) == {} and _token("not json") == {} and _token("[1]") == {}
    assert _token('{"etag": "\\"x\\"", "sha256": "ab"}') == {"etag": '"x"', "sha256": "ab"}


def test_the_ics_kind_takes_a_webcal_url_and_caldav_does_not(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, feeds={"calendar": {"enabled": True, "kind": "ics", "url": "webcal://c/x.ics"}})
    assert cfg.feeds.calendar.feed_name() == "ics@x.ics"
    with pytest.raises(ConfigError) as err:
        clinic_config(tmp_path, feeds={"calendar": {"enabled": True, "url": "webcal://c/x.ics"}})
    assert any(p.startswith("feeds.calendar.url:") for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        clinic_config(tmp_path, feeds={"calendar": {"kind": "ical"}})
    assert any(p.startswith("feeds.calendar.kind:") for p in err.value.problems)


def test_a_source_never_opens_anything_but_http() -> None:
    from appliance.feeds.icsurl import IcsUrlSource

    for url in ("file:///etc/passwd", "ftp://127.0.0.1/c.ics", "data:text/calendar,BEGIN:VCALENDAR"):
        with pytest.raises(ValueError, match="not an http"):
            IcsUrlSource(url).fetch(None)
