"""The modem USB reset through the root helper: request, serve, result (a fake sysfs tree)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ModemError
from appliance.modem.hardware import UsbModemHardware
from appliance.modem.locate import SysfsLocator
from appliance.modem.usbreset import (
    REQUEST_FILE,
    RESULT_FILE,
    UsbResetError,
    parse_request,
    request_reset,
    serve_request,
)
from tests.unit.modem.sysfs_tree import add_port

NONCE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Quectel modem on 1-1.3, an FTDI adapter on 1-1.2, and the usb driver's bind files."""
    add_port(tmp_path, "ttyUSB2", usb="1-1.3", interface=2, vendor="2c7c", product="0125", serial="EC25A1B2")
    add_port(tmp_path, "ttyACM0", usb="1-1.2", interface=0, vendor="0403", product="6001", serial="FTDI1")
    devices = tmp_path / "sys/bus/usb/devices"
    devices.mkdir(parents=True)
    for usb in ("1-1.3", "1-1.2"):
        (devices / usb).symlink_to(tmp_path / "sys/devices/pci0000:00/usb1" / usb)
    driver = tmp_path / "sys/bus/usb/drivers/usb"
    driver.mkdir(parents=True)
    (tmp_path / "run").mkdir()
    return tmp_path


def written(tree: Path) -> tuple[str | None, str | None]:
    driver = tree / "sys/bus/usb/drivers/usb"
    return tuple(  # type: ignore[return-value]
        (driver / name).read_text() if (driver / name).exists() else None for name in ("unbind", "bind")
    )


@pytest.fixture
def helper(tree: Path) -> Iterator[list[object]]:
    """The root side, as the path unit runs it: serves each request as it appears."""
    served: list[object] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.01):
            if (tree / "run" / REQUEST_FILE).exists():
                served.append(serve_request(tree / "run", tree / "sys", usb_serial="EC25A1B2", delay_s=0))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield served
    stop.set()
    thread.join(2)


def test_round_trip_resets_the_modem_and_cleans_up(tree: Path, helper: list[object]) -> None:
    detail = request_reset(tree / "run", "1-1.3", timeout_s=5, poll_s=0.01)
    assert detail == "Quectel 2c7c:0125 on USB 1-1.3 unbound and bound again"
    assert written(tree) == ("1-1.3", "1-1.3")
    assert not (tree / "run" / REQUEST_FILE).exists() and not (tree / "run" / RESULT_FILE).exists()


def test_a_device_that_is_not_a_modem_is_refused(tree: Path, helper: list[object]) -> None:
    with pytest.raises(UsbResetError, match="1-1.2 .*vendor 0403.* not a known modem"):
        request_reset(tree / "run", "1-1.2", timeout_s=5, poll_s=0.01)
    assert written(tree) == (None, None)
    assert not (tree / "run" / REQUEST_FILE).exists()


def test_an_absent_port_is_refused(tree: Path, helper: list[object]) -> None:
    with pytest.raises(UsbResetError, match="no USB device 1-1.9"):
        request_reset(tree / "run", "1-1.9", timeout_s=5, poll_s=0.01)
    assert written(tree) == (None, None)


def test_another_modem_than_the_configured_one_is_refused(tree: Path) -> None:
    add_port(tree, "ttyUSB7", usb="1-1.4", interface=2, vendor="1e0e", product="9001", serial="OTHER")
    (tree / "sys/bus/usb/devices/1-1.4").symlink_to(tree / "sys/devices/pci0000:00/usb1/1-1.4")
    (tree / "run" / REQUEST_FILE).write_text(json.dumps({"port": "1-1.4", "nonce": NONCE}))
    result = serve_request(tree / "run", tree / "sys", usb_serial="EC25A1B2", delay_s=0)
    assert not result.ok and "not the configured modem" in result.detail
    assert written(tree) == (None, None)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b'{"port": "1-1.3; reboot", "nonce": "' + NONCE.encode() + b'"}', "not a USB port id"),
        (b'{"port": "../../devices/1-1.3", "nonce": "' + NONCE.encode() + b'"}', "not a USB port id"),
        (b'{"port": "1-1.3\\n", "nonce": "' + NONCE.encode() + b'"}', "not a USB port id"),
        (b'{"port": 13, "nonce": "' + NONCE.encode() + b'"}', "not a USB port id"),
        (b'{"port": "1-1.3", "nonce": "$(id)"}', "nonce"),
        (b'{"port": "1-1.3", "nonce": "' + NONCE.encode() + b'", "cmd": "x"}', "exactly"),
        (b'["1-1.3"]', "exactly"),
        (b"not json", "not ASCII JSON"),
        (b'{"port": "1-1.3\xc3\xa9"}', "not ASCII JSON"),
    ],
)
def test_bad_requests_are_refused_and_removed(tree: Path, raw: bytes, error: str) -> None:
    with pytest.raises(UsbResetError, match=error):
        parse_request(raw)
    (tree / "run" / REQUEST_FILE).write_bytes(raw)
    result = serve_request(tree / "run", tree / "sys", delay_s=0)
    assert not result.ok and error in result.detail
    assert written(tree) == (None, None)
    assert not (tree / "run" / REQUEST_FILE).exists()  # the path unit does not fire again
    answer = json.loads((tree / "run" / RESULT_FILE).read_text())
    assert answer["ok"] is False


def test_the_core_refuses_to_ask_for_a_malformed_port(tree: Path) -> None:
    with pytest.raises(UsbResetError, match="not a USB port id"):
        request_reset(tree / "run", "1-1.3/../x", timeout_s=0.1)
    assert not (tree / "run" / REQUEST_FILE).exists()


def test_a_symlinked_request_is_refused_and_its_target_untouched(tree: Path) -> None:
    target = tree / "precious"
    target.write_text(json.dumps({"port": "1-1.3", "nonce": NONCE}))
    (tree / "run" / REQUEST_FILE).symlink_to(target)
    result = serve_request(tree / "run", tree / "sys", delay_s=0)
    assert not result.ok and "symlink" in result.detail and result.nonce == ""
    assert written(tree) == (None, None)
    assert target.exists() and not (tree / "run" / REQUEST_FILE).is_symlink()


def test_a_symlinked_result_is_replaced_not_followed(tree: Path) -> None:
    target = tree / "precious"
    target.write_text("keep")
    (tree / "run" / RESULT_FILE).symlink_to(target)
    (tree / "run" / REQUEST_FILE).write_text(json.dumps({"port": "1-1.3", "nonce": NONCE}))
    assert serve_request(tree / "run", tree / "sys", delay_s=0).ok
    assert target.read_text() == "keep"
    assert json.loads((tree / "run" / RESULT_FILE).read_text())["nonce"] == NONCE


def test_an_oversized_request_is_refused(tree: Path) -> None:
    (tree / "run" / REQUEST_FILE).write_text(json.dumps({"port": "1-1.3", "nonce": NONCE}) + " " * 600)
    result = serve_request(tree / "run", tree / "sys", delay_s=0)
    assert not result.ok and "at most 512" in result.detail
    assert written(tree) == (None, None)


def test_no_helper_times_out_and_withdraws_the_request(tree: Path) -> None:
    with pytest.raises(UsbResetError, match="no answer from the USB reset helper within 0.2 s"):
        request_reset(tree / "run", "1-1.3", timeout_s=0.2, poll_s=0.01)
    assert not (tree / "run" / REQUEST_FILE).exists()


def test_a_stale_answer_to_another_request_is_ignored(tree: Path) -> None:
    (tree / "run" / RESULT_FILE).write_text(json.dumps({"nonce": NONCE, "ok": True, "detail": "old"}))
    with pytest.raises(UsbResetError, match="no answer"):
        request_reset(tree / "run", "1-1.3", timeout_s=0.2, poll_s=0.01)


def test_the_core_without_sysfs_access_goes_through_the_helper(tree: Path, helper: list[object]) -> None:
    settings = load_config(overrides={"modem": {"enabled": True}}, use_secrets=False).modem
    hardware = UsbModemHardware(
        settings,
        SysfsLocator(tree / "sys", tree / "dev"),
        sys_root=tree / "readonly-sys",  # no bind/unbind it may write: as on the appliance
        run_dir=tree / "run",
        helper_timeout_s=5,
    )
    hardware.remember(hardware.ports()[0])
    hardware.power_cycle()
    assert written(tree) == ("1-1.3", "1-1.3") and len(helper) == 1


def test_the_core_reports_a_missing_helper_as_a_modem_error(tree: Path) -> None:
    settings = load_config(overrides={"modem": {"enabled": True}}, use_secrets=False).modem
    hardware = UsbModemHardware(
        settings,
        SysfsLocator(tree / "sys", tree / "dev"),
        sys_root=tree / "readonly-sys",
        run_dir=tree / "run",
        helper_timeout_s=0.2,
    )
    hardware.ports()
    with pytest.raises(ModemError, match="clinicbox-usb-reset.path"):
        hardware.power_cycle()
