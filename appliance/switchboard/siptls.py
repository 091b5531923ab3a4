"""SIP over TLS: the listener's certificate, the provider's verification, SRTP on the trunk.

The core's one TLS transport both listens (its certificate and key) and
connects out to the provider; PJSIP applies the same TLS settings to both.
Outgoing connections verify the provider: its certificate must chain to
``trunk.tls_ca_file`` (or the system CA store) and name the host the core
connected to (PJSIP checks subjectAltName DNS/IP/URI entries, then the
subject CN; ``verifyServer`` makes a mismatch close the connection before
any SIP message, so no REGISTER and no credentials go out). PJSIP also
accepts a CN match when the subjectAltNames name other hosts; RFC 6125
does not, and neither does the core (:func:`alt_name_mismatch`).

When no certificate is configured the core makes a self-signed one in
``<state_dir>/tls`` at its first start (the key 0600, owned by the core's
user) and keeps it: the provider or a desk phone may pin it.

A refused certificate becomes a named condition, :func:`certificate_problem`,
shown as the trunk's state (doctor, dashboard). It holds host names and CA
names only, never a number or a patient's anything.

SRTP belongs to the trunk accounts alone (:func:`secure_trunk_account`):
the stations on the LAN speak plain RTP over UDP, and PJSUA refuses any
SRTP call whose signalling is not TLS (``srtpSecureSignaling = 1``: SDES
keys are in the SDP), so SRTP on their account would refuse them.

Any: 2, the pjsua2 AccountConfig and transport-state parameters.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.config.sip_tls import SYSTEM_CA_FILE
from appliance.selfsigned import make_self_signed, own_names

log = logging.getLogger(__name__)

# pj_ssl_cert_verify_flag_t (pj/ssl_sock.h); the same values as pjsua2's PJ_SSL_CERT_E*.
ISSUER_NOT_FOUND = 1 << 0
UNTRUSTED = 1 << 1
VALIDITY_PERIOD = 1 << 2
INVALID_FORMAT = 1 << 3
INVALID_PURPOSE = 1 << 4
ISSUER_MISMATCH = 1 << 5
CRL_FAILURE = 1 << 6
REVOKED = 1 << 7
CHAIN_TOO_LONG = 1 << 8
IDENTITY_NOT_MATCH = 1 << 30

_REASONS = (
    (ISSUER_NOT_FOUND | UNTRUSTED | ISSUER_MISMATCH, "not signed by a trusted CA"),
    (VALIDITY_PERIOD, "expired or not yet valid"),
    (REVOKED, "revoked"),
    (INVALID_FORMAT | INVALID_PURPOSE | CHAIN_TOO_LONG | CRL_FAILURE, "not usable for TLS"),
)


@dataclass(frozen=True)
class ListenerFiles:
    cert: Path
    key: Path
    ca: Path
    generated: bool  # a self-signed pair the core made


@dataclass(frozen=True)
class Rejection:
    """What PJSIP reported about a provider certificate it refused."""

    status: int  # pj_ssl_cert_verify_flag_t bits
    names: tuple[str, ...]  # subjectAltName entries, else the subject CN
    issuer: str  # issuer CN
    valid_until: str = ""


def certificate_problem(rej: Rejection, expected: str) -> str:
    """``provider certificate rejected: name mismatch (expected a, got b)`` and the like."""
    parts: list[str] = []
    if rej.status & IDENTITY_NOT_MATCH:
        got = ", ".join(rej.names) or "no name"
        parts.append(f"name mismatch (expected {expected or 'the registrar host'}, got {got})")
    for bits, text in _REASONS:
        if rej.status & bits:
            if bits & UNTRUSTED and rej.issuer:
                text += f" (issuer {rej.issuer})"
            elif bits == VALIDITY_PERIOD and rej.valid_until:
                text += f" (valid until {rej.valid_until})"
            parts.append(text)
    if not parts:
        parts.append(f"verification failed (status 0x{rej.status:x})")
    return "provider certificate rejected: " + "; ".join(parts)


def rejection_from(prm: Any) -> Rejection | None:
    """The refused certificate in a PJSUA2 ``OnTransportStateParam``, or None (loop thread).

    PJSIP reports an outgoing connection whose certificate failed verification
    as DISCONNECTED with its verify status; everything else is not a refusal.
    """
    import pjsua2 as pj

    info = prm.tlsInfo
    if prm.state != pj.PJSIP_TP_STATE_DISCONNECTED or info.isEmpty() or not info.verifyStatus:
        return None
    cert = info.remoteCertInfo
    names = tuple(str(n.name) for n in cert.subjectAltName) or ((str(cert.subjectCn),) if cert.subjectCn else ())
    until = ""
    try:
        until = datetime.datetime.fromtimestamp(int(cert.validityEnd.sec), datetime.UTC).date().isoformat()
    except (AttributeError, OverflowError, ValueError):
        pass
    return Rejection(int(info.verifyStatus), names, str(cert.issuerCn), until)


def verified_peer(prm: Any) -> bool:
    """A TLS connection came up with a certificate that passed every check (loop thread)."""
    import pjsua2 as pj

    info = prm.tlsInfo
    if prm.state != pj.PJSIP_TP_STATE_CONNECTED or info.isEmpty() or info.verifyStatus:
        return False
    return not info.remoteCertInfo.isEmpty()


def alt_name_mismatch(prm: Any, expected: str) -> Rejection | None:
    """RFC 6125 on a connection PJSIP let through: a certificate with subjectAltName
    entries must list ``expected`` there; its CN no longer counts (loop thread).

    PJSIP 2.12 falls back to the CN even when none of the subjectAltNames
    match, so a certificate for ``other.example`` with CN ``sip.provider.example``
    passes its check. Called from the CONNECTED transport state, before PJSIP
    sends what waits on the connection; the caller then shuts it down.
    """
    import pjsua2 as pj

    if not expected:
        return None
    cert = prm.tlsInfo.remoteCertInfo
    names: list[str] = []
    for entry in cert.subjectAltName:
        name = str(entry.name)
        if entry.type == pj.PJ_SSL_CERT_NAME_URI and name.lower().startswith(("sip:", "sips:")):
            name = name.split(":", 1)[1]
        if entry.type in (pj.PJ_SSL_CERT_NAME_DNS, pj.PJ_SSL_CERT_NAME_IP, pj.PJ_SSL_CERT_NAME_URI):
            names.append(name)
    if not names or expected.lower() in (n.lower() for n in names):
        return None
    return Rejection(IDENTITY_NOT_MATCH, tuple(names), str(cert.issuerCn))


def trunk_host(cfg: Config) -> str:
    """The host the core opens its TLS connection to: the proxy's, else the registrar's."""
    from appliance.switchboard.trunk import registrar_address

    target = registrar_address(cfg.trunk.proxy or cfg.trunk.registrar)
    return target[0] if target else ""


def listener_files(cfg: Config) -> ListenerFiles:
    """The TLS transport's files; makes the self-signed pair when none is configured."""
    ca = Path(cfg.trunk.tls_ca_file) if cfg.trunk.tls_ca_file else SYSTEM_CA_FILE
    if cfg.sip.tls_cert_file:
        return ListenerFiles(Path(cfg.sip.tls_cert_file), Path(cfg.sip.tls_key_file), ca, False)
    directory = cfg.paths.state_dir / "tls"
    cert, key = directory / "sip.crt", directory / "sip.key"
    if not (cert.is_file() and key.is_file()):
        make_self_signed(cert, key, own_names(cfg.sip.public_address, cfg.sip.bind_address))
        log.info("made a self-signed certificate for the SIP TLS listener: %s", cert)
    return ListenerFiles(cert, key, ca, True)


