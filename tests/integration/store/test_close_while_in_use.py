"""Closing or locking the store while other threads are mid-query.

The manager locks the store (passphrase mode) or the core stops while the
modem worker, the dispatcher and the feeds are reading. A connection closed
by another thread while it steps frees what the step still uses: the whole
process dies with SIGSEGV (seen in CI). Each thread must close its own.
The race runs in a child process so a crash fails this test, not the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from appliance.errors import StoreLockedError
    from appliance.store import Store

    base = Path(sys.argv[1])
    store = Store.create(base / "c.db", base / "c.key")
    stop = threading.Event()
    done, errors, refused = [0], [], [0]
    SLOW = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT sum(i) FROM n"

    def reader():
        while not stop.is_set():
            try:
                row = store.query_one(SLOW)
                assert row[0] == 200010000, row[0]
                done[0] += 1
            except StoreLockedError:
                refused[0] += 1
                time.sleep(0.001)
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3
    closes = 0
    while time.monotonic() < deadline:
        store.close()
        closes += 1
        time.sleep(0.0005)
    store.lock()
    time.sleep(0.3)
    locked_done = done[0]
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    store.close()
    print(closes, done[0], done[0] - locked_done, refused[0], len(errors), errors[:3])
    """
)


def test_closing_and_locking_under_running_queries_neither_crashes_nor_fails_them(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    closes, done, after_lock, refused, errors, sample = proc.stdout.split(maxsplit=5)
    assert int(errors) == 0, sample
    assert int(closes) > 100 and int(done) > 10, proc.stdout  # the race really ran
    assert int(after_lock) == 0 and int(refused) > 0, proc.stdout  # locked means locked, on every thread
