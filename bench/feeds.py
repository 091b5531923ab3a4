"""Feed benchmark: HL7 messages through the real MLLP listener, each applied and ACKed;
a shared calendar's first and repeat sync against Radicale.

    python -m bench.feeds [--messages 2000] [--connections 1 4] [--events 10000] [--changed 10]
                          [--ics-events 10000]

A child process runs the box's side (``FeedService`` on a real SQLCipher
store in a temporary clinic, the reminder planner as the appointment hook);
this process is the practice system. Each connection sends its share of
SIU S12 bookings (distinct patients in the six languages' scripts, one
new appointment each), waiting for each ACK before the next message, as
MLLP senders do. Reported per run: messages per second including the ACK,
ACK latency p50/p95/max (send to ACK received), the box's CPU time per
message (user + system of the child while the messages ran: on a busy
machine it varies far less than the rate does) and the box's peak RSS
(VmHWM of the child).

Calendar (``--events``, 0 to skip): Radicale on 127.0.0.1 with a calendar
of N single events over the next 50 days (written into its storage
folder, as a calendar a practice already has), then the box's first sync
(every event read, mapped, booked, its reminders planned), a repeat sync
with ``--changed`` events moved (sync token: only those come back), and
the process's peak RSS.

ICS URL (``--ics-events``, 0 to skip): the same kind of calendar published
as one ``.ics`` file by Python's own ``http.server`` on 127.0.0.1 (a
separate process), read by ``feeds.calendar.kind = "ics"``: the first sync,
a repeat sync of the unchanged calendar (a conditional GET answered 304),
and one after ``--changed`` events moved (the whole file is read again).
Not a test; never in CI.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SB, EB, CR = b"\x0b", b"\x1c", b"\r"
NAMES = [
    ("Wiśniewska", "Zofia", "pl"),
    ("김", "민지", "ko"),
    ("王", "芳", "zh"),
    ("Öztürk", "Şükrü", "tr"),
    ("Núñez", "José", "es"),
    ("Smith", "Robert", "en"),
]


def message(run: str, n: int, start: datetime) -> bytes:
    family, given, lang = NAMES[n % len(NAMES)]
    when = (start + timedelta(minutes=15 * n)).strftime("%Y%m%d%H%M")
    return "\r".join(
        [
            f"MSH|^~\\&|BENCH|MAIN|CLINICBOX|CLINIC|20300101000000||SIU^S12^SIU_S12|{run}-{n}|P|2.5.1",
            f"SCH|P{run}{n}|F{run}{n}|||||||15|MIN|^^15^{when}||||||||||||||Booked",
            f"PID|1||M{run}{n}^^^BENCH^MR||{family}^{given}||19800101|F|||||^PRN^CP^^^^^^^^^+4860{n % 10_000_000:07d}"
            + "|" * 3
            + lang,
            "AIP|1||D1^Nowak^Anna",
            "AIL|1||GAB^1",
        ]
    ).encode("utf-8")


def serve(folder: Path) -> None:
    """The box's side: print the port, serve until stdin closes."""
    from appliance.clock import SystemClock
    from appliance.feeds.service import FeedService
    from appliance.store import Store
    from tests.conftest import clinic_config, free_port, repos_with_planner

    port = free_port(socket.SOCK_STREAM)
    cfg = clinic_config(folder, feeds={"hl7": {"enabled": True, "port": port, "allowed_senders": ["127.0.0.1"]}})
    store = Store.create(
        cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=cfg.media_dir
    )
    service = FeedService(cfg, repos_with_planner(cfg, store), store.clock)
    service.start()
    print(port, flush=True)
    sys.stdin.read()
    service.stop()
    store.close()


