"""The box's self-signed TLS certificates (the core's SIP TLS listener, the edge's).

Like a mature PBX, the box makes its own certificate at first start when
the clinic configured none: EC P-256, ten years, the box's host name and
configured addresses as subject alternative names. The key is written
0600 in a 0700 folder, atomically (a crash leaves the old pair or none).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path


def own_names(public_address: str, bind_address: str) -> list[str]:
    """The names a phone may reach the box by: its host name, then its configured addresses."""
    names = [socket.gethostname() or "clinicbox"]
    for addr in (public_address, bind_address):
        if addr and addr not in ("0.0.0.0", "::") and addr not in names:
            names.append(addr)
    return names


def make_self_signed(cert_path: Path, key_path: Path, names: list[str], days: int = 3650) -> None:
    """A self-signed certificate (EC P-256) for ``names`` (host names or IP addresses).

    Raises:
        OSError: the folder cannot be written (the caller names the setting).
    """
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
