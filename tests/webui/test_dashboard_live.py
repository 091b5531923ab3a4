"""Today's figures on the dashboard follow the calls live, in a real browser.

The FakeCore stands in for the core's control socket; this test writes the
call record as the core's store writer does (the row when the call queues,
``agent_answered_at`` when an agent answers) and then pushes the snapshot,
so the page sees what it would see on a real box.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from appliance.store import Store
from appliance.store import calls as cdr
from appliance.store.timefmt import to_db
from tests.webui.conftest import Clinic, login

pytestmark = pytest.mark.timeout(60)

CALL = "call-kpi-1"
CALLER = "+12125550142"


@pytest.fixture
def store(clinic: Clinic) -> Iterator[Store]:
    s = Store.open(clinic.cfg.db_path, clinic.cfg.paths.key_file, media_dir=clinic.cfg.media_dir)
    yield s
    s.close()


def figure(page: object, name: str) -> int:
    text = page.inner_text(f"[data-testid=kpi-{name}]")  # type: ignore[attr-defined]
    return int(text.split()[0].replace(",", ""))


def wait_figure(page: object, name: str, expected: int, started: float) -> float:
    """Seconds from ``started`` until the figure reads ``expected`` (fails after 2 s)."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "([name, n]) => { const e = document.querySelector(`[data-testid=kpi-${name}]`);"
        " return e && parseInt(e.textContent.replace(/,/g, ''), 10) === n; }",
        arg=[name, expected],
        timeout=2000,
    )
    return time.monotonic() - started


@pytest.mark.serial
def test_todays_figures_change_within_a_second_of_a_call_queuing_and_being_answered(
    page, clinic: Clinic, store: Store
) -> None:
    core = clinic.core
    assert core is not None
    login(page, clinic, "manager")
    page.goto(clinic.base_url + "/dashboard")
    page.wait_for_selector("[data-testid=queue-front-desk]")
    page.wait_for_selector("[data-testid=today][data-updated]")
    # Snapshots that change nothing the figures count (here the modem's
    # signal) fetch nothing: the store is not asked again for every push.
    page.evaluate(
        "window.__todayFetches = 0; const f = window.fetch; window.fetch = function (u, o) {"
        " if (String(u).indexOf('/dashboard/today') >= 0) { window.__todayFetches++; } return f(u, o); }"
    )
    for rssi in (18, 19, 20, 21):
        core.set("modem", rssi=rssi)
        time.sleep(0.1)
    time.sleep(0.7)
    assert page.evaluate("window.__todayFetches") == 0
    calls, answered = figure(page, "calls"), figure(page, "answered")

    queued_at = datetime.now(UTC) - timedelta(seconds=8)
    with store.transaction() as conn:
        cdr.insert(conn, uuid=CALL, direction="inbound", started_at=to_db(queued_at), caller=CALLER)
        cdr.update(conn, CALL, queue="front-desk", queued_at=to_db(queued_at))
    started = time.monotonic()
    core.add_waiting("front-desk", CALL, CALLER, wait_s=8)
    elapsed = wait_figure(page, "calls", calls + 1, started)
    assert elapsed < 1.0, f"today's calls took {elapsed:.2f} s to show a queued call"
    assert figure(page, "answered") == answered

    with store.transaction() as conn:
        cdr.update(conn, CALL, agent="desk1", agent_answered_at=to_db(datetime.now(UTC)))
    started = time.monotonic()
    core.remove_waiting(CALL)
    core.set_agent("desk1", state="on-call", call_id=CALL, caller=CALLER, queue="front-desk")
    elapsed = wait_figure(page, "answered", answered + 1, started)
    assert elapsed < 1.0, f"today's answered calls took {elapsed:.2f} s to show an answer"
