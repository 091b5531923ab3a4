"""Reports run on one big-cache connection, whichever web thread asks."""

from __future__ import annotations

import threading
from datetime import timedelta

from appliance.config import Config
from appliance.reports import ReportRunner, kpi_report_for
from appliance.store import Store, calls
from appliance.store.timefmt import to_db


def test_runner_gives_the_same_report_from_any_thread_on_one_connection(cfg: Config, store: Store, clock) -> None:
    now = clock.now()
    with store.transaction() as conn:
        for i in range(30):
            t = now - timedelta(hours=i)
            calls.insert(conn, uuid=f"c{i}", direction="inbound", started_at=to_db(t), caller=f"+4860123{i:04d}")
            calls.update(
                conn,
                f"c{i}",
                queue="front-desk",
                queued_at=t + timedelta(seconds=5),
                agent_answered_at=t + timedelta(seconds=20 + i) if i % 3 else None,
                ended_at=t + timedelta(seconds=200),
                disposition="answered" if i % 3 else "abandoned",
            )
    runner = ReportRunner(store, cache_mb=16)
    expected = kpi_report_for(cfg, store, now - timedelta(days=2), now + timedelta(minutes=1), now)
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(runner.report(cfg, now - timedelta(days=2), now + timedelta(minutes=1), now))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.queue for r in results] == [expected.queue, expected.queue]
    assert expected.queue.queued == 30 and expected.queue.answered == 20
    assert len(runner._own._all) == 1  # one connection, not one per thread
    runner.close()
