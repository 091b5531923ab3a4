"""The one-time setup code that claims a fresh box's first-run setup.

A freshly imaged box has a store but no manager, and the web UI's setup
page (``/setup``) is the only way in. Whoever opens it must prove they
stand at the box, so it asks for a code that only reaches people with
physical access:

- the core logs it at start while no manager exists (the journal, which
  the image forwards to an attached screen);
- ``clinicbox setup-code``, run as root on the box, prints a new one;
- a provisioning run writes one into its report on the USB stick.

Each of those *channels* (``console``, ``cli``, ``provisioning``) holds
at most one code; making a new one replaces that channel's previous code
only, so the core restarting after a USB run does not void the code
printed in the stick's report. Only a salted scrypt hash of each code is
kept, in ``<state_dir>/setup-code.json`` (0600, the service user's).

A code is single use: claiming setup with any valid code voids them all.
After :data:`MAX_FAILURES` wrong codes in a row every code is voided too,
so a scanner on the LAN cannot guess one (60 random bits, and at most
ten guesses per printed code); the technician then gets a new code from
any channel (restarting the box prints one on its screen).

The module sits at the base of the core and imports nothing from the rest
of ClinicBox but its errors: the core, the web UI, the CLI and the
provisioning run all use it.

Example:
    >>> code = new_code(state_dir, "cli")                   # doctest: +SKIP
    >>> claim(state_dir, code)                              # doctest: +SKIP
    >>> claim(state_dir, code)                              # doctest: +SKIP
    Traceback (most recent call last):
    SetupCodeError: wrong or already used setup code
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.errors import SetupCodeError

log = logging.getLogger(__name__)

FILE_NAME = "setup-code.json"
LOCK_NAME = ".setup-code.lock"
FORMAT = "clinicbox-setup-code"
CHANNELS = ("console", "cli", "provisioning")
#: Wrong codes in a row after which every code is voided.
MAX_FAILURES = 10
#: Crockford's base 32 without the look-alikes: no I, L, O or U; 12 characters = 60 bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
_LOOK_ALIKES = str.maketrans("OIL", "011")
#: scrypt cost: about 16 MB and a few tens of ms per check on a Pi.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


def code_path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE_NAME


def normalise(code: str) -> str:
    """What a person typed, as the code is stored: upper case, no spaces or dashes,
    and the look-alikes read as Crockford says (O -> 0, I and L -> 1)."""
    text = "".join(ch for ch in code.upper() if ch not in " -\t")
    return text.translate(_LOOK_ALIKES)


def _generate() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def _hash(code: str, salt: bytes) -> str:
    return hashlib.scrypt(normalise(code).encode("ascii"), salt=salt, **_SCRYPT).hex()  # type: ignore[arg-type]


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(state_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        owner = _state_owner(state_dir)
        if owner is not None and os.geteuid() == 0:  # root (CLI, provisioning) must not take it from the web UI
            os.fchown(fd, *owner)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads(code_path(state_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"codes": {}, "failures": 0}
    except (OSError, ValueError):
        log.warning("%s is unreadable; every setup code in it is void", code_path(state_dir))
        return {"codes": {}, "failures": 0}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("codes"), dict):
        return {"codes": {}, "failures": 0}
    return data


def _write(state_dir: Path, data: dict[str, Any], owner: tuple[int, int] | None) -> None:
    path = code_path(state_dir)
    if not data["codes"]:
        path.unlink(missing_ok=True)
        return
    payload = {"format": FORMAT, "version": 1, "codes": data["codes"], "failures": int(data.get("failures", 0))}
    tmp = path.with_name(f".{FILE_NAME}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        if owner is not None and os.geteuid() == 0:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _state_owner(state_dir: Path) -> tuple[int, int] | None:
    """Root writes the file for the service user, who owns the state folder."""
    try:
        st = Path(state_dir).stat()
    except OSError:
        return None
    return st.st_uid, st.st_gid


def new_code(state_dir: Path, channel: str) -> str:
    """Make a new code for ``channel``, replacing only that channel's previous one; returns it.

    Raises:
        ValueError: an unknown channel.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown setup-code channel {channel!r}; one of {', '.join(CHANNELS)}")
    code = _generate()
    salt = secrets.token_bytes(16)
    with _locked(state_dir):
        data = _read(state_dir)
        data["codes"][channel] = {"salt": salt.hex(), "hash": _hash(code, salt)}
        data["failures"] = 0
        _write(state_dir, data, _state_owner(state_dir))
    return code


def pending(state_dir: Path) -> bool:
    """Whether any code could still claim setup."""
    return bool(_read(state_dir)["codes"])


def _matches(data: dict[str, Any], code: str) -> bool:
    found = False
    for entry in data["codes"].values():
        try:
            salt = bytes.fromhex(str(entry["salt"]))
            expected = str(entry["hash"])
        except (KeyError, TypeError, ValueError):
            continue
        # Every entry is checked, so the time taken does not tell which channel matched.
        found = hmac.compare_digest(_hash(code, salt), expected) or found
    return found


def claim(state_dir: Path, code: str) -> None:
    """Use ``code`` to claim setup: every code is void afterwards (single use).

    Raises:
        SetupCodeError: the code is wrong, already used or voided; after
            :data:`MAX_FAILURES` wrong codes every code is voided.
    """
    text = normalise(code)
    well_formed = len(text) == LENGTH and all(ch in ALPHABET for ch in text)
    with _locked(state_dir):
        data = _read(state_dir)
        if not data["codes"]:
            raise SetupCodeError("no setup code is waiting; get a new one at the box")
        if well_formed and _matches(data, text):
            code_path(state_dir).unlink(missing_ok=True)
            log.warning("setup claimed with a valid setup code; every setup code is now void")
            return
        data["failures"] = int(data.get("failures", 0)) + 1
        if data["failures"] >= MAX_FAILURES:
            data["codes"] = {}
            log.warning(
                "%d wrong setup codes: every setup code is void; get a new one at the box "
                "(restart it, run clinicbox setup-code, or provision from a USB stick)",
                MAX_FAILURES,
            )
        _write(state_dir, data, _state_owner(state_dir))
    raise SetupCodeError("wrong or already used setup code")


def void(state_dir: Path) -> None:
    """Remove every code (a manager exists now, by any path)."""
    with _locked(state_dir):
        code_path(state_dir).unlink(missing_ok=True)
