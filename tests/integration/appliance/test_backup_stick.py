"""A backup leaves the box on a USB stick and comes back on a fresh box.

Real SQLCipher files, the real core in passphrase mode, real mounts: the
stick is a folder with the ``clinicbox-backup`` marker mounted (bind, tmpfs,
read-only) at ``<run_dir>/usb/sdb1`` in a private mount namespace
(``unshare -m``), exactly where the provisioning reader's hand-over mounts
a stick. Only udev and the USB block device are stood in for.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import SystemClock
from appliance.config import Config, load_config
from appliance.control import ControlClient
from appliance.errors import ControlError
from appliance.store import Store, sticks
from appliance.store.audit import AuditLog
from appliance.store.backup_job import read_status
from appliance.store.media import MediaVault
from appliance.store.repos import make_repos
from tests.conftest import free_port, run_cli
from tests.webui.data import add_voicemail

ROOT = Path(__file__).resolve().parents[3]
PASSPHRASE = "a long clinic passphrase"
BACKUP_PASS = "the backup passphrase of the clinic"

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare -m as root")


def _seed(where: Path) -> Path:
    web, sip = free_port(socket.SOCK_STREAM), free_port()
    result = run_cli("demo", "--seed-only", str(where), "--web-port", str(web), "--sip-port", str(sip), timeout=60)
    assert result.returncode == 0, result.stderr
    return where / "clinicbox.toml"


def _contents(cfg: Config, passphrase: str | None = None) -> dict[str, Any]:
    """What a person would find on the box: patients, appointments, calls, voicemail audio, the audit log."""
    store = Store.open(cfg.db_path, cfg.paths.key_file, passphrase=passphrase, media_dir=cfg.media_dir)
    try:
        vault = MediaVault(store)
        return {
            "patients": sorted(r[0] for r in store.query("SELECT display_name FROM patients")),
            "first": store.query_one("SELECT id, display_name FROM patients ORDER BY id LIMIT 1"),
            "appointments": store.query_one("SELECT count(*) FROM appointments")[0],  # type: ignore[index]
            "calls": store.query_one("SELECT count(*) FROM calls")[0],  # type: ignore[index]
            "voicemail": {r[0]: vault.read_bytes(r[1]) for r in store.query("SELECT id, media_file FROM voicemail")},
            "audit": [tuple(r) for r in store.query("SELECT id, actor, action FROM audit_log ORDER BY id")],
            "audit_ok": AuditLog(store).verify().ok,
        }
    finally:
        store.close()


def _in_namespace(mount: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` after ``mount`` (a shell snippet using $STICK) in a private mount namespace."""
    script = f'set -e; {mount}; set +e; "$@"; echo "rc=$?"'
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _clinicbox(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "appliance", "--config", str(config), *args]


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, Config, dict[str, Any]]:
    """The demo clinic with two voicemail messages, in passphrase mode."""
    config = _seed(tmp_path / "clinic")
    cfg = load_config(config)
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    add_voicemail(make_repos(cfg, store), SystemClock().now())
    store.close()
    before = _contents(cfg)
    assert before["patients"] and len(before["voicemail"]) == 2 and before["audit_ok"]
    result = run_cli("--config", str(config), "db", "passphrase", "set", env={"CLINICBOX_NEW_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    return config, cfg, before


def _stick_dir(cfg: Config, name: str = "sdb1") -> Path:
    stick = sticks.usb_dir(cfg) / name
    (stick / sticks.MARKER).mkdir(parents=True)
    return stick


@pytest.fixture
def core(clinic: tuple[Path, Config, dict[str, Any]]) -> Iterator[tuple[ControlClient, Path]]:
    """The real core, started in a mount namespace where the stick is mounted."""
    config, cfg, _ = clinic
    stick = _stick_dir(cfg)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CLINICBOX_PASSPHRASE", None)
    proc = subprocess.Popen(
        [
            *("unshare", "-m", "--propagation", "private", "sh", "-c"),
            'mount --bind "$1" "$1" && shift && exec "$@"',
            *("sh", str(stick), *_clinicbox(config, "run")),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = ControlClient(cfg.control_socket, timeout=60)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:] if proc.stdout else ""
            try:
                if client.status()["box"]["store_locked"]:
                    break
            except ControlError:
                pass
            assert time.monotonic() < deadline, "the core did not come up"
            time.sleep(0.2)
        yield client, stick
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _fresh_box(where: Path) -> tuple[Path, Config]:
    """A new install: its configuration, no store, no key, no media."""
    config = _seed(where)
    cfg = load_config(config)
    for path in (cfg.db_path, cfg.paths.key_file, cfg.db_path.with_name("clinicbox.db.keyid")):
        path.unlink()
    for leftover in cfg.db_path.parent.glob("clinicbox.db-*"):
        leftover.unlink()
    shutil.rmtree(cfg.media_dir, ignore_errors=True)
    return config, cfg


def test_a_stick_backup_made_by_the_core_in_passphrase_mode_restores_on_a_fresh_box(
    clinic: tuple[Path, Config, dict[str, Any]], core: tuple[ControlClient, Path], tmp_path: Path
) -> None:
    config, cfg, before = clinic
    client, stick = core
    assert client.call("store.unlock", passphrase=PASSPHRASE) == {"unlocked": True}

    # Without a backup passphrase nothing goes to the stick: it could not be restored on a new box.
    refused = run_cli("--config", str(config), "db", "backup", "--to", "usb")
    assert refused.returncode == 1 and "no backup passphrase is set" in refused.stderr
    assert list((stick / sticks.MARKER).iterdir()) == []
    for hostile in ("/etc", f"{cfg.backup_dir}/../../../etc", str(stick / ".." / "..")):
        bad = run_cli("--config", str(config), "db", "backup", "--to", hostile)
        assert bad.returncode == 1 and "refusing to write a backup to" in bad.stderr, bad.stderr
    assert not list(Path("/etc").glob("clinicbox-*"))

    made = run_cli(
        "--config", str(config), "db", "backup-passphrase", env={"CLINICBOX_NEW_BACKUP_PASSPHRASE": BACKUP_PASS}
    )
    assert made.returncode == 0, made.stderr
    started = time.monotonic()
    done = run_cli("--config", str(config), "db", "backup", "--to", "usb")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "on the USB stick" in done.stdout and "verified after writing" in done.stdout
    [tar] = (stick / sticks.MARKER).glob("clinicbox-*.tar")
    report = json.loads(tar.with_suffix(".json").read_text())
    assert report["verified"] and report["bytes"] == tar.stat().st_size
    assert report["counts"]["patients"] == len(before["patients"]) and report["media_files"] == 2
    assert report["restore_needs"] == "the backup passphrase"
    unlocked = Store.open(cfg.db_path, cfg.paths.key_file, passphrase=PASSPHRASE)
    key = unlocked.key
    unlocked.close()
    raw = tar.read_bytes()
    assert key.hex().encode() not in raw and key not in raw and before["patients"][0].encode() not in raw
    status = read_status(cfg.paths.state_dir)
    assert status.stick is not None and status.stick.ok and status.stick.where == "stick" and status.stick.verified
    doctor = json.loads(run_cli("--config", str(config), "doctor", "--json", timeout=120).stdout)
    [row] = [r for r in (doctor["checks"] if isinstance(doctor, dict) else doctor) if r["name"] == "backups"]
    assert "last backup to a USB stick at " in row["detail"] and f"({tar.name}), verified" in row["detail"]
    print(f"\nstick backup of the demo clinic: {tar.stat().st_size} bytes in {took:.2f} s (CLI through the core)")

    # A fresh box: the stick is plugged in (mounted where the reader mounts it); a wrong passphrase first.
    fresh_config, fresh = _fresh_box(tmp_path / "fresh")
    mount = f'mkdir -p "{sticks.usb_dir(fresh) / "sdb1"}"; mount --bind "{stick}" "{sticks.usb_dir(fresh) / "sdb1"}"'
    wrong = _in_namespace(
        mount, *_clinicbox(fresh_config, "db", "restore", "usb"), env={"CLINICBOX_BACKUP_PASSPHRASE": "not it at all"}
    )
    assert "rc=1" in wrong.stdout and "wrong backup passphrase" in wrong.stderr, wrong.stderr
    assert not fresh.db_path.exists() and not fresh.paths.key_file.exists()
    started = time.monotonic()
    restored = _in_namespace(
        mount, *_clinicbox(fresh_config, "db", "restore", "usb"), env={"CLINICBOX_BACKUP_PASSPHRASE": BACKUP_PASS}
    )
    took = time.monotonic() - started
    assert "rc=0" in restored.stdout, restored.stderr
    on_fresh = sticks.usb_dir(fresh) / "sdb1" / sticks.MARKER / tar.name
    assert f"restored the backup of {report['created_at']} from {on_fresh}" in restored.stdout
    print(f"restore on a fresh box: {took:.2f} s (CLI, scrypt unwrap included)")
    after = _contents(fresh)
    assert after == before | {"audit": after["audit"]}
    assert after["audit"][: len(before["audit"])] == before["audit"] and after["audit_ok"]

    # The box starts with them: the web UI shows the patients and plays the voicemail.
    from tests.unit.webui.conftest import login_as
    from webui import create_app

    app = create_app(load_config(fresh_config, use_secrets=False), fresh_config, start_live=False)
    app.config["TESTING"] = True
    client_ui = app.test_client()
    login_as(client_ui, app, "manager")
    first_id, first_name = before["first"]
    assert first_name in client_ui.get(f"/patients/{first_id}").get_data(as_text=True)
    vm_id, audio = next(iter(before["voicemail"].items()))
    assert client_ui.get(f"/voicemail/{vm_id}/audio").get_data() == audio
    from tests.unit.webui.conftest import rt

    rt(app).store.close()

    # The same from a download: a backup on the SD card, saved by a manager's browser, on another fresh box.
    sd = run_cli("--config", str(config), "db", "backup", "--to", str(cfg.backup_dir))
    assert sd.returncode == 0 and "on the SD card" in sd.stdout, sd.stderr
    downloaded = tmp_path / "Downloads" / "clinic-backup.tar"
    downloaded.parent.mkdir()
    shutil.copyfile(sd.stdout.split()[2], downloaded)
    other_config, other = _fresh_box(tmp_path / "other")
    again = run_cli(
        "--config",
        str(other_config),
        "db",
        "restore",
        str(downloaded),
        env={"CLINICBOX_BACKUP_PASSPHRASE": BACKUP_PASS},
    )
    assert again.returncode == 0, again.stderr
    assert _contents(other)["patients"] == before["patients"]
    started_box = json.loads(run_cli("--config", str(other_config), "doctor", "--json", timeout=120).stdout)
    [store_row] = [
        r for r in (started_box["checks"] if isinstance(started_box, dict) else started_box) if r["name"] == "store"
    ]
    assert store_row["status"] == "OK" and f"({len(before['patients'])} patients)" in store_row["detail"]


def test_a_full_or_read_only_stick_leaves_no_backup_and_the_doctor_names_it(tmp_path: Path) -> None:
    config = _seed(tmp_path / "clinic")
    cfg = load_config(config)
    ok = run_cli(
        "--config", str(config), "db", "backup-passphrase", env={"CLINICBOX_NEW_BACKUP_PASSPHRASE": BACKUP_PASS}
    )
    assert ok.returncode == 0, ok.stderr
    stick = sticks.usb_dir(cfg) / "sdb1"
    stick.mkdir(parents=True)

    full = _in_namespace(
        f'mount -t tmpfs -o size=200k tmpfs "{stick}"; mkdir "{stick}/{sticks.MARKER}"',
        "sh",
        "-c",
        f'"$0" "$@"; rc=$?; ls -A "{stick}/{sticks.MARKER}"; exit $rc',
        *_clinicbox(config, "db", "backup", "--to", "usb"),
    )
    assert "rc=1" in full.stdout, full.stdout + full.stderr
    assert "the backup to the USB stick failed: the USB stick is full" in full.stderr
    assert "no backup file was kept" in full.stderr
    assert full.stdout.strip() == "rc=1"  # nothing left on the stick: no .tar, no .part, no report
    status = read_status(cfg.paths.state_dir)
    assert status.stick is not None and status.stick.cause == "stick-full" and status.stick_ok is None

    (stick / sticks.MARKER).mkdir()
    read_only = _in_namespace(
        f'mount --bind "{stick}" "{stick}"; mount -o remount,bind,ro "{stick}"',
        *_clinicbox(config, "db", "backup", "--to", "usb"),
    )
    assert "rc=1" in read_only.stdout
    assert "the USB stick is read-only" in read_only.stderr, read_only.stderr
    assert list((stick / sticks.MARKER).iterdir()) == []
    doctor = json.loads(run_cli("--config", str(config), "doctor", "--json", timeout=120).stdout)
    [row] = [r for r in (doctor["checks"] if isinstance(doctor, dict) else doctor) if r["name"] == "backups"]
    assert row["status"] == "WARN"
    assert "the last backup to the USB stick failed at" in row["detail"] and "read-only" in row["detail"]
    assert "write-protect switch" in row["fix"]


FAKE_SYSTEMD_MOUNT = """#!/bin/sh
# Stands in for systemd-mount (PID 1 mounts the stick in the box's namespace):
# the same mount, in this test's namespace.
for arg in "$@"; do
  case "$arg" in
    --type=*) type="${arg#--type=}" ;;
    --options=*) options="${arg#--options=}" ;;
    --*) ;;
    *) if [ -z "$device" ]; then device="$arg"; else target="$arg"; fi ;;
  esac
done
mkdir -p "$target" && exec mount -t "$type" -o "$options" "$device" "$target"
"""


@pytest.mark.skipif(shutil.which("losetup") is None or shutil.which("mkfs.ext4") is None, reason="needs loop devices")
def test_a_real_ext4_stick_is_recognised_by_the_reader_and_takes_the_backup(tmp_path: Path) -> None:
    """A block device with an ext4 filesystem and a clinicbox-backup folder: the
    reader (its real mount, blkid) hands it over, the backup goes onto it and restores."""
    config = _seed(tmp_path / "clinic")
    with config.open("a") as fh:
        fh.write(f'\n[provisioning]\nmount_dir = "{tmp_path / "provision-mounts"}"\n')
    cfg = load_config(config)
    before = _contents(cfg)
    ok = run_cli(
        "--config", str(config), "db", "backup-passphrase", env={"CLINICBOX_NEW_BACKUP_PASSPHRASE": BACKUP_PASS}
    )
    assert ok.returncode == 0, ok.stderr
    content = tmp_path / "stick-content"
    (content / sticks.MARKER).mkdir(parents=True)
    image = tmp_path / "stick.img"
    subprocess.run(["truncate", "-s", "32M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-d", str(content), str(image)], check=True)
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    (fakebin / "systemd-mount").write_text(FAKE_SYSTEMD_MOUNT)
    (fakebin / "systemd-mount").chmod(0o755)
    out = tmp_path / "copied"
    out.mkdir()
    target = sticks.usb_dir(cfg) / "loop"
    script = (
        f'set -e; LOOP=$(losetup -f --show "{image}"); trap \'losetup -d "$LOOP"\' EXIT; '
        f'PATH="{fakebin}:$PATH" "$0" -m appliance --config "{config}" provision apply "$LOOP"; '
        f'"$0" -m appliance --config "{config}" db backup --to usb; '
        f'cp "$(dirname "$(readlink -f "{sticks.usb_dir(cfg)}"/loop*/{sticks.MARKER})")"/{sticks.MARKER}/* "{out}/"; '
        f'grep " {sticks.usb_dir(cfg)}/" /proc/self/mountinfo'
    )
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, sys.executable],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a USB backup stick: mounted for backups at" in done.stdout
    assert "on the USB stick" in done.stdout and "verified after writing" in done.stdout
    mounted = done.stdout.strip().splitlines()[-1].split()
    assert mounted[4].startswith(str(target)) and "nosuid" in mounted[5] and "nodev" in mounted[5]
    assert "noexec" in mounted[5] and "rw" in mounted[5].split(",")
    [tar] = out.glob("clinicbox-*.tar")
    assert json.loads(tar.with_suffix(".json").read_text())["verified"]
    fresh_config, fresh = _fresh_box(tmp_path / "fresh")
    again = run_cli(
        "--config", str(fresh_config), "db", "restore", str(out), env={"CLINICBOX_BACKUP_PASSPHRASE": BACKUP_PASS}
    )
    assert again.returncode == 0, again.stderr
    assert _contents(fresh)["patients"] == before["patients"]
