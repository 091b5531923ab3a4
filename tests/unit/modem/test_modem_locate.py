"""Finding the modem's AT port in sysfs by USB identity (a fake sysfs tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ModemError
from appliance.modem.hardware import UsbModemHardware
from appliance.modem.locate import SysfsLocator
from tests.unit.modem.sysfs_tree import add_port


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for iface in range(4):
        add_port(
            tmp_path,
            f"ttyUSB{iface}",
            usb="1-1.3",
            interface=iface,
            vendor="2c7c",
            product="0125",
            serial="EC25A1B2",
            by_id=f"usb-Quectel_EC25_EC25A1B2-if{iface:02d}-port0",
        )
    add_port(tmp_path, "ttyUSB4", usb="1-1.4", interface=2, vendor="1e0e", product="9001", serial="SIM76X")
    add_port(tmp_path, "ttyACM0", usb="1-1.2", interface=0, vendor="0403", product="6001", serial="FTDI1")
    (tmp_path / "sys/class/tty/ttyS0").mkdir(parents=True)  # a built-in UART: no USB device
    return tmp_path


def test_candidates_carry_usb_identity_and_stable_names(tree: Path) -> None:
    loc = SysfsLocator(tree / "sys", tree / "dev")
    found = loc.candidates()
    assert [c.tty for c in found][:5] == ["ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3", "ttyUSB4"]
    assert found[-1].tty == "ttyACM0"  # not a modem vendor: tried last
    ec25 = found[2]
    assert (ec25.usb_device, ec25.usb_serial, ec25.vendor, ec25.interface, ec25.maker) == (
        "1-1.3",
        "EC25A1B2",
        "2c7c",
        2,
        "Quectel",
    )
    assert ec25.device.endswith("dev/serial/by-id/usb-Quectel_EC25_EC25A1B2-if02-port0")
    assert found[4].device == str(tree / "dev/ttyUSB4")  # no by-id link: the kernel name


def test_matching_by_serial_and_interface(tree: Path) -> None:
    loc = SysfsLocator(tree / "sys", tree / "dev")
    assert [c.tty for c in loc.matching("EC25A1B2", 2)] == ["ttyUSB2"]
    assert [c.tty for c in loc.matching("", 2)] == ["ttyUSB2", "ttyUSB4"]
    assert len(loc.matching("EC25A1B2", -1)) == 4
    assert loc.matching("NOPE", -1) == []


def test_reenumerated_port_is_found_under_its_new_name(tree: Path) -> None:
    loc = SysfsLocator(tree / "sys", tree / "dev")
    for iface in range(4):
        (tree / f"sys/class/tty/ttyUSB{iface}/device").unlink()
        (tree / f"dev/serial/by-id/usb-Quectel_EC25_EC25A1B2-if{iface:02d}-port0").unlink()
    add_port(
        tree,
        "ttyUSB7",
        usb="1-1.3",
        interface=2,
        vendor="2c7c",
        product="0125",
        serial="EC25A1B2",
        by_id="usb-Quectel_EC25_EC25A1B2-if02-port0",
    )
    assert [c.tty for c in loc.matching("EC25A1B2", 2)] == ["ttyUSB7"]


def settings(**modem: object) -> object:
    return load_config(overrides={"modem": {"enabled": True, **modem}}, use_secrets=False).modem


def test_usb_hardware_ports_and_reset(tree: Path) -> None:
    driver = tree / "sys/bus/usb/drivers/usb"
    driver.mkdir(parents=True)
    hw = UsbModemHardware(
        settings(usb_serial="EC25A1B2"),
        SysfsLocator(tree / "sys", tree / "dev"),  # type: ignore[arg-type]
        sys_root=tree / "sys",
        rebind_delay_s=0,
    )
    ports = hw.ports()
    assert len(ports) == 1 and ports[0].endswith("-if02-port0")
    hw.remember(ports[0])
    hw.power_cycle()
    assert (driver / "unbind").read_text() == "1-1.3" and (driver / "bind").read_text() == "1-1.3"
    assert "Quectel 2c7c:0125 on USB 1-1.3 interface 2" in hw.describe()


def test_usb_reset_refused_when_disabled_or_impossible(tree: Path) -> None:
    hw = UsbModemHardware(settings(usb_reset=False), SysfsLocator(tree / "sys", tree / "dev"), sys_root=tree / "sys")  # type: ignore[arg-type]
    with pytest.raises(ModemError, match="disabled"):
        hw.power_cycle()
    hw = UsbModemHardware(settings(), SysfsLocator(tree / "sys", tree / "dev"), sys_root=tree / "sys", rebind_delay_s=0)  # type: ignore[arg-type]
    hw.ports()
    with pytest.raises(ModemError, match="USB reset of 1-1.3 failed"):
        hw.power_cycle()  # no bus/usb/drivers/usb in this tree: as without root


def test_fixed_port_is_used_as_given(tree: Path) -> None:
    hw = UsbModemHardware(settings(port="loop://"), SysfsLocator(tree / "sys", tree / "dev"))  # type: ignore[arg-type]
    assert hw.ports() == ["loop://"]
    assert hw.describe() == "port loop://"
