"""A good bundle applies: config merged and validated, secrets, prompts, TLS, restarts, report."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tomllib
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.config import load_config
from appliance.events import EventBus
from appliance.provision_status import read_status
from provisioning.plan import CORE, EDGE, GSM, NGINX, STATIONS, WEB
from provisioning.run import check_bundle, provision, provision_device
from provisioning.services import RecordingServiceManager
from provisioning.signing import load_trusted_keys
from tests.unit.provisioning.kit import Box, good_files, sign, wav_bytes, write_bundle

SERIAL = "10000000abcdef01"


def stick_with(box: Box, tmp_path: Path, files: dict[str, bytes] | None = None) -> Path:
    stick = tmp_path / "stick"
    sign(write_bundle(stick, files or good_files()), box.key)
    return stick


def test_good_bundle_applies_and_restarts_only_what_changed(box: Box, tmp_path: Path) -> None:
    stick = stick_with(box, tmp_path)
    services = RecordingServiceManager()
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(lambda e: seen.append(e.kind), "provisioning.")
    outcome = provision(
        stick, box.config, services=services, serial=SERIAL, report_dir=stick, announce=lambda k, d: bus.emit(k, **d)
    )
    assert outcome.ok, outcome.reason

    cfg = load_config(box.config)
    assert cfg.clinic.name == "Przychodnia Nowa"  # merged from the bundle
    assert cfg.clinic.timezone == "Europe/Warsaw" and "desk1" in cfg.stations  # kept from the box's file
    assert cfg.web.port == 18123
    assert cfg.trunk.password == "s3cret-trunk"  # from the secrets file
    secrets = box.root / "box" / "secrets.toml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert "password" not in box.config.read_text()  # the secret stays out of clinicbox.toml
    assert (box.root / "box" / "clinicbox.toml.before-provision").read_text().count('name = "Test Clinic"') == 1

    assert (cfg.custom_prompts_dir / "pl" / "greeting.wav").read_bytes() == good_files()["prompts/pl/greeting.wav"]
    assert (cfg.custom_prompts_dir / "en" / "greeting.wav").exists()
    assert (box.root / "tls" / "web.crt").exists()
    assert stat.S_IMODE((box.root / "tls" / "web.key").stat().st_mode) == 0o600

    # clinic (core+web) and web changed, plus prompts and TLS; stations and GSM read neither
    assert services.calls == [("restart", (CORE,)), ("restart", (WEB,)), ("reload-or-restart", (NGINX,))]
    assert seen == ["provisioning.started", "provisioning.succeeded"]
    status = read_status(box.state)
    assert status is not None and status.state == "succeeded" and status.bundle == "Test clinic setup"

    report = json.loads(outcome.report_path.read_text())  # type: ignore[union-attr]
    assert report["result"] == "applied"
    assert report["box"]["serial"] == SERIAL
    assert report["box"]["versions"]["clinicbox"]
    store_check = next(c for c in report["doctor"]["checks"] if c["name"] == "store")
    assert store_check["status"] == "FAIL" and "no database" in store_check["detail"]  # this box has none yet
    assert report["doctor"]["ok"] is False
    assert "sections changed: clinic, web" in report["changes"][0]
    assert "s3cret-trunk" not in outcome.report_path.read_text()  # type: ignore[union-attr]


def test_tls_files_are_the_bundles(box: Box, tmp_path: Path) -> None:
    files = good_files()
    stick = stick_with(box, tmp_path, files)
    assert provision(stick, box.config, services=RecordingServiceManager(), serial=SERIAL).ok
    assert (box.root / "tls" / "web.crt").read_bytes() == files["tls/web.crt"]
    assert (box.root / "tls" / "web.key").read_bytes() == files["tls/web.key"]


def test_a_unit_that_fails_to_start_puts_the_previous_files_back(box: Box, tmp_path: Path) -> None:
    before = box.config.read_text()
    services = RecordingServiceManager(fail_on={CORE})
    outcome = provision(stick_with(box, tmp_path), box.config, services=services, serial=SERIAL)
    assert not outcome.ok
    assert "clinicbox-core.service failed to start" in outcome.reason and "put back" in outcome.reason
    assert box.config.read_text() == before
    assert not (box.root / "tls" / "web.crt").exists()
    assert not (load_config(box.config).custom_prompts_dir / "pl" / "greeting.wav").exists()
    assert services.calls[0] == ("restart", (CORE,))
    assert services.calls.count(("restart", (CORE,))) == 2  # tried on the new files, then on the old


def test_replace_mode_writes_the_whole_file(box: Box, tmp_path: Path) -> None:
    toml = (
        b'[bundle]\nformat = 1\nconfig_mode = "replace"\n'
        b'[config]\n[config.paths]\nstate_dir = "state"\nkey_file = "store.key"\n'
        b'secrets_file = "secrets.toml"\nrun_dir = "run"\n'
        b'[config.clinic]\nname = "Nowa"\ncountry = "PL"\ntimezone = "Europe/Warsaw"\n'
        b'languages = ["pl"]\ndefault_language = "pl"\n'
        b'[config.provisioning]\nservice_manager = "none"\n'
    )
    outcome = provision(
        stick_with(box, tmp_path, {"provision.toml": toml}),
        box.config,
        services=RecordingServiceManager(),
        serial=SERIAL,
    )
    assert outcome.ok, outcome.reason
    data = tomllib.loads(box.config.read_text())
    assert "stations" not in data and data["clinic"]["name"] == "Nowa"


def test_a_fragment_shadowed_by_the_web_ui_settings_is_warned_about(box: Box, tmp_path: Path) -> None:
    box.state.mkdir(parents=True)
    (box.state / "settings.toml").write_text('[clinic]\nname = "Set in the web UI"\n')
    outcome = provision(stick_with(box, tmp_path), box.config, services=RecordingServiceManager(), serial=SERIAL)
    assert outcome.ok
    assert any("clinic.name is also set in the web UI's settings" in w for w in outcome.warnings)


def test_only_changed_sections_restart_stations_and_gsm(box: Box, tmp_path: Path) -> None:
    toml = b"[bundle]\nformat = 1\n[config.sip]\nport = 5070\n"
    services = RecordingServiceManager()
    outcome = provision(
        stick_with(box, tmp_path, {"provision.toml": toml}), box.config, services=services, serial=SERIAL
    )
    assert outcome.ok, outcome.reason
    # the SIP edge listens on sip.port: it renders its script again when it restarts
    assert services.calls == [
        ("restart", (CORE,)),
        ("try-restart", (EDGE,)),
        ("try-restart", (STATIONS,)),
        ("try-restart", (GSM,)),
    ]


def test_a_bundle_that_changes_nothing_restarts_nothing(box: Box, tmp_path: Path) -> None:
    toml = b'[bundle]\nformat = 1\n[config.clinic]\nname = "Test Clinic"\n'
    services = RecordingServiceManager()
    outcome = provision(
        stick_with(box, tmp_path, {"provision.toml": toml}), box.config, services=services, serial=SERIAL
    )
    assert outcome.ok and services.calls == []
    assert "none (same values)" in outcome.changes[0]


class FakeMounter:
    """Mounts a folder standing in for the stick's filesystem; records the calls."""

    def __init__(self, image: Path) -> None:
        self.image = image
        self.calls: list[str] = []
        self.files_at_unmount: list[str] = []

    def mount(self, device: Path, target: Path) -> None:
        self.calls.append(f"mount {device}")
        # A real mount point is a plain folder (the box refuses to write its report through a symlink).
        shutil.copytree(self.image, target, symlinks=True, dirs_exist_ok=True)

    def remount_rw(self, target: Path) -> None:
        self.calls.append("remount-rw")

    def unmount(self, target: Path) -> None:
        self.calls.append("unmount")
        self.files_at_unmount = sorted(p.name for p in target.iterdir())
        shutil.rmtree(target)


