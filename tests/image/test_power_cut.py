"""Power cuts under load: QEMU is killed at random moments while this machine (the clinic's
provider) keeps calling the box, so the core is writing call records when the power goes.
After each boot the store passes ``clinicbox db verify`` and holds every call record that
had been committed (read back from the store) before the cut.

A reminder campaign across cuts: test_reminder_cut.py.
Run by ``make image-test``; about 2 minutes a cut under TCG.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.image.guest import SLOWDOWN, Guest
from tests.image.test_boot import SIPP_CALL, TRUNK, _figure

#: Ten by default (the issue asks for at least ten); $CLINICBOX_POWER_CUTS runs fewer or more.
CUTS = int(os.environ.get("CLINICBOX_POWER_CUTS", "10"))
# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900 + CUTS * 600)]
CONFIG = "--config /etc/clinicbox/clinicbox.toml"


def _calls(box: Guest) -> set[str]:
    rows = json.loads(box.ssh(f"clinicbox {CONFIG} calls --json --limit 10000", timeout=120).stdout)
    return {row["uuid"] for row in rows}


def _traffic(box: Guest, work: Path) -> subprocess.Popen[bytes]:
    """SIPp calling the box without pause: 2 new calls a second, each held a second."""
    scenario = work / "call.xml"
    scenario.write_text(SIPP_CALL)
    argv = ["sipp", "-sf", str(scenario), "-r", "2", "-l", "6", "-i", "127.0.0.1", "-p", str(free_port())]
    argv += ["-nostdin", "-recv_timeout", "5000", "-timeout", "600s", f"127.0.0.1:{box.sip_port}"]
    return subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _boot(box: Guest) -> None:
    box.start()
    box.wait_ssh(timeout=240 * SLOWDOWN)
    box.wait_active("clinicbox-core.service", timeout=180 * SLOWDOWN)


def test_power_cuts_while_calls_are_recorded_lose_no_committed_row(guest: Guest, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CLINICBOX_POWER_CUT_SEED", "14")))
    _boot(guest)
    guest.ssh(f"cat >> /etc/clinicbox/clinicbox.toml <<'EOF'\n{TRUNK}EOF")
    guest.ssh("systemctl restart clinicbox-core", timeout=120 * SLOWDOWN)
    guest.wait_active("clinicbox-core.service", timeout=120 * SLOWDOWN)
    checked = 0
    for cut in range(CUTS):
        sipp = _traffic(guest, tmp_path)
        try:
            time.sleep(rng.uniform(3, 10))
            committed = _calls(guest)
            time.sleep(rng.uniform(0.2, 3))
            guest.power_cut()
        finally:
            sipp.kill()
            sipp.wait()
        _boot(guest)
        verify = guest.ssh(f"clinicbox {CONFIG} db verify", check=False, timeout=300)
        assert verify.returncode == 0, f"cut {cut + 1}: {verify.stdout}{verify.stderr}"
        after = _calls(guest)
        lost = committed - after
        assert not lost, f"cut {cut + 1}: {len(lost)} committed call records lost"
        assert len(after) >= len(committed)
        checked += len(committed)
        print(f"cut {cut + 1}: {len(committed)} committed call records before, {len(after)} after; verify ok")
    assert checked > 0, "no call was recorded: the load never reached the box"
    _figure("power_cuts", CUTS)
    _figure("power_cut_committed_rows_checked_sum", checked)
