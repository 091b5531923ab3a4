"""SIP TLS config: a CA file, certificate or key the core could not use is a config error naming the key."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.selfsigned import make_self_signed

TLS_TRUNK = {"enabled": True, "registrar": "sip:localhost:5061", "transport": "tls", "username": "clinic"}


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides, use_secrets=False, use_overlay=False)
    return list(err.value.problems)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "sip.crt", tmp_path / "sip.key"
    make_self_signed(cert, key, ["clinicbox.lan", "192.0.2.10"])
    return cert, key


def test_a_missing_ca_file_is_named_with_its_key(tmp_path: Path) -> None:
    missing = tmp_path / "provider-ca.pem"
    found = problems(sip={"tls": True}, trunk={**TLS_TRUNK, "tls_ca_file": str(missing)})
    assert found == [
        f"trunk.tls_ca_file: {missing} does not exist; the provider's certificate cannot be verified without it"
    ]


def test_a_ca_file_that_holds_no_certificate_is_refused(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    _, key = pair
    found = problems(sip={"tls": True}, trunk={**TLS_TRUNK, "tls_ca_file": str(key)})
    assert found == [f"trunk.tls_ca_file: {key} holds no PEM CA certificate; " + CANNOT_VERIFY]


CANNOT_VERIFY = "the provider's certificate cannot be verified without it"


def test_a_certificate_without_its_key_is_refused(pair: tuple[Path, Path]) -> None:
    cert, _ = pair
    assert problems(sip={"tls": True, "tls_cert_file": str(cert)}) == [
        "sip.tls_key_file: give both sip.tls_cert_file and sip.tls_key_file, or neither (the box then makes its own)"
    ]


def test_a_key_file_that_is_the_certificate_is_refused(pair: tuple[Path, Path]) -> None:
    cert, _ = pair
    assert problems(sip={"tls": True, "tls_cert_file": str(cert), "tls_key_file": str(cert)}) == [
        f"sip.tls_key_file: {cert} holds no PEM private key"
    ]


def as_nobody(fn: Callable[[], object]) -> str:
    """``str(fn())`` in a forked child running as uid/gid 65534."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, answer, leave without running pytest's teardown
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, str(fn()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        answer = fh.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_an_unreadable_key_is_refused() -> None:
    # In a folder anyone may enter (pytest's tmp dirs are the user's own): only the key's mode refuses.
    with tempfile.TemporaryDirectory(prefix="clinicbox-tls-") as folder:
        os.chmod(folder, 0o755)
        cert, key = Path(folder) / "sip.crt", Path(folder) / "sip.key"
        make_self_signed(cert, key, ["clinicbox.lan"])
        cert.chmod(0o644)
        key.chmod(0o600 if os.geteuid() == 0 else 0)  # root reads anything: ask as another user

        def load() -> list[str]:
            return problems(sip={"tls": True, "tls_cert_file": str(cert), "tls_key_file": str(key)})

        found = as_nobody(load) if os.geteuid() == 0 else str(load())
    reason = f"{key} cannot be read by this user (the core runs as clinicbox; check its owner and mode)"
    assert found == str([f"sip.tls_key_file: {reason}"])


def test_a_good_pair_and_ca_load(pair: tuple[Path, Path]) -> None:
    cert, key = pair
    cfg = load_config(
        overrides={
            "sip": {"tls": True, "tls_cert_file": str(cert), "tls_key_file": str(key), "srtp": "mandatory"},
            "trunk": {**TLS_TRUNK, "tls_ca_file": str(cert)},
        },
        use_secrets=False,
        use_overlay=False,
    )
    assert cfg.trunk.tls_ca_file == str(cert) and cfg.sip.srtp == "mandatory"


def test_mandatory_srtp_needs_a_tls_trunk() -> None:
    found = problems(sip={"srtp": "mandatory"}, trunk={**TLS_TRUNK, "transport": "udp"})
    assert found == [
        "sip.srtp: mandatory SRTP needs trunk.transport = tls: the SRTP keys travel in the SIP messages, "
        "which only TLS keeps secret"
    ]


def test_the_self_signed_key_is_private(pair: tuple[Path, Path]) -> None:
    cert, key = pair
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert b"BEGIN CERTIFICATE" in cert.read_bytes()
