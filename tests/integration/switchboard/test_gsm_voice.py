"""A GSM call's voice end to end: the simulated modem (in the core, AT over a
pty; voice PCM on a second pty), the real core, the real GSM gateway.

The simulated SIMCom/Huawei modem sends its caller's voice (a tone) on the
voice port only once the core ran the family's step after the call
connected, and measures what comes back: the IVR's prompts must reach the
mobile caller, and the caller's voice must reach the core's voicemail.
"""

from __future__ import annotations

import array
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from appliance.store.media import MediaVault
from tests.integration.modemsim import sim, wait_for
from tests.integration.switchboard.conftest import DESKS

A = "+12125550001"
DOCTOR = "+12125550999"
DEFAULTS = Path(__file__).resolve().parents[3] / "appliance" / "config" / "defaults.toml"


def gsm_box(box: Any, station_proc: Any, profile: str, overlay_ivr: Any = None, **options: Any) -> Any:
    stations = {"desk2": DESKS["desk2"], "gsm": {"name": "GSM gateway"}}
    b = box(
        overlay={"modem": {"enabled": True}, **({"ivr": overlay_ivr} if overlay_ivr else {})},
        config={"modem": {"simulator_profile": profile}},
        stations=stations,
        **options,
    )
    b.wait(lambda s: s["modem"].get("state") == "ready", timeout=20, what="the simulated modem")
    station_proc(b.config, station="gsm", core=b.core, gateway=True)
    wait_for("the GSM gateway", lambda: "GSM gateway up" in b.log.read_text(errors="replace"), 10, b)
    return b


def loud_samples(wav: bytes) -> int:
    samples = array.array("h", wav[44 : len(wav) - len(wav) % 2])
    return sum(1 for s in samples[::37] if abs(s) > 500)  # 37: no alias with the modem's 600 Hz tone


@pytest.mark.parametrize("profile", ["sim7600", "e173"])
def test_a_mobile_callers_voice_reaches_voicemail_and_the_prompts_reach_the_caller(
    box, station_proc, profile: str
) -> None:  # type: ignore[no-untyped-def]
    b = gsm_box(box, station_proc, profile, open_hours=False)
    assert sim(b, cmd="voice")["route"] == ""  # no call: no voice
    assert sim(b, cmd="call", **{"from": A})["ok"]
    # The core answered and ran the family's step: the voice flows on the serial port ...
    wait_for("the voice on the modem's serial port", lambda: sim(b, cmd="voice")["route"] == "serial", 15, b)
    # ... and the closed-hours prompts reach the mobile caller through gateway and modem.
    wait_for("the IVR's prompts at the mobile caller", lambda: sim(b, cmd="voice")["loud_s"] >= 2.0, 20, b)
    b.wait(
        lambda s: any(c["route"] == "gsm" and c["state"] == "voicemail" for c in s["calls"]),
        timeout=25,
        what="the GSM caller leaving a message",
    )
    time.sleep(6.0)  # greeting, beep, and the caller's voice (the modem's tone) recorded
    sent_before_hangup = sim(b, cmd="voice")["sent_s"]
    assert sim(b, cmd="hangup")["ok"]
    rec = b.call_record(lambda r: r.route == "gsm", timeout=15)
    assert rec.disposition == "voicemail" and rec.caller == A
    rows = b.rows("SELECT media_file FROM voicemail WHERE caller = ?", (A,))
    assert rows, b.tail()
    wav = MediaVault(b.store).read_bytes(rows[0][0])
    assert loud_samples(wav) > 20, "the message is silent: the mobile caller's voice did not reach the core"
    assert sent_before_hangup >= 5.0
    time.sleep(0.5)
    reading = sim(b, cmd="voice")
    assert reading["route"] == "" and reading["sent_s"] - sent_before_hangup < 0.5  # stopped with the call


def test_a_modem_without_a_voice_path_offers_no_gsm_calls_but_keeps_sms(box, station_proc) -> None:  # type: ignore[no-untyped-def]
    b = gsm_box(box, station_proc, "le910")
    status = b.wait(lambda s: s, what="a snapshot")
    assert status["modem"]["voice"] is False
    assert sim(b, cmd="call", **{"from": A})["ok"]
    wait_for("the refused GSM call", lambda: not sim(b, cmd="calls")["calls"], 10, b)
    assert "GSM call refused: voice path: not supported on this modem" in b.log.read_text(errors="replace")
    assert not any(c["route"] == "gsm" for c in b.wait(lambda s: s, what="a snapshot")["calls"])


@pytest.mark.parametrize("profile", ["sim7600", "e173"])
def test_a_mobile_caller_and_a_sip_peer_hear_each_other_through_gateway_and_core(
    box, station_proc, sipua, tone_wav, profile: str
) -> None:  # type: ignore[no-untyped-def]
    """After hours the IVR puts the mobile caller through to the on-call doctor, a
    real SIP peer behind the provider: the tone the modem plays reaches the doctor,
    and the doctor's voice reaches the modem's voice port."""
    nodes = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))["ivr"]["nodes"]
    nodes["closed-emergency"]["next"] = "on-call"
    nodes["on-call"] = {"type": "transfer", "number": DOCTOR}
    b = gsm_box(box, station_proc, profile, open_hours=False, overlay_ivr={"nodes": nodes})
    doctor = sipua(name="pstn", port=b.pstn_port, auto_answer=True)
    assert sim(b, cmd="call", **{"from": A})["ok"]
    incoming = doctor.wait_for("incoming", timeout=30)  # after the closed and emergency notices
    doctor.wait_state("CONFIRMED", incoming["call"], timeout=10)
    b.wait(
        lambda s: any(c["route"] == "gsm" and c["state"] == "talking" for c in s["calls"]),
        timeout=10,
        what="the mobile caller bridged to the doctor",
    )
    doctor.wait_heard(2.0, incoming["call"], timeout=10)  # the mobile caller's voice, through modem PCM
    before = sim(b, cmd="voice")["loud_s"]
    doctor.play(tone_wav, incoming["call"], loop=True)
    wait_for(
        "the doctor's voice at the modem's voice port",
        lambda: sim(b, cmd="voice")["loud_s"] >= before + 2.0,
        10,
        b,
    )
    assert sim(b, cmd="hangup")["ok"]
    doctor.wait_state("DISCONNECTED", incoming["call"], timeout=10)
    rec = b.call_record(lambda r: r.route == "gsm", timeout=15)
    assert rec.disposition == "transferred" and rec.caller == A
