"""A refused provider certificate becomes a clear, named trunk state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.switchboard.siptls import (
    IDENTITY_NOT_MATCH,
    ISSUER_NOT_FOUND,
    UNTRUSTED,
    VALIDITY_PERIOD,
    Rejection,
    certificate_problem,
    trunk_host,
)
from appliance.switchboard.trunk import TrunkMonitor
from tests.conftest import clinic_config


def test_a_name_mismatch_says_what_was_expected_and_what_came() -> None:
    rej = Rejection(IDENTITY_NOT_MATCH, ("other.example", "www.other.example"), "Trusted CA")
    assert certificate_problem(rej, "sip.provider.example") == (
        "provider certificate rejected: name mismatch (expected sip.provider.example, "
        "got other.example, www.other.example)"
    )


def test_an_unknown_issuer_is_not_trusted() -> None:
    rej = Rejection(ISSUER_NOT_FOUND | UNTRUSTED, ("sip.provider.example",), "Evil CA")
    assert certificate_problem(rej, "sip.provider.example") == (
        "provider certificate rejected: not signed by a trusted CA (issuer Evil CA)"
    )


def test_both_and_an_expired_certificate() -> None:
    rej = Rejection(IDENTITY_NOT_MATCH | VALIDITY_PERIOD, (), "CA", "2025-01-31")
    assert certificate_problem(rej, "sip.provider.example") == (
        "provider certificate rejected: name mismatch (expected sip.provider.example, got no name); "
        "expired or not yet valid (valid until 2025-01-31)"
    )


def test_the_expected_name_is_the_proxy_when_there_is_one(tmp_path: Path) -> None:
    trunk = {"enabled": True, "registrar": "sip:sip.provider.example", "username": "u", "transport": "tls"}
    assert trunk_host(clinic_config(tmp_path, sip={"tls": True}, trunk=trunk)) == "sip.provider.example"
    proxied = {**trunk, "proxy": "sip:edge.provider.example:5061;transport=tls"}
    assert trunk_host(clinic_config(tmp_path, sip={"tls": True}, trunk=proxied)) == "edge.provider.example"


def test_the_trunk_is_down_for_its_certificate_until_it_registers(tmp_path: Path) -> None:
    cfg = clinic_config(
        tmp_path,
        sip={"tls": True},
        trunk={"enabled": True, "registrar": "sip:localhost:5061", "username": "u", "transport": "tls"},
    )
    events: list[tuple[str, dict[str, Any]]] = []
    mon = TrunkMonitor(cfg, lambda kind, **data: events.append((kind, data)))
    problem = "provider certificate rejected: not signed by a trusted CA (issuer X)"
    mon.on_certificate(problem)
    mon.on_registration(503, "TLS certificate verification error", False)
    assert mon.view() == {"state": "down", "detail": problem}
    assert events[-1][1]["reason"] == problem
    mon.on_registration(200, "OK", True)
    assert mon.view() == {"state": "up", "detail": "registered"}


def test_an_ip_authenticated_trunk_is_up_again_once_a_certificate_passes(tmp_path: Path) -> None:
    cfg = clinic_config(
        tmp_path,
        sip={"tls": True},
        trunk={"enabled": True, "register": False, "registrar": "sip:localhost:5061", "transport": "tls"},
    )
    mon = TrunkMonitor(cfg, lambda kind, **data: None)
    mon.start()
    assert mon.view()["state"] == "up"
    problem = "provider certificate rejected: name mismatch (expected localhost, got wrong.example)"
    mon.on_certificate(problem)
    assert mon.view() == {"state": "down", "detail": problem}
    mon.on_certificate("")  # the provider fixed its certificate; the next call's connection passed
    assert mon.view() == {"state": "up", "detail": "provider answers"}
