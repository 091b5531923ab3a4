"""`clinicbox modem status|send-sms|simulate` and the doctor's modem checks, as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from appliance.config import Config, load_config
from appliance.doctor import Context, Result
from appliance.doctor import modem as checks
from appliance.modem.status import ModemStatus, write_status
from appliance.store import Store
from tests.conftest import run_cli
from tests.integration.modem.conftest import wait_until
from tests.unit.modem.sysfs_tree import add_port

CONFIG = """
simulate = true
[clinic]
country = "PL"
timezone = "Europe/Warsaw"
languages = ["pl", "en"]
default_language = "pl"
[paths]
state_dir = "state"
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"
[clock]
assume_synced = true
[modem]
enabled = true
{extra}
"""


def write_config(folder: Path, extra: str = "", simulate: bool = True) -> Path:
    path = folder / "clinicbox.toml"
    text = CONFIG.format(extra=extra)
    if not simulate:
        text = text.replace("simulate = true", "simulate = false")
    path.write_text(text)
    return path


def clinicbox(config: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str(config), *args, timeout=timeout)


def test_status_talks_to_the_simulated_modem(tmp_path: Path) -> None:
    result = clinicbox(write_config(tmp_path), "modem", "status")
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout and "Quectel EC25" in result.stdout and "registered Orange PL" in result.stdout
    as_json = json.loads(clinicbox(write_config(tmp_path), "modem", "status", "--json").stdout)
    assert as_json["imei"] == "866758041234567" and as_json["sim"] == "ready"


def test_status_reports_the_core_owning_the_modem(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    write_status(tmp_path / "run", ModemStatus(state="ready", registered=True, operator="Play", signal=4, sim="ready"))
    result = clinicbox(config, "modem", "status")  # the status file names this (live) test process
    assert result.returncode == 0
    assert "owned by the running ClinicBox core" in result.stdout and "registered Play" in result.stdout


def test_status_when_the_port_is_held_by_another_process(tmp_path: Path, sim_link: Path) -> None:
    config = write_config(tmp_path, f'port = "{sim_link}"', simulate=False)
    with serial.serial_for_url(str(sim_link), exclusive=True):
        result = clinicbox(config, "modem", "status")
    assert result.returncode == 0
    assert "in use by another process" in result.stdout


def test_send_sms_directly_when_the_core_is_not_running(tmp_path: Path) -> None:
    result = clinicbox(write_config(tmp_path), "modem", "send-sms", "+48601234567", "Test z serwisu: zażółć 👍")
    assert result.returncode == 0, result.stderr
    assert "sent to +48******567: 1 part(s), ucs2" in result.stdout
    bad = clinicbox(write_config(tmp_path), "modem", "send-sms", "12ab", "x")
    assert bad.returncode == 1 and "not a phone number" in bad.stderr


def test_send_sms_is_queued_through_the_running_core(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = Store.create(tmp_path / "state" / "clinicbox.db", tmp_path / "store.key")
    write_status(tmp_path / "run", ModemStatus(state="ready"))
    result = clinicbox(config, "modem", "send-sms", "601234567", "Wizyta jutro")
    assert result.returncode == 0, result.stderr
    assert "queued as SMS 1" in result.stdout
    row = store.query_one("SELECT number, body, status FROM sms_messages WHERE id = 1")
    assert tuple(row) == ("+48601234567", "Wizyta jutro", "queued")
    store.close()


def doctor(cfg: Config) -> dict[str, Result]:
    ctx = Context(cfg)
    out: list[Result] = []
    for check in (checks.modem_present, checks.modem_sim, checks.modem_network, checks.modem_recovery):
        found = check(ctx)
        out.extend(found if isinstance(found, list) else [found])
    return {r.name: r for r in out}


def test_doctor_modem_checks_against_the_simulator(tmp_path: Path) -> None:
    results = doctor(load_config(write_config(tmp_path)))
    for name in ("modem", "modem SIM", "modem network", "modem signal", "modem recovery"):
        assert results[name].status == "OK", results[name]
    assert "probed directly" in results["modem"].detail


def test_doctor_when_the_modem_is_disabled() -> None:
    results = doctor(load_config(overrides={"modem": {"enabled": False}}, use_secrets=False))
    assert {r.status for r in results.values()} == {"OK"}
    assert "disabled" in results["modem"].detail


def test_doctor_when_no_modem_is_plugged_in(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, 'usb_serial = "NOPE"', simulate=False))
    results = doctor(cfg)
    assert results["modem"].status == "FAIL" and "/dev/serial/by-id" in results["modem"].fix
    assert results["modem SIM"].status == "WARN"


@pytest.fixture
def sim_link(tmp_path: Path) -> Iterator[Path]:
    """`clinicbox modem simulate --link PATH --control SOCK` running as its own process."""
    link, control = tmp_path / "modem.tty", tmp_path / "modem.ctl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "modem", "simulate", "--link", str(link), "--control", str(control)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: link.exists() and control.exists(), 10, "the simulator to start")
        yield link
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert not link.exists()


def control(sock_path: Path, request: dict[str, object]) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock_path))
        s.sendall((json.dumps(request) + "\n").encode())
        return json.loads(s.makefile().readline())  # type: ignore[no-any-return]


def test_simulate_runs_on_a_pty_and_takes_control_commands(sim_link: Path) -> None:
    ctl = sim_link.with_name("modem.ctl")
    with serial.serial_for_url(str(sim_link), timeout=1) as port:
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(b"ATE0\r")
        assert b"OK" in port.read_until(b"OK\r\n")
        port.write(b"AT+CNMI=2,1,0,1,0\r")
        port.read_until(b"OK\r\n")
        assert control(ctl, {"cmd": "sms", "from": "+48601234567", "text": "Dzień dobry"}) == {"ok": True, "parts": 1}
        assert b'+CMTI: "SM",0' in port.read_until(b"\r\n\r\n")
        assert control(ctl, {"cmd": "call", "from": "+48601234567"}) == {"ok": True}
        assert b"RING" in port.read_until(b"RING\r\n")
    assert control(ctl, {"cmd": "sent"}) == {"ok": True, "sent": []}
    assert control(ctl, {"cmd": "fly"})["ok"] is False
    assert os.stat(ctl).st_mode & 0o077 == 0


def _usb_tree(root: Path) -> Path:
    add_port(root, "ttyUSB2", usb="1-1.3", interface=2, vendor="2c7c", product="0125", serial="EC25A1B2")
    add_port(root, "ttyACM0", usb="1-1.2", interface=0, vendor="0403", product="6001", serial="FTDI1")
    (root / "sys/bus/usb/devices").mkdir(parents=True)
    for usb in ("1-1.3", "1-1.2"):
        (root / "sys/bus/usb/devices" / usb).symlink_to(root / "sys/devices/pci0000:00/usb1" / usb)
    (root / "sys/bus/usb/drivers/usb").mkdir(parents=True)
    return root / "sys"


def test_usb_reset_serves_the_cores_request(tmp_path: Path) -> None:
    """What clinicbox-usb-reset.service runs when the core asks for a modem reset."""
    config = write_config(tmp_path)
    sys_root = _usb_tree(tmp_path)
    (tmp_path / "run").mkdir()
    nonce = "ab" * 16
    (tmp_path / "run/usb-reset.request").write_text(json.dumps({"port": "1-1.3", "nonce": nonce}))
    result = clinicbox(config, "modem", "usb-reset", "--serve-request", "--sys-root", str(sys_root))
    assert result.returncode == 0, result.stderr
    assert "reset: Quectel 2c7c:0125 on USB 1-1.3 unbound and bound again" in result.stdout
    assert (sys_root / "bus/usb/drivers/usb/bind").read_text() == "1-1.3"
    assert json.loads((tmp_path / "run/usb-reset.result").read_text()) == {
        "nonce": nonce,
        "ok": True,
        "detail": "Quectel 2c7c:0125 on USB 1-1.3 unbound and bound again",
    }
    assert not (tmp_path / "run/usb-reset.request").exists()
    (tmp_path / "run/usb-reset.request").write_text(json.dumps({"port": "1-1.2", "nonce": nonce}))
    refused = clinicbox(config, "modem", "usb-reset", "--serve-request", "--sys-root", str(sys_root))
    assert refused.returncode == 1 and "refused: USB device 1-1.2 (vendor 0403) is not a known modem" in refused.stdout


def test_usb_reset_of_a_named_port_refuses_a_non_modem(tmp_path: Path) -> None:
    sys_root = _usb_tree(tmp_path)
    result = clinicbox(write_config(tmp_path), "modem", "usb-reset", "--port", "1-1.2", "--sys-root", str(sys_root))
    assert result.returncode != 0 and "not a known modem" in result.stderr
    assert not (sys_root / "bus/usb/drivers/usb/unbind").exists()
