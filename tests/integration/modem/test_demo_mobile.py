"""The demo's mobile network texts and rings the core's simulated modem through its control socket."""

from __future__ import annotations

import random
import threading

from appliance.demo.mobile import TEXTS, MobileNetwork
from tests.integration.modem.conftest import Rig, wait_until


def test_demo_texts_reach_the_sms_store_and_calls_ring_the_modem(rig: Rig) -> None:
    stop = threading.Event()
    sock = rig.cfg.paths.run_dir / "modem-sim.sock"
    wait_until(sock.exists, what="the simulator's control socket")
    mobile = MobileNetwork(sock, ["+48601234567"], random.Random(3), stop, every_s=0.1, call_s=(0.2, 0.4))
    thread = threading.Thread(target=mobile.run, daemon=True)
    thread.start()
    try:
        received = wait_until(lambda: rig.events.of("modem.sms.received"), 10, "a demo text to arrive")
        record = rig.sms(received[0]["sms_id"])
        assert record.direction == "in" and record.number == "+48601234567"
        assert record.body in TEXTS
        wait_until(lambda: rig.events.of("modem.call.incoming"), 20, "a demo GSM call to ring")
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
