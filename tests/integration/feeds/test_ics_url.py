"""A read-only calendar published at an http URL (``feeds.calendar.kind = "ics"``), fetched from a
real http server on 127.0.0.1 (Python's http.server serving a file the test edits, and Radicale's
own export of a CalDAV collection), mapped and applied like the CalDAV sync into a real store."""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import caldav
import pytest

from appliance.feeds.calsync import CalendarSync
from appliance.feeds.icsurl import IcsUrlSource
from appliance.store.connection import Store
from tests.conftest import clinic_config, free_port, repos_with_planner
from tests.integration.feeds.test_calendar_sync import WEEKLY, event, radicale  # noqa: F401

EMPTY = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ClinicBox tests//EN\r\nEND:VCALENDAR\r\n"


def published(*objects: str) -> str:
    """Several calendar objects as one published calendar (what an ICS URL serves)."""
    inner = []
    for obj in objects:
        lines = obj.strip().split("\r\n")
        inner += lines[lines.index("BEGIN:VEVENT") : lines.index("END:VCALENDAR")]
    return "\r\n".join([*EMPTY.strip().split("\r\n")[:-1], *inner, "END:VCALENDAR", ""])


class Publisher:
    """An http server publishing one calendar, with ETag/Last-Modified, that can be made to fail."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.validators = True  # answers conditional GETs with 304
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.not_modified = 0
        publisher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                publisher.requests.append(("GET", dict(self.headers)))
                etag = '"' + hashlib.sha256(publisher.body).hexdigest()[:16] + '"'
                if publisher.status == 200 and publisher.validators and self.headers.get("If-None-Match") == etag:
                    publisher.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(publisher.status)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(publisher.body)))
                if publisher.validators:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", email.utils.formatdate(usegmt=True))
                self.end_headers()
                self.wfile.write(publisher.body)

            def do_PUT(self) -> None:
                publisher.requests.append(("PUT", dict(self.headers)))
                self.send_response(405)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port(socket.SOCK_STREAM)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/clinic/appointments.ics"

    def publish(self, text: str) -> None:
        self.body = text.encode("utf-8")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    p = Publisher()
    yield p
    p.close()


def make_sync(tmp_path: Path, store: Store, url: str, password: str = "", **calendar: Any) -> CalendarSync:
    cfg = clinic_config(tmp_path, feeds={"calendar": {"enabled": True, "url": url, "kind": "ics", **calendar}})
    repos = repos_with_planner(cfg, store)
    source = IcsUrlSource(url, cfg.feeds.calendar.username, password)
    return CalendarSync(cfg, repos, store.clock, source)


def visits(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.query_tuples("SELECT filler_id, starts_at, status FROM appointments WHERE source = 'ics'")
    return {r[0]: (r[1], r[2]) for r in rows}


def pending(store: Store) -> int:
    return store.query_tuples("SELECT count(*) FROM reminders WHERE status = 'pending'")[0][0]


SINGLE = event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300")
KOREAN = event("korean", "20260305T140000", "20260305T143000", "김민지 +821012345678")
STAFF = event("staff-meeting", "20260304T120000", "20260304T130000", "Staff meeting")


def test_first_sync_unchanged_repeats_cost_a_304_and_a_changed_calendar_applies(
    publisher: Publisher, store: Store, tmp_path: Path
) -> None:
    publisher.publish(published(SINGLE, WEEKLY, KOREAN, STAFF))
    sync = make_sync(tmp_path, store, publisher.url)
    first = sync.sync_once()
    assert first.ok and first.changed == 4, first
    assert [u for u, _ in first.unusable] == ["staff-meeting"]
    got = visits(store)
    assert got["single-1"] == ("2026-03-04T08:00:00.000Z", "booked")
    assert sorted(k for k in got if k.startswith("weekly-physio#")) == [
        "weekly-physio#20260303T090000Z",
        "weekly-physio#20260317T090000Z",
        "weekly-physio#20260324T090000Z",
    ]
    assert got["weekly-physio#20260317T090000Z"][0] == "2026-03-17T11:00:00.000Z"  # the moved occurrence
    assert pending(store) > 0
    feed = store.query_tuples("SELECT DISTINCT feed FROM appointments WHERE source = 'ics'")
    assert feed == [("ics@appointments.ics",)]

    # Unchanged: the repeat sync sends the validators, gets a 304 and changes nothing.
    again = sync.sync_once()
    assert again.ok and (again.changed, again.applied) == (0, 0)
    assert publisher.not_modified == 1 and publisher.requests[-1][1].get("If-None-Match")
    assert visits(store) == got

    # Changed: one visit gone, one moved, one new.
    publisher.publish(
        published(
            WEEKLY,
            event("korean", "20260305T160000", "20260305T163000", "김민지 +821012345678"),
            event("cancel-me", "20260306T100000", "20260306T101500", "Ala Lis +48601200302"),
            STAFF,
        )
    )
    third = sync.sync_once()
    assert third.ok and third.cancelled == 1, third
    got = visits(store)
    assert got["single-1"][1] == "cancelled"
    assert got["korean"] == ("2026-03-05T15:00:00.000Z", "booked")
    assert got["cancel-me"][1] == "booked"
    assert [m for m, _ in publisher.requests] == ["GET"] * 3


def test_a_server_without_validators_sending_the_same_calendar_changes_nothing(
    publisher: Publisher, store: Store, tmp_path: Path
) -> None:
    publisher.validators = False
    publisher.publish(published(SINGLE, KOREAN))
    sync = make_sync(tmp_path, store, publisher.url)
    assert sync.sync_once().applied == 2
    audit = store.query_tuples("SELECT count(*) FROM audit_log")
    report = sync.sync_once()
    assert report.ok and (report.changed, report.applied) == (0, 0) and publisher.not_modified == 0
    assert store.query_tuples("SELECT count(*) FROM audit_log") == audit


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, "Internal Server Error", "HTTP Error 500"),
        (404, "Not Found", "HTTP Error 404"),
        (200, "<html><body>Sign in to see this calendar</body></html>", "failed"),
        (200, "", "failed"),
        (200, EMPTY, "came back empty"),
        (200, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n", "failed"),
    ],
)
def test_a_failed_garbage_or_empty_fetch_changes_nothing(
    publisher: Publisher, store: Store, tmp_path: Path, status: int, body: str, reason: str
) -> None:
    publisher.publish(published(SINGLE, WEEKLY, KOREAN))
    sync = make_sync(tmp_path, store, publisher.url)
    assert sync.sync_once().ok
    before, reminders = visits(store), pending(store)
    publisher.status = status
    publisher.publish(body)
    report = sync.sync_once()
    assert not report.ok and reason in report.reason, report
    assert visits(store) == before and pending(store) == reminders
    assert all(state == "booked" for _, state in before.values())
    # The server recovers with the old calendar: still nothing changes, and nothing was lost.
    publisher.status = 200
    publisher.publish(published(SINGLE, WEEKLY, KOREAN))
    assert sync.sync_once().ok and visits(store) == before


def test_a_server_that_is_down_changes_nothing(publisher: Publisher, store: Store, tmp_path: Path) -> None:
    publisher.publish(published(SINGLE, KOREAN))
    sync = make_sync(tmp_path, store, publisher.url)
    assert sync.sync_once().ok
    before = visits(store)
    publisher.close()
    report = sync.sync_once()
    assert not report.ok and "failed" in report.reason and "URLError" in report.reason
    assert visits(store) == before


def test_the_box_never_writes_to_a_published_calendar(publisher: Publisher, store: Store, tmp_path: Path) -> None:
    publisher.publish(published(SINGLE, KOREAN))
    sync = make_sync(tmp_path, store, publisher.url, write_back=True)
    assert sync.sync_once().ok
    aid = store.query_tuples("SELECT id FROM appointments WHERE filler_id = 'single-1'")[0][0]
    sync.repos.appointments.set_status(aid, "cancelled", "reminder:sms")  # the patient texted "cancel"
    report = sync.sync_once()
    assert report.ok and report.written == 0
    assert [m for m, _ in publisher.requests] == ["GET", "GET"]
    assert sync.repos.worklist.open_count() == 1, "the desk still has to cancel it in the calendar"


def test_radicales_export_of_a_collection_is_a_published_calendar(
    radicale: str,  # noqa: F811
    store: Store,
    tmp_path: Path,
) -> None:
    client = caldav.DAVClient(f"{radicale}/", username="clinic", password="x")
    calendar = client.principal().make_calendar(name="clinic", cal_id="clinic")
    calendar.save_event(SINGLE)
    calendar.save_event(WEEKLY)
    url = f"{radicale}/clinic/clinic/"
    assert make_sync(tmp_path, store, url).sync_once().reason.endswith("401: Unauthorized)")  # its owner's only
    sync = make_sync(tmp_path, store, url, username="clinic", password="x")  # HTTP Basic, as CalDAV's
    first = sync.sync_once()
    assert first.ok and first.changed == 2, first
    assert visits(store)["single-1"] == ("2026-03-04T08:00:00.000Z", "booked")
    assert len([k for k in visits(store) if k.startswith("weekly-physio#")]) == 3
    calendar.event_by_uid("single-1").delete()
    second = sync.sync_once()
    assert second.ok and second.cancelled == 1 and visits(store)["single-1"][1] == "cancelled"


def test_the_cores_feed_service_pulls_a_published_calendar_when_configured(
    publisher: Publisher, store: Store, tmp_path: Path
) -> None:
    from appliance.feeds.service import FeedService

    publisher.publish(published(SINGLE, KOREAN))
    cfg = clinic_config(
        tmp_path, feeds={"calendar": {"enabled": True, "url": publisher.url, "kind": "ics", "interval_s": 30}}
    )
    service = FeedService(cfg, repos_with_planner(cfg, store), store.clock)
    service.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not service.status()["calendar"].get("synced"):
            time.sleep(0.05)
        status = service.status()["calendar"]
    finally:
        service.stop()
    assert status["synced"] and status["ok"] and status["applied"] == 2, status
    assert status["feed"] == "ics@appointments.ics" and set(visits(store)) == {"single-1", "korean"}


def test_a_visit_cancelled_on_the_box_stays_cancelled_when_another_event_changes(
    publisher: Publisher, store: Store, tmp_path: Path
) -> None:
    """The published calendar still shows the visit (the box cannot write to it): re-reading the
    whole file because another event changed must not book the patient's cancelled visit again."""
    publisher.publish(published(SINGLE, KOREAN))
    sync = make_sync(tmp_path, store, publisher.url)
    assert sync.sync_once().ok
    aid = store.query_tuples("SELECT id FROM appointments WHERE filler_id = 'single-1'")[0][0]
    sync.repos.appointments.set_status(aid, "cancelled", "reminder:sms")  # the patient texted "cancel"
    publisher.publish(published(SINGLE, event("korean", "20260305T160000", "20260305T163000", "김민지 +821012345678")))
    report = sync.sync_once()
    assert report.ok and report.applied == 1, report
    got = visits(store)
    assert got["single-1"][1] == "cancelled" and got["korean"] == ("2026-03-05T15:00:00.000Z", "booked")
    planned = "SELECT count(*) FROM reminders WHERE appointment_id = ? AND status = 'pending'"
    assert store.query_tuples(planned, (aid,)) == [(0,)]
    # The calendar's owner then changes that event itself: that is the source booking it again.
    publisher.publish(
        published(
            event("single-1", "20260304T100000", "20260304T101500", "Jan Nowak +48601200300"),
            event("korean", "20260305T160000", "20260305T163000", "김민지 +821012345678"),
        )
    )
    assert sync.sync_once().ok
    assert visits(store)["single-1"] == ("2026-03-04T09:00:00.000Z", "booked")


def test_turning_the_ics_feed_on_applies_at_the_next_reload(publisher: Publisher, store: Store, tmp_path: Path) -> None:
    from appliance.feeds.service import FeedService

    publisher.publish(published(SINGLE, KOREAN))
    cfg = clinic_config(tmp_path)
    service = FeedService(cfg, repos_with_planner(cfg, store), store.clock)
    service.start()
    try:
        assert service.status()["calendar"] == {"enabled": False}
        new = clinic_config(tmp_path, feeds={"calendar": {"enabled": True, "url": publisher.url, "kind": "ics"}})
        applied = service.reconfigure(new)
        assert {"feeds.calendar.enabled", "feeds.calendar.kind", "feeds.calendar.url"} <= set(applied.applied)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not service.status()["calendar"].get("synced"):
            time.sleep(0.05)
        assert service.status()["calendar"]["applied"] == 2
    finally:
        service.stop()
    assert set(visits(store)) == {"single-1", "korean"}
