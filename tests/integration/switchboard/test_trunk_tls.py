"""The trunk over TLS against a real TLS provider on 127.0.0.1, with the production PJSUA2.

A throwaway CA (openssl, in the test's tmp dir) signs the provider's
certificate; the registrar is ``sip:localhost:PORT`` so the name PJSIP
checks is ``localhost``. A certificate for another name, or one signed by
a CA the box does not trust, is refused before any SIP goes out: the
provider receives not one byte after the handshake, so no REGISTER and no
credentials; the trunk's state names the reason, and ``clinicbox doctor``
prints it.
"""

from __future__ import annotations

import socket
import ssl
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.integration.sip.peers.tlsprovider import CertPair, TestCA, TlsRegistrar
from tests.integration.switchboard.box import Box
from tests.integration.switchboard.conftest import DESKS
from tests.integration.switchboard.tls import PASSWORD, USER, TlsAnswerer, provider_call, tls_overlay, tls_port


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
def registrar() -> Iterator[Callable[[CertPair], TlsRegistrar]]:
    started: list[TlsRegistrar] = []

    def start(pair: CertPair) -> TlsRegistrar:
        reg = TlsRegistrar(pair, USER, PASSWORD)
        started.append(reg)
        return reg

    yield start
    for reg in started:
        reg.close()


def test_registration_over_tls_with_the_right_ca_and_name(box: Callable[..., Box], ca: TestCA, registrar) -> None:
    provider = registrar(ca.issue("provider", "localhost", ["localhost"]))
    b = box(overlay=tls_overlay(provider.port, ca.cert))
    status = b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered over TLS")
    assert status["trunk"]["detail"] == "registered"
    provider.wait(lambda: provider.registered_at, what="a REGISTER with the right digest")
    took = provider.registered_at[0] - provider.connections[0].opened
    print(f"\nTLS registration: {took * 1000:.0f} ms (TCP connect to 200 OK: handshake, 401, REGISTER)")
    assert [c.handshake for c in provider.connections] == ["done"], "one TLS connection, kept open"
    first, second = provider.registers[:2]
    assert not first.header("authorization") and f'username="{USER}"' in second.header("authorization")
    assert ";transport=tls" in second.header("contact").lower() or "sips:" in second.header("contact").lower()

    # The box's own TLS listener presents the certificate it made at first start.
    tls_dir = b.dir / "tls"
    key_mode = stat.S_IMODE((tls_dir / "sip.key").stat().st_mode)
    assert key_mode == 0o600, oct(key_mode)
    ctx = ssl.create_default_context(cafile=str(tls_dir / "sip.crt"))
    ctx.check_hostname = False  # the self-signed certificate names the host, not 127.0.0.1's alias
    port = tls_port(b)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as conn:
        presented = ssl.DER_cert_to_PEM_cert(conn.getpeercert(binary_form=True) or b"")
    assert presented.strip() == (tls_dir / "sip.crt").read_text().strip()


@pytest.mark.parametrize(
    ("issuer", "cert_name", "expected"),
    [
        (
            "trusted",
            "wrong.example",
            "provider certificate rejected: name mismatch (expected localhost, got wrong.example)",
        ),
        ("stranger", "localhost", "provider certificate rejected: not signed by a trusted CA (issuer Stranger CA)"),
        # CN localhost, subjectAltName wrong.example: PJSIP alone would accept it (CN fallback); RFC 6125 does not.
        (
            "trusted-cn",
            "wrong.example",
            "provider certificate rejected: name mismatch (expected localhost, got wrong.example)",
        ),
    ],
)
def test_a_refused_provider_certificate_sends_nothing_and_says_why(
    box: Callable[..., Box], ca: TestCA, registrar, tmp_path: Path, issuer: str, cert_name: str, expected: str
) -> None:
    signer = ca if issuer.startswith("trusted") else TestCA(tmp_path / "stranger", "Stranger CA")
    cn = "localhost" if issuer == "trusted-cn" else cert_name
    provider = registrar(signer.issue("provider", cn, [cert_name]))
    b = box(overlay=tls_overlay(provider.port, ca.cert))
    status = b.wait(
        lambda s: s["trunk"]["state"] == "down" and "certificate" in s["trunk"]["detail"],
        timeout=15,
        what="the trunk down for its provider's certificate",
    )
    assert status["trunk"]["detail"] == expected
    provider.wait(lambda: provider.connections and provider.connections[0].handshake != "pending", what="a handshake")
    time.sleep(1.0)  # anything the core would send after the handshake has arrived by now
    assert provider.received == b"", "the core sent SIP over a connection it had refused"
    assert provider.registers == []
    assert PASSWORD.encode() not in (b.log.read_bytes())

    doctor = run_cli("--config", str(b.config), "doctor", timeout=60)
    assert f"down: {expected}" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "trunk.tls_ca_file" in doctor.stdout