def configure_transport(tls_config: Any, files: ListenerFiles) -> None:
    """The listener's certificate, and verification of every server the core connects to."""
    import pjsua2 as pj

    tls_config.method = pj.PJSIP_TLSV1_2_METHOD
    tls_config.certFile = str(files.cert)
    tls_config.privKeyFile = str(files.key)
    tls_config.CaListFile = str(files.ca)
    tls_config.verifyServer = True  # a refused certificate closes the connection before any SIP
    tls_config.verifyClient = False  # desk phones rarely carry client certificates
    tls_config.requireClientCert = False


def secure_trunk_account(acc: Any, cfg: Config, tls_transport: int | None, srtp_built: bool) -> None:
    """Bind a TLS trunk account to the TLS transport and set its SRTP (``sip.srtp``).

    Bound, the account is also the one PJSUA picks for calls arriving over
    TLS (transport type outranks the To header's host), so the provider's
    calls get its SRTP rule: ``mandatory`` answers an offer without crypto
    with 488. On a UDP trunk SRTP stays off (config refuses ``mandatory``
    there): its keys would cross the network in clear.
    """
    import pjsua2 as pj

    if cfg.trunk.transport != "tls" or tls_transport is None:
        return
    acc.sipConfig.transportId = tls_transport
    if cfg.sip.srtp == "disabled" or not srtp_built:
        return
    media = acc.mediaConfig
    media.srtpUse = pj.PJMEDIA_SRTP_MANDATORY if cfg.sip.srtp == "mandatory" else pj.PJMEDIA_SRTP_OPTIONAL
    media.srtpSecureSignaling = 1  # SRTP only where the hop is TLS
