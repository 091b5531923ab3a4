"""Headset hot-plug under the booted image: a USB sound card is plugged into the
running box (QEMU's usb-audio, a USB Audio Class device, hot-plugged on the xHCI
bus through QMP). The guest's kernel sees a real USB device, its snd-usb-audio
makes an ALSA card of it (id ``Audio``) and the image's udev rule starts
``clinicbox-station@Audio.service``, whose station is the ``[stations.headset1]``
that claims the card by ``audio_device`` (set on the data partition as a bundle
writes it, its password through the core's ``secrets.set`` as the web UI does).

QEMU's usb-audio is a speaker: it plays but cannot record, and no emulated USB
headset with a microphone exists here (QEMU 7.2 has none; a UAC1/UAC2 gadget
on the guest's dummy_hcd does not bind: no isochronous endpoints). So:

1. On the box as shipped (``simulate = false``) the station refuses the card
   as no headset: the unit fails once with exit 78, and is not restarted.
2. The microphone is the hardware this machine lacks, so the box is then
   switched to ``simulate = true`` (the station uses PJSUA2's null audio and
   says "simulated audio"); everything else is real: the uevent, the card, the
   udev rule, the unit, the station finding its card and registering with the
   core. Unplugged, it tells the core it is down and the unit stops cleanly:
   inactive, not failed, no restart. Plugged in again, it works again.

Run by ``make image-test``; one first boot, three plug-ins, about 15 minutes under TCG.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest

from tests.image.guest import SLOWDOWN, Guest
from tests.image.test_boot import _figure, _show

# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

STATION = "headset1"
PASSWORD = "hot-plug-test-5b1e0c"
# QEMU's usb-audio calls itself "QEMU USB Audio"; a clinic writes "Jabra*" the same way.
STATIONS = f"""
[stations.{STATION}]
name = "Hot-plug headset"
queues = ["front-desk"]
audio_device = "QEMU*"
"""
CLIENT = "from pathlib import Path; from appliance.control.client import ControlClient; "
CLIENT += 'c = ControlClient(Path("/run/clinicbox/control.sock")); '
STATUS = "/opt/clinicbox/bin/python -c '" + CLIENT + 'import json; print(json.dumps(c.status()["agents"]))' + "'"
SET_PASSWORD = (
    "/opt/clinicbox/bin/python -c '"
    + CLIENT
    + f'c.call("secrets.set", name="stations.{STATION}.password", value="{PASSWORD}")'
    + "'"
)
PROPS = ("ActiveState", "SubState", "Result", "NRestarts", "ExecMainStartTimestampMonotonic", "ExecMainStatus")


def _agent(box: Guest) -> dict[str, object]:
    """The station as the core's status shows it ({} while the core does not list it)."""
    agents = json.loads(box.ssh(STATUS).stdout)
    return next((a for a in agents if a["station"] == STATION), {})


def _wait(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Poll ``check()`` until it is true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"{what} not within {timeout:.0f} s")


def _plug(box: Guest) -> str:
    """Plug the USB sound card in; its station unit, once the kernel made a card of it."""
    box.plug_usb_audio("hs1")
    cards = ""
    until = time.monotonic() + 60 * SLOWDOWN
    while time.monotonic() < until:
        cards = box.ssh("cat /proc/asound/cards", check=False).stdout
        found = re.search(r"^\s*\d+\s+\[(\S+)\s*\]:\s*USB-Audio - QEMU USB Audio", cards, re.M)
        if found:
            return f"clinicbox-station@{found.group(1)}.service"
        time.sleep(1)
    raise AssertionError(f"no USB sound card in the guest within {60 * SLOWDOWN} s: {cards!r}")


def _unplug(box: Guest) -> None:
    box.unplug_usb_device("hs1")
    _wait("the card gone", lambda: "USB-Audio" not in box.ssh("cat /proc/asound/cards").stdout, 30 * SLOWDOWN)


def _restart_core(box: Guest) -> None:
    """Restart the core so it reads the configuration; systemctl waits for its READY=1."""
    box.ssh("systemctl restart clinicbox-core.service", timeout=180 * SLOWDOWN)
    box.wait_active("clinicbox-core.service", timeout=60 * SLOWDOWN)


def _journal(box: Guest, unit: str) -> str:
    return box.ssh(f"journalctl -b -u {unit} --no-pager -o cat", check=False).stdout


def _stays(box: Guest, unit: str, state: dict[str, str]) -> None:
    """No restart loop: 10 s later the unit is where it was, never started again."""
    time.sleep(10)
    later = _show(box, unit, *PROPS)
    assert later["ActiveState"] == state["ActiveState"], (state, later)
    assert later["ExecMainStartTimestampMonotonic"] == state["ExecMainStartTimestampMonotonic"], (state, later)
    assert later["NRestarts"] == "0", later


