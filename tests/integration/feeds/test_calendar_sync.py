"""The shared calendar against a real CalDAV server (Radicale on 127.0.0.1, started by the test)."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import caldav
import pytest

from appliance.feeds.calsync import CaldavSource, CalendarSync
from appliance.store.connection import Store
from appliance.store.repos import Repos
from tests.conftest import clinic_config, free_port, repos_with_planner

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Warsaw


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    port = free_port(socket.SOCK_STREAM)
    proc = subprocess.Popen(
        [
            "/usr/bin/radicale",
            f"--storage-filesystem-folder={tmp_path / 'dav'}",
            f"--server-hosts=127.0.0.1:{port}",
            "--auth-type=none",
            "--logging-level=warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def event(uid: str, start: str, end: str, summary: str, *extra: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//ClinicBox tests//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260301T000000Z",
            f"DTSTART;TZID=Europe/Warsaw:{start}",
            f"DTEND;TZID=Europe/Warsaw:{end}",
            f"SUMMARY:{summary}",
            *extra,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


WEEKLY = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ClinicBox tests//EN",
        "BEGIN:VEVENT",
        "UID:weekly-physio",
        "DTSTAMP:20260301T000000Z",
        "DTSTART;TZID=Europe/Warsaw:20260303T100000",
        "DTEND;TZID=Europe/Warsaw:20260303T103000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=Europe/Warsaw:20260310T100000",
        "SUMMARY:Ewa Kowalska +48601200301",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:weekly-physio",
        "DTSTAMP:20260301T000000Z",
        "RECURRENCE-ID;TZID=Europe/Warsaw:20260317T100000",
        "DTSTART;TZID=Europe/Warsaw:20260317T120000",
        "DTEND;TZID=Europe/Warsaw:20260317T123000",
        "SUMMARY:Ewa Kowalska +48601200301",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


@pytest.fixture
def clinic(radicale: str, tmp_path: Path, store: Store) -> tuple[Any, CalendarSync, Repos]:
    client = caldav.DAVClient(f"{radicale}/", username="clinic", password="x")
    calendar = client.principal().make_calendar(name="clinic", cal_id="clinic")
    url = f"{radicale}/clinic/clinic/"
    cfg = clinic_config(tmp_path, feeds={"calendar": {"enabled": True, "url": url, "username": "clinic"}})
    repos = repos_with_planner(cfg, store)
    sync = CalendarSync(cfg, repos, store.clock, CaldavSource(url, "clinic", "x"))
    return calendar, sync, repos


def visits(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.query_tuples("SELECT filler_id, starts_at, status FROM appointments WHERE source = 'caldav'")
    return {r[0]: (r[1], r[2]) for r in rows}


def test_first_and_repeat_sync_with_repeats_exceptions_moves_and_deletions(clinic, store: Store) -> None:
    calendar, sync, _repos = clinic
    calendar.save_event(event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300"))
    calendar.save_event(WEEKLY)
    calendar.save_event(event("korean", "20260305T140000", "20260305T143000", "김민지 +821012345678"))
    calendar.save_event(event("staff-meeting", "20260304T120000", "20260304T130000", "Staff meeting"))
    first = sync.sync_once()
    assert first.ok and first.changed == 4
    assert [u for u, _ in first.unusable] == ["staff-meeting"]
    got = visits(store)
    assert "single-1" in got, (got, first)
    assert got["single-1"] == ("2026-03-04T08:00:00.000Z", "booked")
    assert got["korean"][1] == "booked"
    # RRULE weekly x4, minus the EXDATE (10 March), with the 17 March occurrence moved to 12:00.
    weekly = sorted(k for k in got if k.startswith("weekly-physio#"))
    assert weekly == [
        "weekly-physio#20260303T090000Z",
        "weekly-physio#20260317T090000Z",
        "weekly-physio#20260324T090000Z",
    ]
    assert got["weekly-physio#20260317T090000Z"][0] == "2026-03-17T11:00:00.000Z"
    names = {r[0] for r in store.query_tuples("SELECT display_name FROM patients")}
    assert {"Jan Nowak", "Ewa Kowalska", "김민지"} <= names
    assert (
        store.query_tuples("SELECT count(DISTINCT appointment_id) FROM reminders WHERE status = 'pending'")[0][0] == 5
    )

    # Repeat sync: only what changed comes back (sync token).
    calendar.event_by_uid("single-1").delete()
    moved = event("korean", "20260305T160000", "20260305T163000", "김민지 +821012345678")
    calendar.save_event(moved)
    calendar.save_event(event("cancel-me", "20260306T100000", "20260306T101500", "Ala Lis +48601200302"))
    second = sync.sync_once()
    assert second.ok and (second.changed, second.deleted) == (2, 1)
    got = visits(store)
    assert got["single-1"][1] == "cancelled"
    assert got["korean"] == ("2026-03-05T15:00:00.000Z", "booked")
    calendar.save_event(
        event("cancel-me", "20260306T100000", "20260306T101500", "Ala Lis +48601200302", "STATUS:CANCELLED")
    )
    assert sync.sync_once().cancelled == 1 and visits(store)["cancel-me"][1] == "cancelled"
    third = sync.sync_once()
    assert third.ok and third.changed == 0 and third.applied == 0


def test_a_server_that_is_down_answers_garbage_or_comes_back_empty_cancels_nothing(
    clinic, store: Store, radicale: str, tmp_path: Path
) -> None:
    calendar, sync, repos = clinic
    calendar.save_event(event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300"))
    calendar.save_event(WEEKLY)
    assert sync.sync_once().ok
    before = visits(store)

    down = CalendarSync(
        sync.cfg, repos, store.clock, CaldavSource(f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/clinic/", "", "")
    )
    report = down.sync_once()
    assert not report.ok and "failed" in report.reason and visits(store) == before

    garbage_port = free_port(socket.SOCK_STREAM)

    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_any(self) -> None:
            body = b"<html>502 upstream says hello</html>"
            self.send_response(207)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PROPFIND = do_REPORT = do_GET = do_OPTIONS = do_any

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", garbage_port), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        junk = CalendarSync(
            sync.cfg, repos, store.clock, CaldavSource(f"http://127.0.0.1:{garbage_port}/clinic/", "", "")
        )
        report = junk.sync_once()
    finally:
        server.shutdown()
    assert not report.ok and visits(store) == before

    # The same calendar name, now empty (a server that lost its data): nothing is cancelled.
    empty = caldav.DAVClient(f"{radicale}/", username="other", password="x").principal()
    empty.make_calendar(name="clinic", cal_id="clinic")
    lost = CalendarSync(sync.cfg, repos, store.clock, CaldavSource(f"{radicale}/other/clinic/", "other", "x"))
    with store.transaction() as conn:  # as if the token had been lost too: a full read
        from appliance.store import settings as state

        state.put_state(conn, lost._token_key, None, "2026-03-02T08:00:00.000Z", "test")
    report = lost.sync_once()
    assert not report.ok and "came back empty" in report.reason and visits(store) == before


def test_a_mass_deletion_is_refused(clinic, store: Store) -> None:
    calendar, sync, _repos = clinic
    for n in range(8):
        calendar.save_event(
            event(f"e{n}", f"202603{10 + n:02d}T090000", f"202603{10 + n:02d}T091500", f"P{n} Lis +4860120040{n}")
        )
    assert sync.sync_once().ok
    for n in range(7):
        calendar.event_by_uid(f"e{n}").delete()
    report = sync.sync_once()
    assert not report.ok and "would cancel 7 of 8" in report.reason
    assert all(state == "booked" for _, state in visits(store).values())


def test_the_boxs_confirmations_and_cancellations_are_written_back(clinic, store: Store) -> None:
    calendar, sync, repos = clinic
    calendar.save_event(event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300"))
    calendar.save_event(event("korean", "20260305T140000", "20260305T143000", "김민지 +821012345678"))
    calendar.save_event(WEEKLY)
    assert sync.sync_once().ok
    ids = {r[0]: r[1] for r in store.query_tuples("SELECT filler_id, id FROM appointments")}
    repos.appointments.set_status(ids["single-1"], "cancelled", "reminder:sms")  # the patient texted "cancel"
    repos.appointments.set_status(ids["korean"], "confirmed", "reminder:voice")  # pressed 1
    repos.appointments.set_status(ids["weekly-physio#20260324T090000Z"], "cancelled", "desk")
    assert repos.worklist.open_count() == 3
    report = sync.sync_once()
    assert report.ok and report.written == 3
    assert "STATUS:CANCELLED" in calendar.event_by_uid("single-1").data
    assert "STATUS:CONFIRMED" in calendar.event_by_uid("korean").data
    assert "EXDATE" in calendar.event_by_uid("weekly-physio").data
    assert repos.worklist.open_count() == 0
    done = store.query_tuples("SELECT DISTINCT actor FROM audit_log WHERE action = 'worklist-done'")
    assert done == [("feed:caldav@clinic",)]
    # The next sync reads the box's own writes back and changes nothing.
    again = sync.sync_once()
    assert again.ok
    states = {r[0]: r[1] for r in store.query_tuples("SELECT filler_id, status FROM appointments")}
    assert states["single-1"] == "cancelled" and states["korean"] == "confirmed"
    assert (
        states["weekly-physio#20260324T090000Z"] == "cancelled" and states["weekly-physio#20260303T090000Z"] == "booked"
    )


def test_the_doctor_reads_the_last_sync(clinic, store: Store, tmp_path: Path) -> None:
    from appliance.doctor import Context
    from appliance.doctor import feeds as checks

    calendar, sync, _repos = clinic
    ctx = Context(sync.cfg)
    ctx.cache["store"] = store
    assert checks.calendar_feed(ctx).status == "WARN"  # never synced
    calendar.save_event(event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300"))
    sync.sync_once()
    result = checks.calendar_feed(ctx)
    assert result.status == "OK" and "1 visits changed" in result.detail
    broken = CalendarSync(
        sync.cfg, _repos, store.clock, CaldavSource(f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/clinic/", "", "")
    )
    broken.sync_once()
    result = checks.calendar_feed(ctx)
    assert result.status == "WARN" and "changed nothing" in result.detail and "failed" in result.detail


def test_a_full_read_does_not_book_again_a_visit_the_box_cancelled(radicale: str, tmp_path: Path, store: Store) -> None:
    """Without write-back the event still says booked; a server that forgot the sync token makes the
    next sync read every object again, and an unchanged object must not undo the patient's cancel."""
    client = caldav.DAVClient(f"{radicale}/", username="clinic", password="x")
    calendar = client.principal().make_calendar(name="clinic", cal_id="clinic")
    url = f"{radicale}/clinic/clinic/"
    cfg = clinic_config(
        tmp_path, feeds={"calendar": {"enabled": True, "url": url, "username": "clinic", "write_back": False}}
    )
    repos = repos_with_planner(cfg, store)
    sync = CalendarSync(cfg, repos, store.clock, CaldavSource(url, "clinic", "x"))
    calendar.save_event(event("single-1", "20260304T090000", "20260304T091500", "Jan Nowak +48601200300"))
    calendar.save_event(event("korean", "20260305T140000", "20260305T143000", "김민지 +821012345678"))
    assert sync.sync_once().ok
    aid = store.query_tuples("SELECT id FROM appointments WHERE filler_id = 'single-1'")[0][0]
    repos.appointments.set_status(aid, "cancelled", "reminder:sms")
    from appliance.store import settings as state

    with store.transaction() as conn:
        state.put_state(conn, sync._token_key, "http://radicale.org/ns/sync/forgotten", "2026-03-02T08:00:00.000Z", "t")
    report = sync.sync_once()
    assert report.ok and report.changed == 2 and report.applied == 0, report
    assert visits(store)["single-1"][1] == "cancelled"
