"""The SIP trunk edited in Chromium (the real web process) against a real core
registering to kamailio, with a call in progress: the trunk password set under
Settings › Secrets makes it register at once, a new registrar set under Settings ›
SIP trunk makes it register there, each next call through the provider reaches the
IVR, and the call in progress goes on untouched."""

from __future__ import annotations

from pathlib import Path

from appliance.config import load_config
from tests.integration.sip.peers.kamailio import Kamailio
from tests.integration.switchboard.test_live_settings import in_call, still_flowing
from tests.webui.conftest import (
    Clinic,
    login,
    screenshot,
    start_web,
    stop_web,
)

A = "+12125550001"


def call_through(provider: Kamailio, sipua, box) -> None:  # type: ignore[no-untyped-def]
    """A patient registered at the provider calls the clinic's number: the box's IVR answers."""
    patient = sipua(name=f"pstn-{provider.port}", registrar=provider.uri, user="caller", password="callerpw")
    patient.wait_for("reg", lambda e: e.get("active"), timeout=10)
    cid = patient.call(f"sip:trunk1@127.0.0.1:{provider.port}", from_user="caller")
    patient.wait_state("CONFIRMED", cid, timeout=10)
    patient.wait_heard(1.0, cid, timeout=10)
    patient.hangup(cid)
    patient.wait_state("DISCONNECTED", cid, timeout=10)


def test_trunk_password_and_registrar_apply_live_from_the_browser(
    box,
    kamailio,
    sipua,
    tone_wav,
    peer_dir: Path,
    page,
) -> None:
    desk = sipua(name="desk-a", auto_answer=True)
    trunk = {
        "enabled": True,
        "register": True,
        "registrar": kamailio.uri,
        "username": "trunk1",
        "provider_networks": [],
        "keepalive_interval_s": 5,
    }
    b = box(
        overlay={"trunk": trunk},
        stations={
            "deska": {"name": "Desk A", "queues": ["front-desk"], "contact": desk.contact, "answer_mode": "auto"}
        },
    )
    b.wait(lambda s: s["trunk"]["state"] == "down", timeout=15, what="the registration refused (no password yet)")
    # The call in progress all along: A talks to Desk A over the box's own address.
    caller = sipua(name="caller-a")
    ca = in_call(caller, b, A, "0")
    desk.play(tone_wav, desk.wait_state("CONFIRMED", timeout=20)["call"], loop=True)
    b.wait_agent("deska", "on-call", timeout=20)
    second = Kamailio(peer_dir / "kamailio-2")
    clinic = Clinic(b.dir, b.config, load_config(b.config, use_secrets=False), {"manager": b.manager_password})
    start_web(clinic)
    try:
        login(page, clinic, "manager")
        page.goto(clinic.base_url + "/settings/secrets")
        page.fill("[data-testid='secret-trunk.password'] input[name=value]", "secret")
        page.click("[data-testid='secret-save-trunk.password']")
        assert "is set. It is never shown again." in page.inner_text("[data-testid=notice-ok]")
        b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="registration with the new password")
        call_through(kamailio, sipua, b)
        still_flowing(caller, ca)

        page.goto(clinic.base_url + "/settings/section/trunk")
        page.fill("[name=registrar]", second.uri)
        page.click("[data-testid=settings-save]")
        notice = page.inner_text("[data-testid=notice-ok]")
        screenshot(page, "settings-trunk-applied-live")
        assert "Applied now, calls in progress continue: trunk.registrar" in notice
        b.wait(
            lambda s: s["trunk"]["state"] == "up" and "REQ REGISTER" in second.log_text(),
            timeout=15,
            what="registration with the new registrar",
        )
        call_through(second, sipua, b)
    finally:
        stop_web(clinic)
        second.close()
    still_flowing(caller, ca)
    caller.hangup(ca)
    rec = b.call_record(lambda r: r.caller == A)
    assert (rec.disposition, rec.agent) == ("answered", "deska")
    through = b.query("SELECT count(*) FROM calls WHERE route = 'trunk' AND disposition = 'ivr' AND caller != ?", (A,))
    assert through == [(2,)]
