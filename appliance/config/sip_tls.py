"""Config checks for SIP over TLS: the files the TLS transport reads, SRTP's need for TLS.

PJSIP reads the CA list, certificate and key only when the switchboard
starts, and a missing file there would only show as a trunk that never
registers. So the files are checked when the config loads, each problem
naming its key and the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.config.model import Config

#: Debian's bundle of the system's trusted CAs (package ca-certificates).
SYSTEM_CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")


def file_problem(path: Path, marker: bytes, what: str) -> str | None:
    """Why ``path`` cannot serve as ``what`` (a PEM file containing ``marker``), or None."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"{path} does not exist"
    except PermissionError:
        return f"{path} cannot be read by this user (the core runs as clinicbox; check its owner and mode)"
    except IsADirectoryError:
        return f"{path} is a folder, not a {what} file"
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror})"
    if marker not in data:
        return f"{path} holds no PEM {what}"
    return None


def tls_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """The TLS files named by ``trunk.tls_ca_file``, ``sip.tls_cert_file`` and ``sip.tls_key_file``."""
    tls_trunk = cfg.trunk.enabled and cfg.trunk.transport == "tls"
    if cfg.trunk.tls_ca_file:
        problem = file_problem(Path(cfg.trunk.tls_ca_file), b"-----BEGIN CERTIFICATE-----", "CA certificate")
        if problem:
            yield "trunk.tls_ca_file", f"{problem}; the provider's certificate cannot be verified without it"
    elif tls_trunk and not SYSTEM_CA_FILE.is_file():
        yield (
            "trunk.tls_ca_file",
            f"the system CA store {SYSTEM_CA_FILE} is missing; install ca-certificates or set trunk.tls_ca_file",
        )
    cert, key = cfg.sip.tls_cert_file, cfg.sip.tls_key_file
    if bool(cert) != bool(key):
        missing = "sip.tls_key_file" if cert else "sip.tls_cert_file"
        yield missing, "give both sip.tls_cert_file and sip.tls_key_file, or neither (the box then makes its own)"
    if cert and (problem := file_problem(Path(cert), b"-----BEGIN CERTIFICATE-----", "certificate")):
        yield "sip.tls_cert_file", problem
    if key and (problem := file_problem(Path(key), b"PRIVATE KEY-----", "private key")):
        yield "sip.tls_key_file", problem
    if cfg.sip.srtp == "mandatory" and cfg.trunk.enabled and cfg.trunk.transport != "tls":
        yield (
            "sip.srtp",
            "mandatory SRTP needs trunk.transport = tls: the SRTP keys travel in the SIP messages, "
            "which only TLS keeps secret",
        )
