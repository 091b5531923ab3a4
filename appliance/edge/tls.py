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

import logging
from pathlib import Path

from appliance.config import Config
from appliance.errors import EdgeError
from appliance.selfsigned import make_self_signed, own_names

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
        make_self_signed(cert, key, own_names(cfg.sip.public_address, cfg.sip.bind_address))
    except OSError as exc:
        raise EdgeError(f"paths.edge_state_dir: cannot write {folder} ({exc.strerror})") from None
    log.warning("made a self-signed certificate for the edge's SIP TLS listener: %s", cert)
    return cert, key
