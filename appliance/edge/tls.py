"""The edge's TLS listener: which certificate it presents, made once if none is configured.

With ``edge.tls_port`` set, desk phones may reach the edge over SIP/TLS
(same routing and ``route[SECURITY]`` as UDP and TCP). The certificate is
``edge.tls_cert_file`` / ``edge.tls_key_file``; with both empty the edge
makes a self-signed pair at its first start, as PBXs do, in
``<paths.edge_state_dir>/tls`` (``edge.crt``, ``edge.key`` 0600, folder
0700, the edge's user only) and keeps it, so a phone that pinned it keeps
trusting it. Its names are the host name and the box's SIP addresses.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
from pathlib import Path

from appliance.config import Config
from appliance.errors import EdgeError

log = logging.getLogger(__name__)


def files(cfg: Config) -> tuple[Path, Path]:
    """(certificate, key) of the TLS listener; makes the self-signed pair when none is configured.

    Raises:
        EdgeError: a configured file is missing or unreadable, or the pair cannot be written.
    """
    edge = cfg.edge
    if edge.tls_cert_file:
        cert, key = Path(edge.tls_cert_file), Path(edge.tls_key_file)
        for name, path, marker in (
            ("edge.tls_cert_file", cert, b"-----BEGIN CERTIFICATE-----"),
            ("edge.tls_key_file", key, b"PRIVATE KEY-----"),
        ):
            try:
                if marker not in path.read_bytes():
                    raise EdgeError(f"{name}: {path} holds no PEM {'certificate' if 'cert' in name else 'key'}")
            except OSError as exc:
                raise EdgeError(f"{name}: {path} cannot be read by the edge's user ({exc.strerror})") from None
        return cert, key
    folder = Path(cfg.paths.edge_state_dir) / "tls"
    cert, key = folder / "edge.crt", folder / "edge.key"
    if cert.is_file() and key.is_file():
        return cert, key
    try:
        make_self_signed(cert, key, own_names(cfg))
    except OSError as exc:
        raise EdgeError(f"paths.edge_state_dir: cannot write {folder} ({exc.strerror})") from None
    log.warning("made a self-signed certificate for the edge's SIP TLS listener: %s", cert)
    return cert, key


def own_names(cfg: Config) -> list[str]:
    names = [socket.gethostname() or "clinicbox"]
    for addr in (cfg.sip.public_address, cfg.sip.bind_address):
        if addr and addr not in ("0.0.0.0", "::") and addr not in names:
            names.append(addr)
    return names


def make_self_signed(cert_path: Path, key_path: Path, names: list[str], days: int = 3650) -> None:
    """A self-signed certificate (EC P-256) for ``names``; key 0600, folder 0700."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp_key = key_path.with_name(f".{key_path.name}.tmp")
    tmp_key.unlink(missing_ok=True)
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp_key, key_path)
    tmp_cert = cert_path.with_name(f".{cert_path.name}.tmp")
    tmp_cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp_cert, cert_path)
