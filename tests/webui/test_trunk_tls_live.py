"""A provider certificate for the wrong name, as the clinic manager sees it on the dashboard.

Real core (PJSUA2, TLS trunk) against a real TLS registrar on 127.0.0.1
whose certificate names another host, the real web process, Chromium.
"""

from __future__ import annotations

from pathlib import Path

from appliance.config import load_config
from tests.integration.sip.peers.tlsprovider import TestCA, TlsRegistrar
from tests.integration.switchboard.conftest import box, peer_dir  # noqa: F401
from tests.integration.switchboard.tls import PASSWORD, USER, tls_overlay
from tests.webui.conftest import Clinic, demo_logins, login, screenshot, start_web, stop_web

EXPECTED = "provider certificate rejected: name mismatch (expected localhost, got wrong.example)"


def test_the_dashboard_says_the_provider_certificate_was_rejected(box, page, tmp_path: Path) -> None:  # noqa: F811
    ca = TestCA(tmp_path / "ca")
    provider = TlsRegistrar(ca.issue("provider", "wrong.example", ["wrong.example"]), USER, PASSWORD)
    try:
        b = box(overlay=tls_overlay(provider.port, ca.cert))
        b.wait(lambda s: s["trunk"]["detail"] == EXPECTED, timeout=15, what="the certificate refused")
        password = (b.dir / "first-login.txt").read_text().splitlines()[1].split(": ", 1)[1]
        clinic = Clinic(Path(b.dir), b.config, load_config(b.config), demo_logins(Path(b.dir), password))
        start_web(clinic)
        try:
            login(page, clinic, "manager")
            page.goto(clinic.base_url + "/dashboard")
            page.wait_for_selector("[data-testid=trunk-detail]:not([hidden])")
            assert page.inner_text("[data-testid=trunk-detail]") == EXPECTED
            assert page.inner_text("[data-testid=trunk-state]").strip().lower() == "down"
            screenshot(page, "dashboard-trunk-certificate-rejected")
        finally:
            stop_web(clinic)
        assert provider.received == b"", "nothing went over the refused connection"
    finally:
        provider.close()