def test_a_block_device_is_mounted_applied_reported_and_unmounted(box: Box, tmp_path: Path) -> None:
    image = stick_with(box, tmp_path)
    mounter = FakeMounter(image)
    outcome = provision_device(
        Path("/dev/sdz1"), box.config, mounter, services=RecordingServiceManager(), serial=SERIAL
    )
    assert outcome.ok, outcome.reason
    assert mounter.calls == ["mount /dev/sdz1", "remount-rw", "unmount"]
    assert any(name.startswith(f"clinicbox-report-{SERIAL}-") for name in mounter.files_at_unmount)


def test_check_on_a_laptop_reports_the_plan_without_a_box(box: Box, tmp_path: Path) -> None:
    stick = stick_with(box, tmp_path)
    trusted = load_trusted_keys(box.root / "image-keys", box.root / "nowhere")
    plan = check_bundle(stick, trusted, box.config)
    assert plan.signed_by == "installer.pub"
    assert any("recorded prompts" in c for c in plan.changes)
    assert not (box.root / "tls" / "web.crt").exists()


def test_cli_keygen_sign_check_apply(box: Box, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "laptop" / "tech.key"
    assert main(["provision", "keygen", "--out", str(key)]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert main(["provision", "keygen", "--out", str(key)]) == 1  # never overwrites a key
    (box.root / "local-keys" / "tech.key.pub").write_bytes(Path(f"{key}.pub").read_bytes())

    stick = tmp_path / "stick"
    write_bundle(stick, good_files())
    assert main(["provision", "sign", str(stick), "--key", str(key)]) == 0
    assert main(["provision", "check", str(stick), "--keys", str(key.parent), "--against", str(box.config)]) == 0
    out = capsys.readouterr().out
    assert "bundle OK: Test clinic setup, signed by tech.key.pub" in out
    assert "service: restart clinicbox-core.service" in out

    (stick / "clinicbox-provision" / "prompts" / "en" / "greeting.wav").write_bytes(wav_bytes(seconds=0.3))
    assert main(["provision", "check", str(stick), "--keys", str(key.parent), "--against", str(box.config)]) == 1
    assert "changed after the bundle was signed" in capsys.readouterr().err
    assert main(["provision", "sign", str(stick), "--key", str(key)]) == 0

    assert main(["--config", str(box.config), "provision", "apply", str(stick)]) == 0
    out = capsys.readouterr().out
    assert "bundle applied" in out and "report:" in out
    assert load_config(box.config).clinic.name == "Przychodnia Nowa"


def test_cli_sign_refuses_a_bundle_the_box_would_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "tech.key"
    main(["provision", "keygen", "--out", str(key)])
    stick = tmp_path / "stick"
    write_bundle(stick, {"provision.toml": b"[bundle]\nformat = 1\n", "prompts/en/hello.wav": wav_bytes(channels=2)})
    (stick / "clinicbox-provision" / "provision.toml").write_text(
        '[bundle]\nformat = 1\n[files]\nprompts_dir = "prompts"\n'
    )
    assert main(["provision", "sign", str(stick), "--key", str(key)]) == 1
    assert "prompts/en/hello.wav has 2 channels" in capsys.readouterr().err
    assert not (stick / "clinicbox-provision" / "provision.sig").exists()


def test_check_without_the_box_file_warns_what_a_fresh_box_would_refuse(
    box: Box, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stick = stick_with(box, tmp_path)  # Polish prompts: the defaults offer only English
    keys = str(box.root / "image-keys")
    assert main(["provision", "check", str(stick), "--keys", keys]) == 0
    assert "a fresh box would refuse it" in capsys.readouterr().out


def test_cli_apply_on_a_stick_without_a_bundle_does_nothing(box: Box, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    assert main(["--config", str(box.config), "provision", "apply", str(tmp_path / "photos")]) == 0
    assert read_status(box.state) is None


def test_files_for_the_services_belong_to_the_service_user(box: Box, tmp_path: Path) -> None:
    """Provisioning runs as root; what the core (user clinicbox) must read is handed to it."""
    assert os.geteuid() == 0, "the provisioning unit runs as root; so must this test"
    box.state.mkdir(parents=True)
    os.chown(box.state, 4242, 4242)  # the state folder's owner stands for the service user
    outcome = provision(stick_with(box, tmp_path), box.config, services=RecordingServiceManager(), serial=SERIAL)
    assert outcome.ok, outcome.reason
    cfg = load_config(box.config)
    prompt = (cfg.custom_prompts_dir / "pl" / "greeting.wav").stat()
    assert (prompt.st_uid, prompt.st_gid) == (4242, 4242)
    for folder in (cfg.custom_prompts_dir / "pl", cfg.custom_prompts_dir, cfg.custom_prompts_dir.parent):
        assert folder.stat().st_uid == 4242, folder  # the web UI may add recordings later
    assert (box.root / "box" / "secrets.toml").stat().st_uid == 4242
    assert (box.root / "tls" / "web.key").stat().st_uid == 0  # nginx's master reads it as root


def test_box_serial_comes_from_cpuinfo_then_machine_id(tmp_path: Path) -> None:
    from provisioning.report import box_serial

    cpuinfo = tmp_path / "cpuinfo"
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("3d1219c7c4c5404aaa1f6d2a48adfda4\n")
    cpuinfo.write_text("processor\t: 0\nHardware\t: BCM2835\nSerial\t\t: 10000000abcdef01\nModel\t: Raspberry Pi 4\n")
    assert box_serial(cpuinfo, machine_id) == "10000000abcdef01"
    cpuinfo.write_text("processor\t: 0\nSerial\t\t: 0000000000000000\n")  # virtual machines
    assert box_serial(cpuinfo, machine_id) == "3d1219c7c4c5404aaa1f6d2a48adfda4"
    assert box_serial(tmp_path / "none", tmp_path / "none") == "unknown"
