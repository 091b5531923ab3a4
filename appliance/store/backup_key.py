"""The backup passphrase: how a backup that left the box is restored on a new one.

A manager sets a *backup passphrase* (Settings › Backups, or
``clinicbox db backup-passphrase``). The process that holds the unlocked
store key (the core) seals that key with it, AES-256-GCM under
scrypt(passphrase, N=2^17), and keeps only the sealed blob, in
``<state_dir>/backup-key.json`` (0600). Every backup made afterwards
carries the blob as ``store-key.json``, so a stick or a downloaded file
is restored on a fresh box with the passphrase alone, and is useless
without it: the raw key is never on the stick, nor the passphrase on the box.

The nightly backup needs no passphrase (the blob is already sealed). A
re-key makes the blob stale: its ``key_id`` no longer matches, and backups
to a stick are refused until a manager sets the passphrase again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import KeyFileError, ValidationError, WrongPassphraseError
from appliance.store import keys as keymod

FILE_NAME = "backup-key.json"
FORMAT = "clinicbox-backup-key"
MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 1024
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
_AAD = b"clinicbox backup key v1"


def path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE_NAME


def _kek(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=512 * 1024 * 1024, dklen=32)


def passphrase_problem(passphrase: str) -> str:
    """Why ``passphrase`` cannot be a backup passphrase ("" if it can)."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"the backup passphrase must have at least {MIN_PASSPHRASE} characters"
    if len(passphrase) > MAX_PASSPHRASE:
        return f"the backup passphrase may have at most {MAX_PASSPHRASE} characters"
    if any(ord(c) < 32 for c in passphrase):
        return "the backup passphrase may not contain control characters or line breaks"
    return ""


def seal(key: bytes, passphrase: str) -> dict[str, Any]:
    """The store key sealed under ``passphrase`` (JSON-able; nothing secret in clear).

    Raises:
        ValidationError: a passphrase that is too short or too long.
    """
    problem = passphrase_problem(passphrase)
    if problem:
        raise ValidationError(problem)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_kek(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, key, _AAD)
    return {
        "format": FORMAT,
        "version": 1,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": sealed.hex(),
        "key_id": keymod.key_id(key),
    }


def open_sealed(blob: dict[str, Any], passphrase: str) -> bytes:
    """The store key inside ``blob``.

    Raises:
        WrongPassphraseError: the passphrase does not open it.
        KeyFileError: the blob is damaged.
    """
    try:
        if blob.get("format") != FORMAT:
            raise ValueError("not a sealed backup key")
        n, r, p = int(blob["n"]), int(blob["r"]), int(blob["p"])
        if n > 2**20 or r > 16 or p > 4:  # a hostile file must not make us allocate gigabytes
            raise ValueError("implausible scrypt parameters")
        kek = _kek(passphrase, bytes.fromhex(str(blob["salt"])), n, r, p)
        key = AESGCM(kek).decrypt(bytes.fromhex(str(blob["nonce"])), bytes.fromhex(str(blob["ciphertext"])), _AAD)
    except InvalidTag as exc:
        raise WrongPassphraseError("wrong backup passphrase: this backup cannot be opened with it") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise KeyFileError(f"the sealed key in the backup is damaged ({exc})") from exc
    if keymod.key_id(key) != blob.get("key_id"):
        raise KeyFileError("the sealed key in the backup does not match its key id")
    return key


def write(state_dir: Path, blob: dict[str, Any]) -> Path:
    """Keep ``blob`` as the box's sealed backup key (atomically, 0600)."""
    target = path(state_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{FILE_NAME}.")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(blob, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def read(state_dir: Path) -> dict[str, Any] | None:
    """The box's sealed backup key, or ``None`` when no passphrase was set (or the file is unreadable)."""
    try:
        blob = json.loads(path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    return blob if isinstance(blob, dict) and blob.get("format") == FORMAT else None


def state(state_dir: Path, key: bytes | None) -> str:
    """``set``, ``stale`` (set for an earlier key) or ``not-set``, for pages and the doctor."""
    blob = read(state_dir)
    if blob is None:
        return "not-set"
    if key is not None and blob.get("key_id") != keymod.key_id(key):
        return "stale"
    return "set"
