"""Application audio ports leave the conference bridge before Python frees them.

A port freed by its last reference runs its C++ destructor after Python has
begun tearing the object down, and that destructor releases the GIL while it
waits for the bridge: PJMEDIA's clock thread then calls the half-freed object
and the process dies. The test phones died this way in CI (a sipua exited as
a call ended), and the core did in the booted image (voicemail capture).
Each port's close() leaves the bridge first; this proves it on the real
engine, in a child process, with the race forced open every round.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.sip.peers.common import REPO, child_env

ROUNDS = 60


def free_ports(kind: str, mode: str, rounds: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.integration.station.teardown_child", kind, mode, str(rounds)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize("kind", ["meter", "capture"])
def test_a_closed_port_is_freed_safely_while_the_clock_is_calling_it(kind: str) -> None:
    done = free_ports(kind, "close", ROUNDS)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == f"freed {ROUNDS}"  # pjlib logs its start-up first


def test_the_race_is_real_a_port_freed_without_close_kills_the_process() -> None:
    # Without this, the test above could pass only because the race never happened.
    done = free_ports("meter", "drop", ROUNDS)
    assert done.returncode < 0, f"the process survived: {done.stdout!r}"
    assert "freed" not in done.stdout