def sender(port: int, messages: list[bytes], latencies: list[float], failures: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        for payload in messages:
            sent = time.perf_counter()
            conn.sendall(SB + payload + EB + CR)
            data = b""
            while not data.endswith(EB + CR):
                chunk = conn.recv(65536)
                if not chunk:
                    failures.append("connection closed")
                    return
                data += chunk
            latencies.append(time.perf_counter() - sent)
            if b"MSA|AA|" not in data:
                failures.append(data.decode("utf-8", "replace")[:200])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(total: int, connections: int, tag: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cbx-bench-feeds-"))
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.feeds", "--serve", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline())
    start = datetime.now(UTC) + timedelta(days=3)
    batches = [[message(f"{tag}c{c}", n, start) for n in range(c, total, connections)] for c in range(connections)]
    latencies: list[float] = []
    failures: list[str] = []
    cpu_before = cpu_seconds(child.pid)
    began = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(port, b, latencies, failures)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    cpu_ms = (cpu_seconds(child.pid) - cpu_before) * 1000 / max(len(latencies), 1)
    rss = peak_rss_mb(child.pid)
    child.stdin.close()
    child.wait(timeout=30)
    lat = sorted(latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    print(
        f"{connections} connection(s), {len(lat)} messages: {len(lat) / elapsed:.0f} msgs/s incl. ACK; "
        f"ACK latency p50 {statistics.median(lat) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {lat[-1] * 1000:.1f} ms; box CPU {cpu_ms:.2f} ms/msg; box peak RSS {rss:.0f} MB; "
        f"failures {len(failures)}"
    )
    if failures:
        print("first failure:", failures[0])


def calendar_run(events: int, changed: int) -> None:
    import resource
    import signal

    import caldav

    from appliance.clock import SystemClock
    from appliance.feeds.calsync import CaldavSource, CalendarSync
    from appliance.store import Store
    from tests.conftest import clinic_config, free_port, repos_with_planner

    folder = Path(tempfile.mkdtemp(prefix="cbx-bench-cal-"))
    port = free_port(socket.SOCK_STREAM)
    radicale = subprocess.Popen(
        [
            "/usr/bin/radicale",
            f"--storage-filesystem-folder={folder / 'dav'}",
            f"--server-hosts=127.0.0.1:{port}",
            "--auth-type=none",
            "--logging-level=warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        client = caldav.DAVClient(f"http://127.0.0.1:{port}/", username="clinic", password="x")
        calendar = client.principal().make_calendar(name="clinic", cal_id="clinic")
        collection = folder / "dav" / "collection-root" / "clinic" / "clinic"
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)

        def ics(n: int, shift_min: int = 0) -> str:
            start = base + timedelta(days=n // 200, minutes=(n % 200) * 5 + shift_min)
            family, given, _ = NAMES[n % len(NAMES)]
            return (
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
                f"UID:bench-{n}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
                f"DTEND:{start + timedelta(minutes=15):%Y%m%dT%H%M%SZ}\r\n"
                f"SUMMARY:{given} {family} +4860{n % 10_000_000:07d}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            )

        for n in range(events):
            (collection / f"bench-{n}.ics").write_text(ics(n), encoding="utf-8")
        url = f"http://127.0.0.1:{port}/clinic/clinic/"
        cfg = clinic_config(folder / "box", feeds={"calendar": {"enabled": True, "url": url, "username": "clinic"}})
        store = Store.create(
            cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=cfg.media_dir
        )
        source = CaldavSource(url, "clinic", "x", timeout=600)
        sync = CalendarSync(cfg, repos_with_planner(cfg, store), store.clock, source)
        began = time.perf_counter()
        first = sync.sync_once()
        first_s = time.perf_counter() - began
        for n in range(changed):
            calendar.save_event(ics(n * 97 % events, shift_min=30))
        began = time.perf_counter()
        repeat = sync.sync_once()
        repeat_s = time.perf_counter() - began
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"calendar of {events} events: first sync {first_s:.1f} s ({first.applied} booked, ok={first.ok}); "
            f"repeat sync with {changed} moved {repeat_s:.2f} s ({repeat.changed} objects read, {repeat.applied} moved); "
            f"peak RSS {rss:.0f} MB"
        )
        store.close()
    finally:
        radicale.send_signal(signal.SIGTERM)
        radicale.wait(timeout=30)


def ics_run(events: int, changed: int) -> None:
    import resource

    from appliance.clock import SystemClock
    from appliance.feeds.calsync import CalendarSync
    from appliance.feeds.icsurl import IcsUrlSource
    from appliance.store import Store
    from tests.conftest import clinic_config, free_port, repos_with_planner

    folder = Path(tempfile.mkdtemp(prefix="cbx-bench-ics-"))
    (folder / "www").mkdir()
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)

    def publish(moved: int = 0) -> None:
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
        for n in range(events):
            shift = 30 if n < moved else 0
            start = base + timedelta(days=n // 200, minutes=(n % 200) * 5 + shift)
            family, given, _ = NAMES[n % len(NAMES)]
            lines += [
                "BEGIN:VEVENT",
                f"UID:bench-{n}",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                f"DTEND:{start + timedelta(minutes=15):%Y%m%dT%H%M%SZ}",
                f"SUMMARY:{given} {family} +4860{n % 10_000_000:07d}",
                "END:VEVENT",
            ]
        (folder / "www" / "clinic.ics").write_text("\r\n".join([*lines, "END:VCALENDAR", ""]), encoding="utf-8")

    publish()
    port = free_port(socket.SOCK_STREAM)
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder / "www")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/clinic.ics"
        cfg = clinic_config(folder / "box", feeds={"calendar": {"enabled": True, "url": url, "kind": "ics"}})
        store = Store.create(
            cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=cfg.media_dir
        )
        sync = CalendarSync(cfg, repos_with_planner(cfg, store), store.clock, IcsUrlSource(url, timeout=600))
        timed = []
        for step in ("first", "unchanged", "changed"):
            if step == "changed":
                time.sleep(1.1)  # http.server's Last-Modified has whole seconds
                publish(moved=changed)
            began = time.perf_counter()
            report = sync.sync_once()
            timed.append((step, time.perf_counter() - began, report))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first, same, moved = (t for t in timed)
        print(
            f"ICS URL of {events} events: first sync {first[1]:.1f} s ({first[2].applied} booked, ok={first[2].ok}); "
            f"unchanged {same[1]:.3f} s ({same[2].changed} objects read); "
            f"{changed} moved {moved[1]:.1f} s ({moved[2].changed} objects read, {moved[2].applied} moved, "
            f"ok={moved[2].ok}); peak RSS {rss:.0f} MB"
        )
        store.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--events", type=int, default=10000, help="calendar events (0: no calendar run)")
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--ics-events", type=int, default=10000, help="ICS URL events (0: no ICS run)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    for i, connections in enumerate(args.connections):
        run(args.messages, connections, f"r{i}")
    if args.events:
        calendar_run(args.events, args.changed)
    if args.ics_events:
        ics_run(args.ics_events, args.changed)


if __name__ == "__main__":
    main()
