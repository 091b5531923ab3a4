"""The modem is found by USB serial and IMEI, and found again after a USB reset
renames its port (fake sysfs tree, simulators on real ptys)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.config.modem import ModemSettings
from appliance.modem.hardware import UsbModemHardware
from appliance.modem.locate import SysfsLocator
from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator
from tests.integration.modem.conftest import Rig, modem_config, wait_until
from tests.unit.modem.sysfs_tree import add_port

IMEI_A = "866758041111111"
IMEI_B = "866758042222222"


def plug(root: Path, tty: str, target: str, *, usb: str, serial: str) -> None:
    """A ttyUSB port whose /dev node is (a link to) the simulator's pty."""
    add_port(
        root,
        tty,
        usb=usb,
        interface=2,
        vendor="2c7c",
        product="0125",
        serial=serial,
        by_id=f"usb-Quectel_EC25_{serial}-if02-port0",
    )
    node = root / "dev" / tty
    with contextlib.suppress(FileNotFoundError):
        node.unlink()
    node.symlink_to(target)


def unplug(root: Path, tty: str, serial: str) -> None:
    (root / "sys/class/tty" / tty / "device").unlink()
    (root / "dev" / tty).unlink()
    (root / f"dev/serial/by-id/usb-Quectel_EC25_{serial}-if02-port0").unlink()


class FakeUsb(UsbModemHardware):
    """The real locator on a fake tree; power_cycle re-enumerates the simulator
    under a new kernel name, as a USB reset does."""

    def __init__(self, settings: ModemSettings, root: Path, sim: PtySimulator, serial: str) -> None:
        super().__init__(settings, SysfsLocator(root / "sys", root / "dev"), sys_root=root / "sys")
        self.root, self.sim, self.serial = root, sim, serial
        self.tty = "ttyUSB2"
        self.resets = 0

    def power_cycle(self) -> None:
        generation = self.sim.generation
        self.sim.usb_reset()
        unplug(self.root, self.tty, self.serial)
        path = self.sim.wait_for_generation(generation + 1)
        self.tty = "ttyUSB5" if self.tty == "ttyUSB2" else "ttyUSB2"
        plug(self.root, self.tty, path, usb="1-1.3", serial=self.serial)
        self.resets += 1


@pytest.fixture
def sims() -> Iterator[list[PtySimulator]]:
    started: list[PtySimulator] = []
    yield started
    for sim in started:
        sim.stop()


def start_sim(sims: list[PtySimulator], imei: str) -> PtySimulator:
    sim = PtySimulator(ModemSimulator(imei=imei))
    sim.start()
    sims.append(sim)
    return sim


def test_found_again_under_a_new_name_after_a_usb_reset(
    make_rig: Callable[..., Rig], sims: list[PtySimulator], tmp_path: Path
) -> None:
    root = tmp_path / "hw"
    sim = start_sim(sims, IMEI_A)
    plug(root, "ttyUSB2", sim.path, usb="1-1.3", serial="EC25A")
    cfg = modem_config(tmp_path, simulate=False, usb_serial="EC25A", imei=IMEI_A, command_timeout_s=0.5)
    hardware = FakeUsb(cfg.modem, root, sim, "EC25A")
    rig = make_rig(cfg=cfg, sim=sim, hardware=hardware)
    assert rig.svc.status.port.endswith("usb-Quectel_EC25_EC25A-if02-port0")
    assert rig.svc.status.imei == IMEI_A
    sim.modem.hang()  # only a power cycle clears it
    rig.events.wait("modem.recovery", timeout=15, outcome="recovered")
    assert hardware.resets == 1 and hardware.tty == "ttyUSB5"
    assert Path(rig.svc.status.port).resolve() == Path(sim.path).resolve()
    assert "interface 2" in hardware.describe()
    sms_id = rig.svc.send_sms("+48601234567", "znowu działa")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")


def test_the_configured_imei_picks_the_right_modem(
    make_rig: Callable[..., Rig], sims: list[PtySimulator], tmp_path: Path
) -> None:
    root = tmp_path / "hw"
    other = start_sim(sims, IMEI_B)
    ours = start_sim(sims, IMEI_A)
    plug(root, "ttyUSB2", other.path, usb="1-1.3", serial="EC25B")  # found first in sysfs order
    plug(root, "ttyUSB6", ours.path, usb="1-1.4", serial="EC25A")
    cfg = modem_config(tmp_path, simulate=False, imei=IMEI_A)
    rig = make_rig(cfg=cfg, sim=ours, hardware=FakeUsb(cfg.modem, root, ours, "EC25A"))
    assert rig.svc.status.imei == IMEI_A
    rig.svc.send_sms("+48601234567", "x")
    wait_until(lambda: len(ours.modem.sent) == 1, what="the send on the right modem")
    assert other.modem.sent == []


def test_no_matching_modem_is_reported_absent(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "hw"
    (root / "sys/class/tty").mkdir(parents=True)
    (root / "dev").mkdir()
    cfg = modem_config(tmp_path, simulate=False, usb_serial="NOPE")
    hardware = UsbModemHardware(cfg.modem, SysfsLocator(root / "sys", root / "dev"))
    rig = make_rig(cfg=cfg, hardware=hardware, start=False)
    rig.svc.start()
    rig.events.wait("modem.status", state="absent")
    assert "plugged in" in rig.svc.status.detail
