"""Installer keys and the bundle signature: Ed25519 over a manifest of SHA-256 digests.

``provision.sig`` is a small JSON document::

    {"format": "clinicbox-provision-sig", "version": 1,
     "key_id": "3f2a9c0d51e4b7a8",
     "files": {"provision.toml": {"size": 812, "sha256": "..."}, ...},
     "signature": "<base64 Ed25519 signature>"}

The signature covers :func:`canonical_manifest`, a deterministic text of
every file's name, size and digest, so the JSON's formatting does not
matter and nothing outside the manifest can be smuggled in. A bundle is
trusted only if the signing key is one of the installer keys baked into
the image (``provisioning.keys_dir``) or added on the box
(``provisioning.local_keys_dir``; a file there shadows a baked-in key of
the same name, and an empty file revokes it).

Example:
    >>> private = Ed25519PrivateKey.generate()
    >>> files = {"provision.toml": FileEntry(3, "ab" * 32)}
    >>> raw = json.dumps(sign_manifest(files, private)).encode()
    >>> verify_signature(raw, {key_id(private.public_key()): ("tech.pub", private.public_key())})[1]
    'tech.pub'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.errors import ProvisioningError

SIG_FORMAT = "clinicbox-provision-sig"
MANIFEST_HEADER = b"clinicbox-provision-manifest v1\n"
MAX_SIG_BYTES = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

TrustedKeys = dict[str, tuple[str, Ed25519PublicKey]]


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of an installer key, printed by keygen and in reports."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(b"clinicbox installer key\0" + raw).hexdigest()[:16]


def canonical_manifest(files: dict[str, FileEntry]) -> bytes:
    """The exact bytes that are signed: one ``sha256 size name`` line per file, sorted."""
    lines = [MANIFEST_HEADER]
    for name in sorted(files):
        entry = files[name]
        if "\n" in name:
            raise ProvisioningError(f"file name {name!r} contains a line break; rename it")
        lines.append(f"{entry.sha256} {entry.size} {name}\n".encode())
    return b"".join(lines)


def sign_manifest(files: dict[str, FileEntry], private: Ed25519PrivateKey) -> dict[str, Any]:
    signature = private.sign(canonical_manifest(files))
    return {
        "format": SIG_FORMAT,
        "version": 1,
        "key_id": key_id(private.public_key()),
        "files": {name: {"size": e.size, "sha256": e.sha256} for name, e in sorted(files.items())},
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def parse_signature(raw: bytes) -> tuple[dict[str, FileEntry], str, bytes]:
    """Parse ``provision.sig`` into (files, key id, signature).

    Raises:
        ProvisioningError: the file is not a ClinicBox signature.
    """
    if len(raw) > MAX_SIG_BYTES:
        raise ProvisioningError("provision.sig is larger than 1 MB; it is not a ClinicBox signature")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProvisioningError(f"provision.sig is not readable JSON ({exc}); sign the bundle again") from exc
    if not isinstance(doc, dict) or doc.get("format") != SIG_FORMAT or doc.get("version") != 1:
        raise ProvisioningError("provision.sig is not a ClinicBox bundle signature (format/version)")
    files_doc = doc.get("files")
    if not isinstance(files_doc, dict) or not files_doc:
        raise ProvisioningError("provision.sig lists no files")
    files: dict[str, FileEntry] = {}
    for name, entry in files_doc.items():
        if not isinstance(entry, dict):
            raise ProvisioningError(f"provision.sig: entry {name!r} is malformed")
        size, digest = entry.get("size"), entry.get("sha256")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ProvisioningError(f"provision.sig: entry {name!r} has no valid size")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise ProvisioningError(f"provision.sig: entry {name!r} has no valid SHA-256")
        files[str(name)] = FileEntry(size, digest)
    kid = doc.get("key_id")
    if not isinstance(kid, str) or not kid:
        raise ProvisioningError("provision.sig does not name the key that signed it")
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProvisioningError("provision.sig: the signature is not valid base64") from exc
    return files, kid, signature


def verify_signature(raw: bytes, trusted: TrustedKeys) -> tuple[dict[str, FileEntry], str]:
    """Check ``provision.sig``; returns the signed manifest and the name of the key.

    Raises:
        ProvisioningError: malformed, unknown key, or a signature that does not verify.
    """
    files, kid, signature = parse_signature(raw)
    if kid not in trusted:
        known = ", ".join(sorted(trusted)) or "none installed"
        raise ProvisioningError(
            f"the bundle is signed by key {kid}, which this box does not trust (trusted keys: {known}); "
            "sign it with an installer key whose .pub is in the image or in /etc/clinicbox/installer-keys"
        )
    name, public = trusted[kid]
    try:
        public.verify(signature, canonical_manifest(files))
    except InvalidSignature:
        raise ProvisioningError(
            f"the signature does not match the bundle's manifest (key {kid}, {name}): it was signed "
            "wrongly or the manifest was edited; sign the bundle again"
        ) from None
    return files, name


# -- key files -------------------------------------------------------------------------
def generate_keypair(out: Path) -> tuple[Path, Path, str]:
    """Write ``out`` (private key, PEM, 0600) and ``out.pub``; returns (private, public, key id).

    Raises:
        ProvisioningError: either file already exists (a key is never overwritten).
    """
    out = Path(out)
    pub = out.with_name(out.name + ".pub")
    for path in (out, pub):
        if path.exists():
            raise ProvisioningError(f"{path} already exists; choose another --out or move the old key away")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return out, pub, key_id(private.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ProvisioningError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ProvisioningError(
            f"{path} is not an unencrypted PEM private key ({exc}); make one with `clinicbox provision keygen`"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ProvisioningError(f"{path} is not an Ed25519 key; make one with `clinicbox provision keygen`")
    return key


def load_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ProvisioningError(f"{source} is not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ProvisioningError(f"{source} is not an Ed25519 public key")
    return key


def load_trusted_keys(keys_dir: Path, local_dir: Path) -> TrustedKeys:
    """Every trusted installer key by key id.

    A file in ``local_dir`` replaces the one of the same name in
    ``keys_dir``; an empty file revokes it. Unreadable or malformed key
    files are skipped (and logged by the caller's report), never trusted.
    """
    by_name: dict[str, Path] = {}
    for directory in (Path(keys_dir), Path(local_dir)):
        if directory.is_dir():
            for path in sorted(directory.glob("*.pub")):
                by_name[path.name] = path
    trusted: TrustedKeys = {}
    for name, path in sorted(by_name.items()):
        try:
            if path.is_symlink() and os.readlink(path) == "/dev/null":
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if not data.strip():
            continue  # revoked
        try:
            public = load_public_key(data, str(path))
        except ProvisioningError:
            continue
        trusted[key_id(public)] = (name, public)
    return trusted
