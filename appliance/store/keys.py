"""The store key: 32 random bytes in a 0600 file, optionally passphrase-wrapped.

File format (JSON, one object):

* raw: ``{"format": "clinicbox-key", "version": 1, "kind": "raw", "key": "<hex>"}``
* wrapped: ``{"format": "clinicbox-key", "version": 1, "kind": "wrapped",
  "kdf": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<hex>",
  "nonce": "<hex>", "ciphertext": "<hex>"}`` where the ciphertext is the
  raw key sealed with AES-256-GCM under scrypt(passphrase).

The raw key is handed to SQLCipher as ``x'...'`` so opening the database
costs no PBKDF2 rounds; the passphrase KDF runs once, at unlock.

Every write is atomic (temp file, fsync, rename) and a new key file never
replaces an existing one unless asked (:func:`write_key_file` with
``replace=True``), so a mistake cannot orphan an existing database.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import KeyFileError, WrongPassphraseError
from appliance.fsutil import fsync_dir

KEY_BYTES = 32
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 10


@dataclass(frozen=True)
class KeyFile:
    """A key file as read from disk; :attr:`key` is ``None`` while wrapped."""

    path: Path
    kind: str  # "raw" or "wrapped"
    key: bytes | None
    wrapped: dict[str, object] | None

    @property
    def locked(self) -> bool:
        return self.key is None


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def key_id(key: bytes) -> str:
    """A short fingerprint of a key, safe to print and to store beside the DB."""
    return hashlib.sha256(b"clinicbox key id\0" + key).hexdigest()[:16]


def sqlcipher_pragma(key: bytes) -> str:
    """The ``PRAGMA key`` statement for a raw 256-bit key."""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"store key must be {KEY_BYTES} bytes, got {len(key)}")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def wrap(key: bytes, passphrase: str) -> dict[str, object]:
    if len(passphrase) < MIN_PASSPHRASE:
        raise WrongPassphraseError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(kek).encrypt(nonce, key, b"clinicbox-key v1")
    return {
        "format": "clinicbox-key",
        "version": 1,
        "kind": "wrapped",
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": sealed.hex(),
        "key_id": key_id(key),
    }


def unwrap(wrapped: dict[str, object], passphrase: str) -> bytes:
    try:
        kek = _derive(
            passphrase,
            bytes.fromhex(str(wrapped["salt"])),
            int(str(wrapped["n"])),
            int(str(wrapped["r"])),
            int(str(wrapped["p"])),
        )
        return AESGCM(kek).decrypt(
            bytes.fromhex(str(wrapped["nonce"])),
            bytes.fromhex(str(wrapped["ciphertext"])),
            b"clinicbox-key v1",
        )
    except InvalidTag as exc:
        raise WrongPassphraseError("wrong passphrase; the store stays locked") from exc
    except (KeyError, ValueError) as exc:
        raise KeyFileError(f"the wrapped key file is damaged ({exc}); restore it from your backup") from exc


def resolve_key_path(configured: Path) -> Path:
    """systemd's LoadCredential hands the service the key under $CREDENTIALS_DIRECTORY."""
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds:
        candidate = Path(creds) / "store.key"
        if candidate.exists():
            return candidate
    return configured


def read_key_file(path: Path, check_mode: bool = True) -> KeyFile:
    """Read and check a key file.

    Raises:
        KeyFileError: missing, unreadable, unsafe permissions or malformed.
    """
    try:
        st = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"key file {path} is missing. Without it the database cannot be opened: "
            "restore the key file from the technician's backup (never create a new one "
            "for an existing database)"
        ) from exc
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from exc
    if check_mode and stat.S_IMODE(st.st_mode) & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {path}"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != "clinicbox-key" or data.get("version") != 1:
            raise ValueError("not a ClinicBox key file")
        if data["kind"] == "raw":
            key = bytes.fromhex(data["key"])
            if len(key) != KEY_BYTES:
                raise ValueError("wrong key length")
            return KeyFile(path, "raw", key, None)
        if data["kind"] == "wrapped":
            return KeyFile(path, "wrapped", None, data)
        raise ValueError(f"unknown kind {data['kind']!r}")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"key file {path} is malformed ({exc}); restore it from your backup") from exc


def write_key_file(path: Path, key: bytes, passphrase: str | None = None, replace: bool = False) -> KeyFile:
    """Write a key file atomically with mode 0600.

    Args:
        replace: allow replacing an existing key file (rekey, passphrase change).

    Raises:
        KeyFileError: the file exists and ``replace`` is false.
    """
    if passphrase:
        payload: dict[str, object] = wrap(key, passphrase)
    else:
        payload = {
            "format": "clinicbox-key",
            "version": 1,
            "kind": "raw",
            "key": key.hex(),
            "key_id": key_id(key),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not replace:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps(payload, indent=1).encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return KeyFile(
        path,
        "wrapped" if passphrase else "raw",
        None if passphrase else key,
        payload if passphrase else None,
    )