@pytest.mark.parametrize("srtp", ["mandatory", "optional"])
def test_a_provider_call_over_tls_carries_srtp(box: Callable[..., Box], ca: TestCA, registrar, srtp: str) -> None:
    pair = ca.issue("provider", "localhost", ["localhost"])
    provider = registrar(pair)
    b = box(overlay=tls_overlay(provider.port, ca.cert, srtp=srtp))
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered over TLS")
    result = provider_call(b, pair, "mandatory")
    assert result["code_confirmed"] == 200, result
    assert "RTP/SAVP" in result["offer"] and "a=crypto:" in result["offer"]
    assert "RTP/SAVP" in result["answer"] and "a=crypto:" in result["answer"], result["answer"]
    assert "SRTP status: Active" in result["dump"], result["dump"]
    assert result["rx_packets"] > 50, "the box's greeting reached the provider as SRTP packets"
    print(f"\nTLS+SRTP call setup ({srtp}): {result['setup_ms']} ms (INVITE to CONFIRMED)")


def test_mandatory_srtp_refuses_a_provider_call_without_crypto(
    box: Callable[..., Box], ca: TestCA, registrar, sipua
) -> None:
    pair = ca.issue("provider", "localhost", ["localhost"])
    provider = registrar(pair)
    b = box(overlay=tls_overlay(provider.port, ca.cert, srtp="mandatory"))
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered over TLS")
    result = provider_call(b, pair, "disabled")
    assert "a=crypto" not in result["offer"] and "RTP/AVP" in result["offer"]
    assert result["code"] == 488 and "dump" not in result, result

    # The LAN side (stations, a local caller over UDP) keeps plain RTP: mandatory is the trunk's rule.
    local = sipua(name="lan-caller")
    cid = local.call(b.uri)
    local.wait_state("CONFIRMED", cid, timeout=10)
    local.wait_for("media", lambda e: e["call"] == cid and e["active"], timeout=5)


PATIENT = "+48601234567"


@pytest.mark.parametrize("cert_name", ["localhost", "wrong.example"])
def test_a_call_out_over_an_ip_authenticated_tls_trunk(
    box: Callable[..., Box], ca: TestCA, station_proc, cert_name: str
) -> None:
    """register = false: the INVITE opens the TLS connection, and is held to the same checks."""
    # An impostor waits 20 s for a call that must never come.
    provider = TlsAnswerer(
        ca.issue("provider", cert_name, [cert_name]), ca.cert, wait_s=40 if cert_name == "localhost" else 20
    )
    try:
        overlay = tls_overlay(provider.port, ca.cert, srtp="mandatory")
        overlay["trunk"]["register"] = False
        b = box(overlay=overlay, stations={"desk2": DESKS["desk2"]})
        station_proc(b.config, station="desk2", core=b.core)
        b.wait_agent("desk2", "available")
        b.control.call("call.originate", station="desk2", number=PATIENT)
        if cert_name == "localhost":
            result = provider.result()
            assert result.get("code_confirmed") == 200, provider.log[-6000:]
            assert "RTP/SAVP" in result["offer"] and "a=crypto:" in result["offer"], result["offer"]
            assert "SRTP status: Active" in result["dump"], result["dump"]
            assert result["rx_packets"] > 20, "the box's audio reached the provider as SRTP"
            rec = b.call_record(lambda r: r.direction == "outbound", timeout=15)
            assert (rec.route, rec.disposition) == ("trunk", "answered")
        else:
            status = b.wait(lambda s: "certificate" in s["trunk"]["detail"], timeout=15, what="the certificate refused")
            assert status["trunk"] == {
                "state": "down",
                "detail": "provider certificate rejected: name mismatch (expected localhost, got wrong.example)",
            }
            rec = b.call_record(lambda r: r.direction == "outbound", timeout=15)
            assert rec.disposition != "answered"
            assert provider.result(timeout=60)["state"] == "no call", "no INVITE reached the impostor"
    finally:
        provider.close()


def test_optional_srtp_still_takes_a_provider_call_without_crypto(
    box: Callable[..., Box], ca: TestCA, registrar
) -> None:
    pair = ca.issue("provider", "localhost", ["localhost"])
    provider = registrar(pair)
    b = box(overlay=tls_overlay(provider.port, ca.cert, srtp="optional"))
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="the trunk registered over TLS")
    result = provider_call(b, pair, "disabled", hold_s=1.0)
    assert result.get("code_confirmed") == 200, result
    assert "RTP/AVP" in result["answer"] and "a=crypto" not in result["answer"], result["answer"]
    assert result["rx_packets"] > 10
