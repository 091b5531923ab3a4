"""The shipped systemd units, udev rules, sysusers/tmpfiles and nginx site are valid.

``systemd-analyze verify`` runs against a scratch root holding systemd's
own units, our units and an executable stand-in for /usr/bin/clinicbox, so
ExecStart= paths resolve; any warning it prints (unknown key, bad value)
fails the test, not only a non-zero exit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.provisioning.kit import tls_pair

ROOT = Path(__file__).resolve().parents[3]
SYSTEMD = ROOT / "systemd"
UNITS = sorted(p for p in SYSTEMD.iterdir() if p.suffix in (".service", ".timer", ".path"))
FIRMWARE_UNITS = sorted((ROOT / "firmware").rglob("*.service"))


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unit-root")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    (root / "usr/lib/clinicbox").mkdir(parents=True)
    for shim in ("usr/bin/clinicbox",):
        (root / shim).write_text("#!/bin/sh\nexit 0\n")
        (root / shim).chmod(0o755)
    for unit in [*UNITS, *FIRMWARE_UNITS]:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    scripts = [*(ROOT / "firmware/image/files/usr/lib/clinicbox").glob("*")]
    scripts += (ROOT / "firmware/image/test-access/usr/lib/clinicbox").glob("*")  # the boot tests' image only
    for script in scripts:
        shutil.copy(script, root / "usr/lib/clinicbox" / script.name)
    return root


def test_there_are_units_for_every_process() -> None:
    names = {p.name for p in UNITS}
    assert {
        "clinicbox-core.service",
        "clinicbox-web.service",
        "clinicbox-station@.service",
        "clinicbox-gsm.service",
        "clinicbox-provision@.service",
        "clinicbox-backup.service",
        "clinicbox-backup.timer",
        "clinicbox-usb-reset.path",
        "clinicbox-usb-reset.service",
        "clinicbox-edge.service",
    } <= names


@pytest.mark.parametrize("unit", [*UNITS, *FIRMWARE_UNITS], ids=lambda p: p.name)
def test_systemd_analyze_verify(unit_root: Path, unit: Path) -> None:
    done = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={unit_root}",
            "--man=no",
            str(unit_root / "etc/systemd/system" / unit.name),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr + done.stdout


def test_verify_catches_a_broken_unit(unit_root: Path) -> None:
    broken = unit_root / "etc/systemd/system/zz-broken.service"
    broken.write_text("[Service]\nExecStart=/usr/bin/clinicbox run\nRestart=sometimes\n")
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={unit_root}", "--man=no", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    broken.unlink()
    assert "restart specifier" in done.stderr  # the check above fails on any such warning


def _unit_lines(name: str) -> list[str]:
    return (SYSTEMD / name).read_text().splitlines()


def test_core_unit_is_notify_watchdog_hardened() -> None:
    lines = set(_unit_lines("clinicbox-core.service"))
    for expected in (
        "Type=notify",
        "Restart=always",
        "WatchdogSec=30",
        "LoadCredential=store.key:/etc/clinicbox/store.key",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "DevicePolicy=closed",
        "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml run",
    ):
        assert expected in lines, expected


def test_the_cores_gpio_library_has_a_writable_folder_under_the_read_only_system() -> None:
    """lgpio (the panel's pin factory on a Pi) makes its notification pipes in its
    working folder, which is "/" and read-only under ProtectSystem=strict: the core
    names a folder it may write. Found booting the Pi image: the core could not start."""
    lines = _unit_lines("clinicbox-core.service")
    folders = [ln.split("=", 2)[2] for ln in lines if ln.startswith("Environment=LG_WD=")]
    assert len(folders) == 1, lines
    writable = {ln.split("=", 1)[1].lstrip("-") for ln in lines if ln.startswith("ReadWritePaths=")}
    assert folders[0] in writable, (folders, writable)


def test_usb_reset_helper_is_root_but_confined() -> None:
    """The only root service: started by its path unit, no network, writes two places."""
    path = set(_unit_lines("clinicbox-usb-reset.path"))
    assert "PathExists=/run/clinicbox/usb-reset.request" in path
    assert "Unit=clinicbox-usb-reset.service" in path
    lines = set(_unit_lines("clinicbox-usb-reset.service"))
    for expected in (
        "Type=oneshot",
        "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml modem usb-reset --serve-request",
        "PrivateNetwork=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectKernelTunables=yes",
        # "-": a box without the USB driver still answers (refuses) the request instead of failing to start.
        "ReadWritePaths=-/sys/bus/usb/drivers/usb /run/clinicbox",
        "CapabilityBoundingSet=CAP_DAC_OVERRIDE",
    ):
        assert expected in lines, expected
    assert not any(line.startswith(("User=", "DynamicUser=")) for line in lines)  # sysfs bind needs uid 0


def test_service_commands() -> None:
    expect = {
        "clinicbox-web.service": "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml web",
        "clinicbox-station@.service": "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml station --card %I",
        "clinicbox-gsm.service": "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml gsm-gateway",
        "clinicbox-backup.service": (
            "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml db backup --to /var/lib/clinicbox/backups"
        ),
        "clinicbox-provision@.service": (
            "ExecStart=/usr/bin/clinicbox --config /etc/clinicbox/clinicbox.toml provision apply /dev/%I"
        ),
    }
    for name, line in expect.items():
        assert line in _unit_lines(name), name


_RULE_KEY = re.compile(r'^(ACTION|SUBSYSTEMS?|KERNEL|ATTRS?\{[^}]+\}|ENV\{[^}]+\}|TAG|GROUP|MODE)(==|!=|\+=|=)"[^"]*"$')


def test_udev_rules_parse_and_name_shipped_units() -> None:
    wanted = []
    for number, line in enumerate((SYSTEMD / "udev/90-clinicbox.rules").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        for pair in (p.strip() for p in line.split(", ")):
            assert _RULE_KEY.match(pair), f"line {number}: cannot parse {pair!r}"
        wanted += re.findall(r'SYSTEMD_WANTS\}\+="([^"]+)"', line)
    units = {p.name for p in UNITS}
    assert wanted
    for want in wanted:
        template = re.sub(r"@.*\.service$", "@.service", want)
        assert template in units, want


def test_sysusers_and_tmpfiles_make_the_users_and_folders(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(SYSTEMD / "sysusers.d/clinicbox.conf")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    passwd = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc/passwd").read_text().splitlines()}
    groups = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc/group").read_text().splitlines()}
    assert passwd["clinicbox"][6] == "/usr/sbin/nologin"
    assert "clinicbox" in groups["clinicbox-web"][3].split(",")
    assert "gpio" in groups
    subprocess.run(
        ["systemd-tmpfiles", f"--root={tmp_path}", "--create", str(SYSTEMD / "tmpfiles.d/clinicbox.conf")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    uid = int(passwd["clinicbox"][2])
    web_gid = int(groups["clinicbox-web"][2])
    run = (tmp_path / "run/clinicbox").stat()
    assert (run.st_uid, run.st_gid, run.st_mode & 0o777) == (uid, web_gid, 0o750)
    assert (tmp_path / "var/lib/clinicbox/backups").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "etc/clinicbox/tls").stat().st_mode & 0o777 == 0o700


def test_the_users_say_who_reads_which_secret(tmp_path: Path) -> None:
    """Stations run as their own user: they pass through the secrets folder to
    their own password files, cannot read the secrets file, and are not in the
    control socket's group; the core's user owns the secrets folder."""
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(SYSTEMD / "sysusers.d/clinicbox.conf")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        ["systemd-tmpfiles", f"--root={tmp_path}", "--create", str(SYSTEMD / "tmpfiles.d/clinicbox.conf")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    passwd = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc/passwd").read_text().splitlines()}
    groups = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc/group").read_text().splitlines()}
    core_uid = int(passwd["clinicbox"][2])
    station_gid = int(groups["clinicbox-station"][2])
    assert "clinicbox-station" in passwd and passwd["clinicbox-station"][2] != passwd["clinicbox"][2]
    assert "clinicbox-station" not in groups["clinicbox-web"][3].split(",")
    folder = (tmp_path / "etc/clinicbox/secrets").stat()
    assert (folder.st_uid, folder.st_gid, folder.st_mode & 0o7777) == (core_uid, station_gid, 0o710)
    own = (tmp_path / "etc/clinicbox/secrets/station-secrets").stat()
    assert (own.st_uid, own.st_gid, own.st_mode & 0o7777) == (core_uid, station_gid, 0o2750)
    units = {p.name: p.read_text() for p in UNITS}
    for name in ("clinicbox-station@.service", "clinicbox-gsm.service"):
        assert "User=clinicbox-station" in units[name] and "InaccessiblePaths=-/run/clinicbox" in units[name]
    assert "InaccessiblePaths=-/etc/clinicbox/secrets" in units["clinicbox-web.service"]
    assert "ReadWritePaths=-/etc/clinicbox/secrets" in units["clinicbox-core.service"]


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    cert, key = tls_pair()
    (tmp_path / "web.crt").write_bytes(cert)
    (tmp_path / "web.key").write_bytes(key)
    site = (SYSTEMD / "nginx/clinicbox.conf").read_text().replace("/etc/clinicbox/tls", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr
