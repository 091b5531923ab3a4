"""Web UI benchmark: server time of the busy screens on a big clinic, and how
fast a queue change reaches the wallboard in a real browser.

    python -m bench.webui [--patients 100000] [--calls 500000] [--runs 40]
                          [--samples 30] [--keep DIR] [--no-browser]

Builds (or reuses with ``--keep``) a demo clinic whose real SQLCipher store
holds N patients (names in six scripts) and one year of call records,
written with ``executemany``. Then:

* server time, p50/p95/max over ``--runs`` warm requests through the Flask
  app (routing, store queries, audit rows, template rendering): dashboard
  (page + today's figures), patient search (name, phone, birth date),
  call log page (first, deep and one-day pages), KPI report (7 and 30 days);
* wallboard latency: the real ``clinicbox web`` process, the FakeCore test
  double serving the control socket, and chromium on the wallboard. A queue
  event is published on the core's bus; the page records (MutationObserver)
  when the waiting count changes; latency = that moment - publish time.

Targets: dashboard < 50 ms, search < 50 ms, call log < 100 ms, KPI report
< 300 ms (p95); wallboard < 500 ms. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.demo.data import NAMES
from appliance.demo.seed import seed
from appliance.store import Store
from appliance.store.names import display_name, fold
from appliance.store.timefmt import to_db

QUEUES = ("front-desk", "appointments", "results", "billing")
AGENTS = ("desk1", "desk2")
FAMILIES = sorted({f for f, _g, _l in NAMES})
GIVENS = sorted({g for _f, g, _l in NAMES})
LANGS = ("en", "es", "pl", "tr", "ko", "zh")


def phone(i: int) -> str:
    return f"+1347{2000000 + i:07d}"


def fill_patients(store: Store, count: int, now: datetime, rng: random.Random) -> None:
    stamp = to_db(now)
    rows = []
    for i in range(1, count + 1):
        family, given, lang = NAMES[i % len(NAMES)]
        family = f"{family}{rng.choice(['', '', 'a', 'o', 'i'])}" if lang not in ("ko", "zh") else family
        given = rng.choice([g for f, g, lg in NAMES if lg == lang])
        name = display_name(family, given)
        dob = f"{1935 + i % 85}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        rows.append((i, f"bench:{i}", family, given, name, fold(name), dob, lang, stamp, stamp))
    with store.transaction() as conn:
        conn.execute("DELETE FROM patient_phones WHERE patient_id > 0")
        conn.execute("DELETE FROM appointments")
        conn.execute("DELETE FROM patients")
        conn.executemany(
            "INSERT INTO patients(id, import_key, family_name, given_name, display_name, name_search, date_of_birth,"
            " language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO patient_phones(patient_id, e164, is_primary) VALUES (?,?,1)",
            ((i, phone(i)) for i in range(1, count + 1)),
        )
        appts = []
        for j in range(3000):
            start = now + timedelta(hours=rng.randrange(-24 * 30, 24 * 30))
            appts.append(
                (
                    f"b:{j}",
                    1 + rng.randrange(count),
                    "Dr. Bench",
                    to_db(start),
                    to_db(start + timedelta(minutes=20)),
                    stamp,
                    stamp,
                )
            )
        conn.executemany(
            "INSERT INTO appointments(import_key, patient_id, provider, starts_at, ends_at, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?)",
            appts,
        )


def _moment(rng: random.Random, now: datetime, days: int) -> datetime:
    while True:
        day = now - timedelta(days=rng.randrange(days))
        if day.weekday() >= 5 and rng.random() < 0.7:
            continue
        hour = min(max(rng.gauss(15.5, 3.0), 0.0), 23.99)  # office hours in New York, in UTC
        moment = day.replace(hour=int(hour), minute=int(hour % 1 * 60), second=rng.randrange(60), microsecond=0)
        if moment <= now:
            return moment


def fill_calls(store: Store, count: int, patients: int, now: datetime, rng: random.Random) -> None:
    moments = sorted(_moment(rng, now, 365) for _ in range(count))
    rows = []
    for i, started in enumerate(moments):
        known = rng.random() < 0.8
        pid = 1 + rng.randrange(patients) if known else None
        caller = phone(pid) if pid else f"+1917{rng.randrange(10**7):07d}"
        queue = rng.choice(QUEUES)
        queued = started + timedelta(seconds=rng.uniform(8, 40))
        wait = rng.expovariate(1 / 30)
        roll = rng.random()
        hold = wrap = 0.0
        if roll < 0.08:
            disposition, agent, answered_by_agent = "abandoned", None, None
            ended = queued + timedelta(seconds=wait)
        elif roll < 0.12:
            disposition, agent, answered_by_agent = "voicemail", None, None
            ended = queued + timedelta(seconds=wait + 60)
        else:
            disposition, agent = "answered", rng.choice(AGENTS)
            answered_by_agent = queued + timedelta(seconds=wait)
            hold = rng.choice([0.0, 0.0, rng.uniform(5, 60)])
            wrap = rng.uniform(5, 30)
            ended = answered_by_agent + timedelta(seconds=rng.uniform(40, 420) + hold)
        rows.append(
            (
                f"bench-{i}",
                "inbound",
                caller,
                pid,
                to_db(started),
                to_db(started + timedelta(seconds=1)),
                queue,
                to_db(queued),
                agent,
                to_db(answered_by_agent) if answered_by_agent else None,
                to_db(ended),
                disposition,
                '["hours","welcome","main"]',
                hold,
                wrap,
                "Wants a repeat prescription" if rng.random() < 0.05 else "",
            )
        )
    with store.transaction() as conn:
        conn.execute("DELETE FROM calls")
        conn.executemany(
            "INSERT INTO calls(uuid, direction, caller, patient_id, started_at, answered_at, queue, queued_at, agent,"
            " agent_answered_at, ended_at, disposition, ivr_path, hold_seconds, wrap_seconds, note)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO callbacks(number, patient_id, queue, source, requested_at, place_at) VALUES (?,?,?,?,?,?)",
            [
                (
                    phone(p),
                    p,
                    "front-desk",
                    "abandoned",
                    to_db(now - timedelta(minutes=5 * k)),
                    to_db(now - timedelta(minutes=5 * k)),
                )
                for k, p in enumerate(rng.sample(range(1, patients + 1), 20))
            ],
        )


def build(directory: Path, patients: int, calls: int) -> tuple[Path, datetime]:
    marker = directory / "bench.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info["patients"] == patients and info["calls"] == calls:
            return directory / "c" / "clinicbox.toml", datetime.fromisoformat(info["now"])
    now = datetime.now(UTC).replace(microsecond=0)
    if not (directory / "c" / "clinicbox.toml").exists():
        seed(directory / "c", web_port=18180, sip_port=15160, pstn_port=15180)
    cfg = load_config(directory / "c" / "clinicbox.toml")
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    rng = random.Random(2026)
    started = time.monotonic()
    fill_patients(store, patients, now, rng)
    t_patients = time.monotonic() - started
    fill_calls(store, calls, patients, now, rng)
    t_calls = time.monotonic() - started - t_patients
    store.connection().execute("PRAGMA optimize")
    store.close()
    print(f"filled {patients:,} patients in {t_patients:.1f} s and {calls:,} calls in {t_calls:.1f} s")
    marker.write_text(json.dumps({"patients": patients, "calls": calls, "now": now.isoformat()}))
    return directory / "c" / "clinicbox.toml", now


def measure(get: Callable[[str], object], paths: list[str], runs: int) -> list[float]:
    for path in paths:
        for _ in range(2):
            get(path)
    times = []
    for i in range(runs):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = get(path)
        times.append((time.perf_counter() - started) * 1000)
        if getattr(response, "status_code", 200) != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")  # type: ignore[attr-defined]
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def server_times(config_path: Path, now: datetime, patients: int, runs: int) -> None:
    from tests.unit.webui.conftest import login_as
    from webui import create_app
    from webui.runtime import EXTENSION

    cfg = load_config(config_path)
    app = create_app(cfg, config_path, clock=FakeClock(now), start_live=False)
    client = app.test_client()
    login_as(client, app, "manager")
    rng = random.Random(5)
    searches = ["kowal", "garcía", "김민", "王小", "yilmaz", "smith"]
    searches += [phone(rng.randrange(1, patients)) for _ in range(4)]
    searches += [f"{1935 + k}-{1 + k % 12:02d}-{1 + k % 28:02d}" for k in range(4)]
    day = (now - timedelta(days=3)).date().isoformat()
    mid = to_db(now - timedelta(days=180))

    def dashboard(_: str) -> object:
        client.get("/dashboard")
        return client.get("/dashboard/today")

    def get(path: str) -> object:
        return client.get(path)

    rows = [
        ("dashboard (page + today)", measure(dashboard, ["/"], runs), 50),
        ("patient search", measure(get, [f"/patients?q={q}" for q in searches], runs), 50),
        ("call log page", measure(get, ["/calls", f"/calls?before={mid}", f"/calls?date={day}"], runs), 100),
    ]
    try:
        import appliance.reports  # noqa: F401
    except ImportError:
        print("KPI report: appliance.reports is not installed in this tree; skipped")
    else:
        rows.append(("KPI report (7 days)", measure(get, ["/reports?preset=7d"], max(10, runs // 2)), 300))
        rows.append(("KPI report (30 days)", measure(get, ["/reports?preset=30d"], max(10, runs // 4)), 300))
    print(f"\nserver time per request, ms ({runs} runs, warm):")
    print(f"  {'screen':<28} {'p50':>7} {'p95':>7} {'max':>7}  target")
    for name, times, target in rows:
        verdict = "ok" if p95(times) < target else "OVER"
        print(
            f"  {name:<28} {statistics.median(times):7.1f} {p95(times):7.1f} {max(times):7.1f}  < {target} ms {verdict}"
        )
    app.extensions[EXTENSION].store.close()


def wallboard_latency(config_path: Path, samples: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.webui.conftest import CHROMIUM, CHROMIUM_ARGS, Clinic, demo_logins, login, start_web, stop_web
    from tests.webui.fakecore import FakeCore

    cfg = load_config(config_path)
    directory = config_path.parent
    manager = (directory / "first-login.txt").read_text().split("password: ")[1].strip()
    clinic = Clinic(directory, config_path, cfg, demo_logins(directory, manager))
    core = FakeCore(cfg.control_socket, queues={q: v.name for q, v in cfg.queues.items()}).start()
    start_web(clinic)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            login(page, clinic, "manager")
            page.goto(clinic.base_url + "/wallboard")
            page.wait_for_selector("[data-testid=queue-waiting-front-desk]")
            page.evaluate(
                """() => {
                  window.__changes = [];
                  new MutationObserver(() => {
                    const el = document.querySelector('[data-testid=queue-waiting-front-desk]');
                    if (el) { window.__changes.push([Date.now(), el.textContent]); }
                  }).observe(document.getElementById('queues'), {subtree: true, childList: true, characterData: true});
                }"""
            )
            latencies = []
            for k in range(samples):
                time.sleep(random.uniform(0.3, 0.8))
                expected = str(k + 1)
                published = time.time() * 1000
                core.add_waiting("front-desk", f"bench-call-{k}", f"+1212555{k:04d}", wait_s=1)
                page.wait_for_function("(n) => window.__changes.some(c => c[1] === n)", arg=expected, timeout=5000)
                seen = page.evaluate("(n) => window.__changes.find(c => c[1] === n)[0]", expected)
                latencies.append(seen - published)
            browser.close()
    finally:
        stop_web(clinic)
        core.stop()
    print(f"\nwallboard update latency (queue event on the core's bus -> browser DOM), {samples} events:")
    print(
        f"  p50 {statistics.median(latencies):.0f} ms, p95 {p95(latencies):.0f} ms, max {max(latencies):.0f} ms"
        f"  (target < 500 ms: {'ok' if p95(latencies) < 500 else 'OVER'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build the clinic here once and reuse it")
    parser.add_argument("--no-browser", action="store_true", help="skip the wallboard latency run")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="cbxbench"))
    directory.mkdir(parents=True, exist_ok=True)
    config_path, now = build(directory, args.patients, args.calls)
    server_times(config_path, now, args.patients, args.runs)
    if not args.no_browser:
        wallboard_latency(config_path, args.samples)


if __name__ == "__main__":
    main()
