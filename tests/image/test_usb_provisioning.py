"""Provisioning from a USB stick under the booted image: the technician's signed bundle on
a FAT stick (a raw disk image with an MBR and one FAT16 partition, made by
``qemu-img convert`` from a folder) is plugged into the running box as a USB
mass-storage device (QEMU's usb-storage on the xHCI bus, hot-plugged through QMP).
The image's udev rule starts ``clinicbox-provision@sda1.service``, which applies it:
the configuration changes and the report is written back to the stick. A stick
whose bundle was changed after signing is refused, with its report, and the
configuration stays as it was.

Run by ``make image-test``; one first boot and two sticks, about 6 minutes under TCG.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.image.guest import SLOWDOWN, Guest
from tests.image.test_boot import _figure, _show

# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

CONFIG = "--config /etc/clinicbox/clinicbox.toml"
BUNDLE = """[bundle]
format = 1
description = "Boot test: the clinic's name"
only_serial = ""
config_mode = "merge"

[config.clinic]
name = "{name}"
"""


def _installer_key(image: Path) -> Path:
    """The private half of the installer key the image trusts (``make image`` keeps it beside the image)."""
    for keys in (image.resolve().parent.parent / "test-keys", image.parent / "test-keys"):
        if (keys / "installer.key").exists():
            return keys / "installer.key"
    pytest.fail(f"no test-keys/installer.key beside {image}: the image's installer key is needed to sign a bundle")


def _stick(work: Path, name: str, key: Path, *, tamper: bool = False) -> Path:
    """A raw stick image holding a signed bundle that names the clinic ``name``."""
    slug = name.lower().replace(" ", "-")  # QEMU's monitor splits its arguments at spaces
    folder = work / f"{slug}-files"
    bundle = folder / "clinicbox-provision"
    bundle.mkdir(parents=True)
    (bundle / "provision.toml").write_text(BUNDLE.format(name=name))
    subprocess.run(
        [sys.executable, "-m", "appliance", "provision", "sign", str(folder), "--key", str(key)],
        check=True,
        capture_output=True,
    )
    if tamper:  # changed after signing: the signature no longer covers it
        (bundle / "provision.toml").write_text(BUNDLE.format(name=name + " (changed)"))
    image = work / f"{slug}.raw"
    subprocess.run(["qemu-img", "convert", "-f", "vvfat", "-O", "raw", f"fat:16:{folder}", str(image)], check=True)
    return image


def _clinic_name(box: Guest) -> str:
    script = "import tomllib; print(tomllib.load(open('/etc/clinicbox/clinicbox.toml', 'rb')).get('clinic', {}).get('name', ''))"
    return box.ssh(f'python3 -c "{script}"').stdout.strip()


def _apply(box: Guest, stick: Path, name: str) -> tuple[dict[str, str], dict[str, Any], float]:
    """Plug the stick in, wait for its provisioning run to end, unplug it; the unit's
    state, the report the run wrote to the stick, and the seconds from plug-in to the end."""
    unit = "clinicbox-provision@sda1.service"
    props = ("ActiveState", "Result", "ExecMainStartTimestampMonotonic")
    box.ssh(f"systemctl reset-failed {unit}", check=False)
    ran_before = _show(box, unit, *props)["ExecMainStartTimestampMonotonic"]
    plugged = time.monotonic()
    box.plug_usb_disk(stick, name)
    state: dict[str, str] = {}
    until = time.monotonic() + 120 * SLOWDOWN
    while time.monotonic() < until:
        state = _show(box, unit, *props)
        if state["ExecMainStartTimestampMonotonic"] != ran_before and state["ActiveState"] in ("inactive", "failed"):
            break
        time.sleep(1)
    else:
        pytest.fail(f"no provisioning run ended within {120 * SLOWDOWN} s of plugging the stick in: {state}")
    took = time.monotonic() - plugged
    # The report, read back from the stick as the technician's laptop would (read-only).
    box.ssh("mkdir -p /mnt/stick && mount -o ro /dev/sda1 /mnt/stick")
    try:
        names = box.ssh("ls /mnt/stick").stdout.split()
        reports = [n for n in names if n.startswith("clinicbox-report-") and n.endswith(".json")]
        assert len(reports) == 1, (names, box.ssh(f"journalctl -b -u {unit} --no-pager", check=False).stdout)
        report: dict[str, Any] = json.loads(box.read(f"/mnt/stick/{reports[0]}"))
    finally:
        box.ssh("umount /mnt/stick", check=False)
        box.unplug_usb_disk(name)
        box.ssh("udevadm settle; for i in $(seq 30); do [ -e /dev/sda ] || exit 0; sleep 1; done; exit 1")
    return state, report, took


def test_a_signed_bundle_on_a_usb_stick_is_applied_and_a_tampered_one_refused(guest: Guest, tmp_path: Path) -> None:
    key = _installer_key(guest.image)
    guest.start()
    guest.wait_ssh(timeout=240 * SLOWDOWN)
    guest.wait_active("clinicbox-core.service", timeout=180 * SLOWDOWN)
    before = _clinic_name(guest)
    assert before != "Riverside Test Clinic"

    state, report, took = _apply(guest, _stick(tmp_path, "Riverside Test Clinic", key), "stick1")
    assert state["Result"] == "success", (state, report)
    assert report["result"] == "applied", report
    assert _clinic_name(guest) == "Riverside Test Clinic"
    _figure("usb_stick_plugged_to_bundle_applied_s", took)
    # The services that read the configuration were restarted and came back.
    guest.wait_active("clinicbox-core.service", timeout=120 * SLOWDOWN)
    guest.wait_active("clinicbox-web.service", timeout=60 * SLOWDOWN)

    state, report, _ = _apply(guest, _stick(tmp_path, "Hostile Clinic", key, tamper=True), "stick2")
    assert report["result"] != "applied", report
    assert "provision.toml" in json.dumps(report), report
    assert _clinic_name(guest) == "Riverside Test Clinic"