def _station_up(box: Guest, round_: int) -> str:
    plugged = time.monotonic()
    unit = _plug(box)
    _wait(f"{unit} active", lambda: _show(box, unit, *PROPS)["ActiveState"] == "active", 60 * SLOWDOWN)
    _wait(f"{STATION} reachable at the core", lambda: _agent(box).get("reachable") is True, 90 * SLOWDOWN)
    _figure(f"headset_plugged_to_station_up_s_{round_}", time.monotonic() - plugged)
    assert _agent(box)["state"] == "available"  # logged in: calls to front-desk ring it
    return unit


def _station_down(box: Guest, unit: str, round_: int) -> None:
    unplugged = time.monotonic()
    box.unplug_usb_device("hs1")
    _wait(
        f"{unit} stopped",
        lambda: _show(box, unit, *PROPS)["ActiveState"] in ("inactive", "failed"),
        60 * SLOWDOWN,
    )
    _figure(f"headset_unplugged_to_station_stopped_s_{round_}", time.monotonic() - unplugged)
    state = _show(box, unit, *PROPS)
    assert state["ActiveState"] == "inactive" and state["Result"] == "success", (state, _journal(box, unit))
    assert state["ExecMainStatus"] == "0", state
    # The core heard the station's last "down" at once (no waiting for missed heartbeats).
    assert _agent(box).get("reachable") is False
    assert "sound card Audio is gone (headset unplugged); stopping" in _journal(box, unit)
    _stays(box, unit, state)
    assert box.ssh("systemctl list-units --failed --plain --no-legend").stdout.strip() == ""


def test_a_usb_headset_starts_its_station_and_unplugging_stops_it_cleanly(guest: Guest) -> None:
    guest.start()
    guest.wait_ssh(timeout=240 * SLOWDOWN)
    guest.wait_active("clinicbox-core.service", timeout=180 * SLOWDOWN)
    # No sound card yet (a box without one has not even loaded ALSA: no /proc/asound).
    assert "USB-Audio" not in guest.ssh("cat /proc/asound/cards 2>&1", check=False).stdout
    # The clinic's headset station, on the data partition as a bundle writes it; the core reads it at start.
    guest.ssh(f"cat >> /etc/clinicbox/clinicbox.toml <<'EOF'\n{STATIONS}EOF")
    _restart_core(guest)
    # Its password as the web UI sets it (Settings > Secrets): the core copies it to the station's own file.
    guest.ssh(SET_PASSWORD)
    secret = f"/etc/clinicbox/secrets/station-secrets/{STATION}.password"
    _wait("the station's password file", lambda: guest.ssh(f"test -s {secret}", check=False).returncode == 0, 60)
    assert _agent(guest).get("reachable") is not True  # no headset yet

    # 1. The box as shipped: a USB speaker is no headset. One failed start, the reason, no restart loop.
    unit = _plug(guest)
    _wait(f"{unit} ended", lambda: _show(guest, unit, *PROPS)["ActiveState"] == "failed", 120 * SLOWDOWN)
    refused = _show(guest, unit, *PROPS)
    assert refused["ExecMainStatus"] == "78", (refused, _journal(guest, unit))
    assert "no sound device on card 'Audio' can both record and play" in _journal(guest, unit)
    _stays(guest, unit, refused)
    assert _agent(guest).get("reachable") is not True
    _unplug(guest)
    guest.ssh(f"systemctl reset-failed {unit}")

    # 2. No microphone here: the station's audio is simulated from now on, the rest is real.
    guest.ssh("sed -i 's/^simulate = false$/simulate = true/' /etc/clinicbox/clinicbox.toml")
    assert guest.ssh("grep -c '^simulate = true$' /etc/clinicbox/clinicbox.toml").stdout.strip() == "1"
    _restart_core(guest)

    assert _station_up(guest, 1) == unit
    # Straight to the core behind the SIP edge (the edge on 5060 refuses the heartbeats' MESSAGE).
    assert re.search(r"core at sip:127\.0\.0\.1:\d+ accepts this station's heartbeats", _journal(guest, unit))
    _station_down(guest, unit, 1)
    assert _station_up(guest, 2) == unit  # plugged in again: it works again
    _station_down(guest, unit, 2)
    core = guest.ssh("journalctl -b -u clinicbox-core --no-pager -o cat").stdout
    assert core.count(f"station {STATION} is up (heartbeat)") == 2, core
    assert core.count(f"station {STATION} is unavailable (the station signed off)") == 2, core
