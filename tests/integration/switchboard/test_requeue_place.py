"""A caller the console sends back into a queue keeps their place, with the real
core: their priority from the IVR and their first arrival, not a fixed priority
that would put them behind callers who came later."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

from tests.integration.switchboard.test_console_e2e import call_of, on_desk2
from tests.integration.switchboard.test_queue import A, B, enter_queue, waiting

#: Every caller comes in at priority 7 (the console's old fixed 5 would be lower);
#: a longer wrap-up keeps both callers waiting long enough to read the line.
#: (ivr.nodes is replaced as a whole: the defaults' nodes, with the front desk's priority.)
DEFAULTS = Path(__file__).resolve().parents[3] / "appliance" / "config" / "defaults.toml"
NODES = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))["ivr"]["nodes"]
OVERLAY = {
    "ivr": {"nodes": {**NODES, "front-desk": {**NODES["front-desk"], "priority": 7}}},
    "queues": {"front-desk": {"wrap_up_s": 4}},
}


def test_a_caller_transferred_back_to_the_queue_is_ahead_of_one_who_came_later(box, sipua, station_proc) -> None:
    b, first, c1 = on_desk2(box, sipua, station_proc, overlay=OVERLAY)
    second = sipua(name="second")
    c2 = enter_queue(second, b, B)
    b.wait(lambda s: [w["caller"] for w in waiting(s)] == [B], timeout=20, what="B waiting behind A's call")
    time.sleep(1.0)
    b.control.transfer("desk2", to_queue="front-desk")
    status = b.wait(lambda s: len(waiting(s)) == 2, timeout=10, what="A back in the line with B")
    line = waiting(status)
    assert [(w["caller"], w["priority"], w["position"]) for w in line] == [(A, 7, 1), (B, 7, 2)]
    assert line[0]["wait_s"] > line[1]["wait_s"]  # A's wait counts from A's first arrival
    # desk2, free after its wrap-up, gets A again, not B.
    b.wait(lambda s: call_of(s, A).get("agent") == "desk2", timeout=20, what="A back with desk2")
    assert call_of(b.status(), B).get("agent") is None
    first.hangup(c1)
    second.hangup(c2)
