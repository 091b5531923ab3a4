"""Building test boxes and bundles: an installer key, a clinic config in a folder, signed sticks."""

from __future__ import annotations

import hashlib
import io
import json
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from provisioning.bundle import BUNDLE_DIR, SIG_NAME, manifest_of
from provisioning.signing import generate_keypair, load_private_key, sign_manifest

BOX_TOML = """\
config_version = 1
simulate = true

[clinic]
name = "Test Clinic"
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

[store]
min_free_mb = 1

[provisioning]
keys_dir = "{root}/image-keys"
local_keys_dir = "{root}/local-keys"
tls_dir = "{root}/tls"
mount_dir = "{root}/mnt"
service_manager = "none"

[stations.desk1]
name = "Desk 1"
queues = ["front-desk"]
"""

GOOD_TOML = """\
[bundle]
format = 1
description = "Test clinic setup"

[config.clinic]
name = "Przychodnia Nowa"

[config.web]
port = 18123

[secrets.trunk]
password = "s3cret-trunk"

[files]
prompts_dir = "prompts"
tls_certificate = "tls/web.crt"
tls_key = "tls/web.key"
"""


def wav_bytes(rate: int = 8000, channels: int = 1, width: int = 2, seconds: float = 0.2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * int(rate * seconds) * channels * (width // 2 or 1))
    return buf.getvalue()


def tls_pair(cn: str = "clinicbox.local", days: int = 365) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class Box:
    root: Path
    config: Path
    key: Ed25519PrivateKey
    key_path: Path

    @property
    def state(self) -> Path:
        return self.root / "box" / "state"

    def snapshot(self) -> dict[str, str]:
        """Digest of every file of the box except the provisioning status and staging."""
        out = {}
        for path in sorted((self.root / "box").rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and "/provisioning/" not in f"/{rel}/":
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((self.root / "tls").rglob("*")):
            if path.is_file():
                out[path.relative_to(self.root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out


def make_box(root: Path) -> Box:
    (root / "box").mkdir(parents=True)
    (root / "image-keys").mkdir()
    (root / "local-keys").mkdir()
    (root / "tls").mkdir()
    config = root / "box" / "clinicbox.toml"
    config.write_text(BOX_TOML.format(root=root), encoding="utf-8")
    private, pub, _kid = generate_keypair(root / "technician" / "installer")
    pub.rename(root / "image-keys" / "installer.pub")
    return Box(root, config, load_private_key(private), private)


def write_bundle(stick: Path, files: dict[str, bytes]) -> Path:
    bundle = stick / BUNDLE_DIR
    for name, data in files.items():
        path = bundle / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return bundle


def sign(bundle: Path, key: Ed25519PrivateKey) -> None:
    """Sign whatever is there, without the content check `provision sign` does."""
    doc = sign_manifest(manifest_of(bundle), key)
    (bundle / SIG_NAME).write_text(json.dumps(doc, indent=1), encoding="utf-8")


def good_files() -> dict[str, bytes]:
    cert, key = tls_pair()
    return {
        "provision.toml": GOOD_TOML.encode(),
        "prompts/pl/greeting.wav": wav_bytes(8000),
        "prompts/en/greeting.wav": wav_bytes(16000),
        "tls/web.crt": cert,
        "tls/web.key": key,
    }
