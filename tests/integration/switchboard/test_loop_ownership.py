"""PJSUA2 objects are only ever freed on the PJSUA2 thread.

The demo once aborted the core ("Calling pjlib from unknown/external
thread") when a call's last reference went away on another thread. Each
case runs in a child process, because without the guard PJSUA2 aborts the
whole process, pytest included.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import free_port

CHILD = """
import gc, sys, threading, time, weakref
from pathlib import Path

import pjsua2 as pj

from appliance.switchboard.legs import Leg, SbAccount
from appliance.switchboard.loop import PjLoop
from tests.conftest import clinic_config


class Events:  # what a controller offers legs; nothing to decide here
    def soon(self, fn): loop.soon(fn)
    def on_leg_state(self, *a): pass
    def on_leg_media(self, *a): pass
    def on_leg_digit(self, *a): pass


cfg = clinic_config(Path(sys.argv[1]), sip={{"port": {port}, "max_calls": 4}})
loop = PjLoop(cfg)
loop.start()
assert not gc.isenabled(), "automatic GC must be off while PJSUA2 runs"

def ringing_leg():
    acc = SbAccount(Events(), "local")
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = "sip:clinicbox@127.0.0.1:{port}"
    acc.create(acc_cfg, True)
    loop.keepalive.append(acc)
    leg = Leg(Events(), acc, role="outbound", owner="test")
    leg.makeCall("sip:nobody@127.0.0.1:{silent}", pj.CallOpParam(True))  # nobody answers: it stays CALLING
    return leg

leg = loop.call(ringing_leg)
assert loop.call(leg.isActive)
gone = weakref.ref(leg)
{drop}
deadline = time.monotonic() + 5
while gone() is not None and time.monotonic() < deadline:
    time.sleep(0.05)
assert gone() is None, "the loop never freed the parked call"
loop.stop()
assert gc.isenabled(), "automatic GC must be back on after the switchboard stops"
print("survived")
"""

DROP_REFERENCE = "del leg  # the last reference goes on the main thread, mid-call"
DROP_CYCLE = """leg.self_ref = leg  # a cycle: only the collector can free it
del leg
gc.collect()  # a collection on the main thread, as another thread's allocation would trigger"""


def run_child(tmp_path: Path, drop: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(CHILD).format(port=free_port(), silent=free_port(), drop=drop)
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )


def test_a_call_dropped_on_another_thread_is_freed_by_the_loop(tmp_path: Path) -> None:
    result = run_child(tmp_path, DROP_REFERENCE)
    assert "unknown/external thread" not in result.stderr
    assert result.returncode == 0 and "survived" in result.stdout, result.stderr[-2000:]


def test_a_call_in_a_cycle_collected_on_another_thread_is_freed_by_the_loop(tmp_path: Path) -> None:
    result = run_child(tmp_path, DROP_CYCLE)
    assert "unknown/external thread" not in result.stderr
    assert result.returncode == 0 and "survived" in result.stdout, result.stderr[-2000:]
