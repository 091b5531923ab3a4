"""A box whose data partition is damaged boots on and says so, instead of stopping in
systemd's emergency shell (where nobody on site could see why the phones are dead).

The image's own disk (a copy: the qcow2 overlay of tests/image/guest.py) gets the data
partition's ext4 superblock zeroed before its first power-on, as a dying SD card or a
cut during a write to it could leave it. Then: the box is reachable (SSH, so the boot
went past local-fs.target), ``clinicbox-data-fault.service`` wrote the fault to the
console and to the journal at priority crit, ``clinicbox doctor`` names it first, and
the core, which needs that partition, is not started (nor restarted in a loop).

Run by ``make image-test``; one first boot, about 4 minutes under TCG.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.image.guest import SLOWDOWN, Guest
from tests.image.test_boot import _figure, _show

# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

FAULT = "the data partition cannot be mounted"


def _data_partition_offset(image: Path) -> int:
    """Byte offset of partition 3 (the data partition) in the image."""
    table = json.loads(subprocess.run(["sfdisk", "-J", str(image)], capture_output=True, check=True).stdout)
    data = table["partitiontable"]["partitions"][2]
    return int(data["start"]) * int(table["partitiontable"].get("sectorsize", 512))


def test_a_box_with_a_corrupt_data_partition_boots_and_reports_the_fault(guest: Guest) -> None:
    offset = _data_partition_offset(guest.image.resolve())
    # ext4's primary superblock: 1024 bytes at byte 1024 of the partition.
    zero = subprocess.run(
        ["qemu-io", "-f", guest.disk_format, "-c", f"write -z {offset + 1024} 1024", str(guest.disk)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 1024/1024 bytes" in zero.stdout, zero.stdout
    started = guest.start()
    guest.wait_ssh(timeout=240 * SLOWDOWN)
    until = time.monotonic() + 180 * SLOWDOWN
    while (state := guest.ssh("systemctl is-system-running", check=False).stdout.strip()) in (
        "initializing",
        "starting",
    ):
        assert time.monotonic() < until, "the boot never finished"
        time.sleep(2)
    # Booted to multi-user, not to an emergency or rescue shell; "degraded": the fault report failed on purpose.
    assert state == "degraded", state
    assert guest.ssh("systemctl is-active multi-user.target").stdout.strip() == "active"
    assert guest.ssh("findmnt -n /data", check=False).returncode == 1
    failed = guest.ssh("systemctl list-units --failed --plain --no-legend").stdout
    assert "clinicbox-data-fault.service" in failed, failed
    report = _show(guest, "clinicbox-data-fault.service", "ActiveState", "Result")
    assert report == {"ActiveState": "failed", "Result": "exit-code"}, report
    _figure("corrupt_data_power_on_to_fault_reported_s", time.monotonic() - started)

    crit = guest.ssh("journalctl -b -p crit --no-pager -o cat").stdout
    assert f"ClinicBox FAULT: {FAULT}: no file system labelled clinicbox-data was found" in crit, crit
    assert FAULT in guest.console_tail(400_000)  # the box's screen
    doctor = guest.ssh("clinicbox doctor --json", check=False)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    checks = json.loads(doctor.stdout)["checks"]
    assert checks[0]["name"] == "data partition" and checks[0]["status"] == "FAIL", checks
    assert FAULT in checks[0]["detail"] and "restore the last backup" in checks[0]["fix"], checks[0]

    # Nothing that needs the partition ran: no first boot on the damaged card, no core in a restart loop.
    first = _show(guest, "clinicbox-first-boot.service", "ActiveState", "ExecMainStartTimestampMonotonic")
    assert first == {"ActiveState": "inactive", "ExecMainStartTimestampMonotonic": "0"}, first
    time.sleep(10)
    core = _show(guest, "clinicbox-core.service", "ActiveState", "NRestarts", "ExecMainStartTimestampMonotonic")
    assert core["ActiveState"] != "active" and core["NRestarts"] == "0", core
    assert core["ExecMainStartTimestampMonotonic"] == "0", core
