"""Store benchmark: caller-ID lookup on a large clinic, CSV import rate, and
the cost of encryption (SQLCipher vs plain SQLite, same schema, same run).

    python -m bench.store [--patients 100000] [--rows 1000000]

Prints figures; it is not a test and never runs in CI.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlcipher3

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.store import Store, callerid
from appliance.store.audit import AuditLog
from appliance.store.importer import Importer
from appliance.store.migrate import _statements, available
from appliance.store.names import fold
from appliance.store.timefmt import to_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: The box's caller-ID lookup cache (store.lookup_cache_mb), used for both databases.
CACHE_MB = load_config(use_secrets=False, use_overlay=False).store.lookup_cache_mb


def number(i: int) -> str:
    return f"+48{600000000 + i * 7:09d}"


def fill(conn: object, patients: int, rows: int, rng: random.Random) -> None:
    c = conn  # sqlite3 or sqlcipher3 connection, autocommit mode
    c.execute("BEGIN")  # type: ignore[attr-defined]
    stamp = to_db(NOW)
    c.executemany(  # type: ignore[attr-defined]
        "INSERT INTO patients(id, import_key, family_name, given_name, display_name, name_search, date_of_birth,"
        " language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (
                i,
                f"b:{i}",
                f"Family{i}",
                f"Given{i}",
                f"Given{i} Family{i}",
                fold(f"Given{i} Family{i}"),
                f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}",
                "pl",
                stamp,
                stamp,
            )
            for i in range(1, patients + 1)
        ),
    )
    c.executemany(  # type: ignore[attr-defined]
        "INSERT INTO patient_phones(patient_id, e164, is_primary) VALUES (?,?,1)",
        ((i, number(i)) for i in range(1, patients + 1)),
    )
    half = rows // 2
    c.executemany(  # type: ignore[attr-defined]
        "INSERT INTO appointments(import_key, patient_id, provider, starts_at, ends_at, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (
            (
                f"a:{j}",
                1 + j % patients,
                "Dr. A",
                to_db(NOW + timedelta(hours=(j * 7919) % 20000 - 10000)),
                to_db(NOW + timedelta(hours=(j * 7919) % 20000 - 10000, minutes=30)),
                stamp,
                stamp,
            )
            for j in range(half)
        ),
    )
    c.executemany(  # type: ignore[attr-defined]
        "INSERT INTO calls(uuid, direction, caller, patient_id, started_at, disposition) VALUES (?,?,?,?,?,?)",
        (
            (
                f"c{j}",
                "inbound",
                number(1 + j % patients),
                1 + j % patients,
                to_db(NOW - timedelta(minutes=j % 500000)),
                "answered",
            )
            for j in range(rows - half)
        ),
    )
    c.execute("COMMIT")  # type: ignore[attr-defined]


#: What Store.warm() reads, run on the plain database too.
WARM_SQL = (
    "SELECT count(e164) FROM patient_phones INDEXED BY patient_phones_e164",
    "SELECT count(location) FROM appointments INDEXED BY appointments_patient WHERE patient_id > 0",
    "SELECT count(disposition) FROM calls INDEXED BY calls_patient WHERE patient_id > 0",
    "SELECT count(disposition) FROM calls INDEXED BY calls_caller WHERE caller > ''",
    "SELECT count(notes) FROM patients",
)


def plain_db(path: Path) -> sqlite3.Connection:
    """The same schema, unencrypted, on the same SQLite build (sqlcipher3 without
    a key is plain SQLite 3.x), so the ratio measures encryption alone."""
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_MB * 1024}")
    conn.execute("BEGIN")
    for _, _, sql in available():
        for statement in _statements(sql):
            conn.execute(statement)
    conn.execute("COMMIT")
    return conn


def time_lookups(conn: object, numbers: list[str]) -> list[float]:
    out = []
    for n in numbers:
        t0 = time.perf_counter()
        callerid.lookup(conn, n, NOW)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=1_000_000, help="appointments + calls")
    ap.add_argument("--lookups", type=int, default=5000)
    ap.add_argument("--import-rows", type=int, default=50_000)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        clock = FakeClock(NOW)
        store = Store.create(d / "c.db", d / "k.key", clock=clock, cache_mb=CACHE_MB)
        t0 = time.perf_counter()
        fill(store.connection(), args.patients, args.rows, rng)
        print(
            f"filled SQLCipher store: {args.patients} patients, {args.rows} appointment/call rows "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        plain = plain_db(d / "plain.db")
        fill(plain, args.patients, args.rows, rng)
        numbers = [number(rng.randrange(1, args.patients + 1)) for _ in range(args.lookups)]
        numbers += [f"+48{rng.randrange(500000000, 599999999)}" for _ in range(args.lookups // 10)]  # unknown callers
        rng.shuffle(numbers)
        # Cold: a fresh connection each, nothing cached yet (the first calls after a restart).
        store.close()
        cold_enc = time_lookups(store.connection(), numbers[:1000])
        cold_clear = time_lookups(plain, numbers[:1000])
        print(
            f"cold cache, first 1000 lookups: SQLCipher p95 {pct(cold_enc, 95):.3f} ms, "
            f"plain p95 {pct(cold_clear, 95):.3f} ms"
        )
        # Warm: the core warms its lookup connection at start-up (Store.warm); same for plain.
        store.warm()
        for sql in WARM_SQL:
            plain.execute(sql).fetchone()
        enc, clear = [], []
        for chunk in range(0, len(numbers), 500):
            part = numbers[chunk : chunk + 500]
            enc += time_lookups(store.connection(), part)
            clear += time_lookups(plain, part)
        print(f"page cache {CACHE_MB} MB for both (store.lookup_cache_mb)")
        print(
            f"caller-ID lookup, SQLCipher: p50 {pct(enc, 50):.3f} ms  p95 {pct(enc, 95):.3f} ms  "
            f"({len(enc)} lookups; target p95 < 2 ms)"
        )
        print(f"caller-ID lookup, plain SQLite: p50 {pct(clear, 50):.3f} ms  p95 {pct(clear, 95):.3f} ms")
        print(
            f"SQLCipher / plain SQLite: p50 {pct(enc, 50) / pct(clear, 50):.2f}x  "
            f"p95 {pct(enc, 95) / pct(clear, 95):.2f}x  (target within 1.3x)"
        )
        sizes = {p.name: p.stat().st_size // 2**20 for p in d.iterdir() if p.suffix == ".db"}
        print(f"database sizes (MB): {sizes}")
        plain.close()
        store.close()

        # CSV import into a fresh store, through the real importer.
        store2 = Store.create(d / "i.db", d / "i.key", clock=clock, cache_mb=CACHE_MB)
        rows = ["external_id,family_name,given_name,date_of_birth,phone,language"]
        scripts = [
            ("Wiśniewska", "Zofia", "pl"),
            ("Yılmaz", "Ayşe", "tr"),
            ("김", "민준", "ko"),
            ("王", "小明", "zh"),
            ("García", "José", "es"),
            ("Smith", "Mary", "en"),
        ]
        for i in range(args.import_rows):
            fam, giv, lang = scripts[i % len(scripts)]
            rows.append(f"X{i},{fam}{i},{giv},19{50 + i % 50}-0{1 + i % 9}-1{i % 9},+4860{i:07d},{lang}")
        data = ("\n".join(rows) + "\n").encode("utf-8")
        importer = Importer(store2, AuditLog(store2), "PL", "pl", "Europe/Warsaw", min_free_mb=1)
        t0 = time.perf_counter()
        report = importer.patients(data, "bench")
        elapsed = time.perf_counter() - t0
        print(
            f"CSV import: {report.inserted} patients in {elapsed:.2f} s = {report.inserted / elapsed:,.0f} rows/s "
            "(target > 20,000 rows/s)"
        )
        t0 = time.perf_counter()
        again = importer.patients(data, "bench")
        elapsed = time.perf_counter() - t0
        print(f"CSV re-import (all unchanged): {again.unchanged / elapsed:,.0f} rows/s")
        store2.close()


if __name__ == "__main__":
    main()
