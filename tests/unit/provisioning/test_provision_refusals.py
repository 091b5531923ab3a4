"""Every bundle the box must refuse is refused with a clear reason, and nothing on the box changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.provision_status import read_status
from provisioning.bundle import SIG_NAME, manifest_of
from provisioning.run import NoBundleError, provision
from provisioning.services import RecordingServiceManager
from provisioning.signing import FileEntry, sign_manifest
from tests.unit.provisioning.kit import Box, good_files, sign, tls_pair, wav_bytes, write_bundle


def refused(box: Box, stick: Path, *, serial: str = "10000000abcdef01") -> str:
    """Run the bundle on the box; assert it was refused and nothing changed; return the reason."""
    before = box.snapshot()
    services = RecordingServiceManager()
    outcome = provision(stick, box.config, services=services, serial=serial, report_dir=stick)
    assert not outcome.ok
    assert box.snapshot() == before, "the box changed although the bundle was refused"
    assert services.calls == []
    status = read_status(box.state)
    assert status is not None and status.state == "failed" and status.reason == outcome.reason
    report = json.loads(outcome.report_path.read_text())  # type: ignore[union-attr]
    assert report["result"] == "refused" and report["reason"] == outcome.reason
    return outcome.reason


def bundle(box: Box, tmp_path: Path, files: dict[str, bytes] | None = None, *, signed: bool = True) -> Path:
    stick = tmp_path / "stick"
    root = write_bundle(stick, files if files is not None else good_files())
    if signed:
        sign(root, box.key)
    return stick


def test_unsigned(box: Box, tmp_path: Path) -> None:
    reason = refused(box, bundle(box, tmp_path, signed=False))
    assert "unsigned" in reason and "provision sign" in reason


def test_signed_by_an_unknown_key(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path, signed=False)
    sign(stick / "clinicbox-provision", Ed25519PrivateKey.generate())
    reason = refused(box, stick)
    assert "does not trust" in reason


def test_wrongly_signed_with_a_trusted_key_id(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    sig = stick / "clinicbox-provision" / SIG_NAME
    doc = json.loads(sig.read_text())
    forged = sign_manifest(manifest_of(stick / "clinicbox-provision"), Ed25519PrivateKey.generate())
    doc["signature"] = forged["signature"]  # claims the trusted key, signed by another
    sig.write_text(json.dumps(doc))
    assert "does not match" in refused(box, stick)


def test_manifest_edited_after_signing(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    root = stick / "clinicbox-provision"
    (root / "provision.toml").write_text('[bundle]\nformat = 1\n[config.clinic]\nname = "Evil"\n')
    sig = root / SIG_NAME
    doc = json.loads(sig.read_text())
    doc["files"] = {n: {"size": e.size, "sha256": e.sha256} for n, e in manifest_of(root).items()}
    sig.write_text(json.dumps(doc))
    assert "does not match" in refused(box, stick)


def test_file_changed_after_signing(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    toml = stick / "clinicbox-provision" / "provision.toml"
    toml.write_bytes(toml.read_bytes().replace(b"Przychodnia Nowa", b"Przychodnia Zla!"))  # same size
    reason = refused(box, stick)
    assert "provision.toml was changed after the bundle was signed" in reason


def test_a_symlink_in_the_bundle(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    root = stick / "clinicbox-provision"
    target = root / "prompts" / "en" / "greeting.wav"
    target.unlink()
    os.symlink("/etc/passwd", target)
    assert "greeting.wav is a symbolic link" in refused(box, stick)


def test_a_symlinked_bundle_folder(box: Box, tmp_path: Path) -> None:
    real = write_bundle(tmp_path / "elsewhere", good_files())
    sign(real, box.key)
    stick = tmp_path / "stick"
    stick.mkdir()
    os.symlink(real, stick / "clinicbox-provision")
    before = box.snapshot()
    with pytest.raises(NoBundleError):
        provision(stick, box.config, services=RecordingServiceManager())
    assert box.snapshot() == before


def test_dotdot_in_a_signed_name(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    root = stick / "clinicbox-provision"
    files = manifest_of(root)
    files["../outside.toml"] = FileEntry(3, "ab" * 32)
    (root / SIG_NAME).write_text(json.dumps(sign_manifest(files, box.key)))
    reason = refused(box, stick)
    assert "'..'" in reason and "outside its folder" in reason


def test_dotdot_in_provision_toml(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = b'[bundle]\nformat = 1\n[files]\npatients_csv = "../../etc/shadow"\n'
    reason = refused(box, bundle(box, tmp_path, files))
    assert "'..'" in reason


def test_oversized_file(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["notes.txt"] = b"x" * (1024 * 1024 + 1)
    reason = refused(box, bundle(box, tmp_path, files))
    assert "notes.txt" in reason and "at most 1.0 MB" in reason


def test_bundle_over_the_total_limit(box: Box, tmp_path: Path) -> None:
    box.config.write_text(
        box.config.read_text().replace('service_manager = "none"', 'service_manager = "none"\nmax_bundle_mb = 1')
    )
    files = good_files()
    files["patients.csv"] = b"name\n" + b"A" * (1024 * 1024)
    reason = refused(box, bundle(box, tmp_path, files))
    assert "at most 1 MB is allowed" in reason


def test_malformed_toml(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = b"[bundle\nformat = 1\n"
    assert "provision.toml is not valid TOML" in refused(box, bundle(box, tmp_path, files))


def test_provision_toml_schema_problems_are_all_named(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = b'[bundle]\nformat = 2\nconfig_mode = "wipe"\n[files]\nprompt_dir = "x"\n'
    reason = refused(box, bundle(box, tmp_path, files))
    assert "bundle.format: 2 is above the maximum 1" in reason
    assert "bundle.config_mode" in reason
    assert 'files.prompt_dir: unknown key; did you mean "prompts_dir"?' in reason


def test_config_that_fails_validation(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = (
        b'[bundle]\nformat = 1\n[config.clinic]\ntimezone = "Europe/Warsw"\n[config.web]\nport = 70000\n'
    )
    reason = refused(box, bundle(box, tmp_path, files))
    assert "not valid for this box" in reason
    assert "clinic.timezone: unknown time zone 'Europe/Warsw'" in reason
    assert "web.port: 70000 is above the maximum 65535" in reason


def test_config_that_fails_a_cross_check(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = (
        b"[bundle]\nformat = 1\n[config.panel]\namber_pin = 17\nanswer_next_pins = { desk9 = 5 }\n"
    )
    reason = refused(box, bundle(box, tmp_path, files))
    assert "panel.amber_pin: GPIO 17 is already used by panel.green_pin" in reason
    assert 'panel.answer_next_pins.desk9: unknown station "desk9"; known: desk1' in reason


def test_secrets_that_are_not_secret(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = b'[bundle]\nformat = 1\n[secrets.clinic]\nname = "x"\n'
    assert "is not a secret" in refused(box, bundle(box, tmp_path, files))


@pytest.mark.parametrize(
    ("wav", "expected"),
    [
        (wav_bytes(channels=2), "2 channels"),
        (wav_bytes(rate=44100), "44100 Hz"),
        (wav_bytes(width=1), "8-bit"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk", "not a PCM WAV file"),
    ],
)
def test_prompts_pjsua2_cannot_play(box: Box, tmp_path: Path, wav: bytes, expected: str) -> None:
    files = good_files()
    files["prompts/en/greeting.wav"] = wav
    reason = refused(box, bundle(box, tmp_path, files))
    assert "prompts/en/greeting.wav" in reason and expected in reason


def test_prompt_for_a_language_the_clinic_does_not_offer(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["prompts/ko/greeting.wav"] = wav_bytes()
    assert "does not offer 'ko'" in refused(box, bundle(box, tmp_path, files))


def test_tls_certificate_and_key_that_do_not_match(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["tls/web.key"] = tls_pair()[1]
    assert "do not belong together" in refused(box, bundle(box, tmp_path, files))


def test_a_file_not_covered_by_the_signature(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    (stick / "clinicbox-provision" / "extra.toml").write_text("x = 1\n")
    assert "extra.toml is in the bundle but not covered by its signature" in refused(box, stick)


def test_a_fifo_in_the_bundle(box: Box, tmp_path: Path) -> None:
    stick = bundle(box, tmp_path)
    os.mkfifo(stick / "clinicbox-provision" / "pipe")
    assert "pipe is a device, FIFO or socket" in refused(box, stick)


def test_a_bundle_for_another_box(box: Box, tmp_path: Path) -> None:
    files = good_files()
    files["provision.toml"] = b'[bundle]\nformat = 1\nonly_serial = "10000000deadbeef"\n'
    assert "serial 10000000deadbeef" in refused(box, bundle(box, tmp_path, files))


def test_a_revoked_key_is_not_trusted(box: Box, tmp_path: Path) -> None:
    (box.root / "local-keys" / "installer.pub").write_text("")
    assert "does not trust" in refused(box, bundle(box, tmp_path))


def test_a_stick_without_a_bundle_is_not_a_provisioning_stick(box: Box, tmp_path: Path) -> None:
    (tmp_path / "holiday-photos").mkdir()
    with pytest.raises(NoBundleError):
        provision(tmp_path / "holiday-photos", box.config, services=RecordingServiceManager())
    assert read_status(box.state) is None
