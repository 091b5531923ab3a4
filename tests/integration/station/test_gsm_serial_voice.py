"""Serial-PCM GSM voice through the real GSM gateway with a real SIP peer.

The SIMCom/Huawei simulator stands in for the modem (its voice port is a
pty); the real driver answers its call and runs the family's step
(``AT+CPCMREG=1`` / ``AT^DDSETEX=2``); the real ``clinicbox gsm-gateway``
bridges the voice port to a SIP call from the scriptable PJSUA2 agent,
which carries the core's signed token and voice header as the core would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.modem import voicepath
from appliance.modem.driver import Modem
from appliance.modem.sim import ModemSimulator, PtySimulator, SimulatedHardware
from appliance.station import protocol as P
from appliance.station.voiceroute import VOICE_HEADER, VoiceRoute, format_header
from tests.conftest import free_port

PASSWORD = "gateway-secret-1"
CALLER = "+48601234567"


class GsmModem:
    """The simulated modem with the real driver on its AT port (the core's side)."""

    def __init__(self, profile: str) -> None:
        self.pty = PtySimulator(ModemSimulator(profile=profile))
        self.pty.modem.state.register_delay_s = 0.0
        self.pty.start()
        self.hardware = SimulatedHardware(self.pty)
        settings = load_config(overrides={"modem": {"command_timeout_s": 1.0}}, use_secrets=False).modem
        self.driver = Modem(settings, self.hardware, lambda line, pdu: None)
        info = self.driver.connect()
        self.driver.at("ATE0")
        self.family = voicepath.family_of(info.manufacturer, info.model, self.hardware.usb_vendor())
        self.path = voicepath.prepare(self.driver, self.family, voice_port=self.hardware.voice_port(4))
        assert self.path.ready, self.path.describe()

    def ring_and_answer(self) -> None:
        self.pty.modem.inject_call(CALLER)
        self.driver.answer()

    def reading(self) -> dict[str, float]:
        assert self.pty.voice is not None
        return self.pty.voice.reading()

    def close(self) -> None:
        self.driver.close()
        self.pty.stop()


@pytest.fixture
def gsm_modem() -> Iterator[object]:
    made: list[GsmModem] = []

    def make(profile: str) -> GsmModem:
        made.append(GsmModem(profile))
        return made[-1]

    yield make
    for m in made:
        m.close()


def gateway(station_config, station_proc):  # type: ignore[no-untyped-def]
    config = station_config({"gsm": {"password": PASSWORD}}, sip_port=free_port())
    return station_proc(config, station="gsm", gateway=True)


def invite_headers(route: VoiceRoute) -> dict[str, str]:
    return {
        P.AUTH_HEADER: P.invite_token("gsm", PASSWORD),
        P.ANSWER_HEADER: "auto",
        "X-ClinicBox-Gsm": "in",
        VOICE_HEADER: format_header(route),
    }


def wait_for(what: str, check, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@pytest.mark.parametrize("profile", ["sim7600", "e173"])
def test_gsm_voice_crosses_the_gateway_both_ways(
    profile: str, gsm_modem, station_config, station_proc, sipua, tone_wav: Path
) -> None:  # type: ignore[no-untyped-def]
    modem = gsm_modem(profile)
    gw = gateway(station_config, station_proc)
    peer = sipua(name="far-side")
    modem.ring_and_answer()
    cid = peer.call(gw.contact, headers=invite_headers(modem.path.as_route()))
    peer.wait_state("CONFIRMED", cid, timeout=10)
    gw.wait_log(r"connected to the modem's serial PCM on /dev/pts/\d+", timeout=5)
    peer.play(tone_wav, cid, loop=True)
    time.sleep(1.5)
    # Connected, bridged, but the family's step not done yet: the modem carries no voice.
    assert modem.reading()["sent_s"] == 0.0 and modem.reading()["loud_s"] == 0.0
    assert voicepath.call_connected(modem.driver, modem.family) == ""
    peer.wait_heard(2.0, cid, timeout=10)  # the mobile caller's voice reached the SIP peer
    wait_for("the SIP peer's tone on the modem's voice port", lambda: modem.reading()["loud_s"] >= 2.0, 10)
    peer.hangup(cid)
    peer.wait_state("DISCONNECTED", cid)
    gw.wait_log(r"GSM voice port closed: \d+ frames in", timeout=5)


def test_a_voice_port_that_vanishes_mid_call_ends_the_call(gsm_modem, station_config, station_proc, sipua) -> None:  # type: ignore[no-untyped-def]
    modem = gsm_modem("sim7600")
    gw = gateway(station_config, station_proc)
    peer = sipua(name="far-side")
    modem.ring_and_answer()
    cid = peer.call(gw.contact, headers=invite_headers(modem.path.as_route()))
    peer.wait_state("CONFIRMED", cid, timeout=10)
    assert voicepath.call_connected(modem.driver, modem.family) == ""
    peer.wait_heard(0.5, cid, timeout=10)
    assert modem.pty.voice is not None
    modem.pty.voice.unplug()
    peer.wait_state("DISCONNECTED", cid, timeout=10)  # the gateway hung up, cleanly
    gw.wait_log(r"voice port vanished", timeout=5)
    assert gw.proc.poll() is None  # and keeps serving
    peer2 = sipua(name="next-caller")
    cid2 = peer2.call(gw.contact, headers=invite_headers(modem.path.as_route()))
    peer2.wait_state("DISCONNECTED", cid2, timeout=10)  # the port is gone: refused with a reason
    gw.wait_log(r"cannot open the modem's voice port", timeout=5)


def test_the_gateway_refuses_a_voice_port_that_is_not_a_serial_device(station_config, station_proc, sipua) -> None:  # type: ignore[no-untyped-def]
    gw = gateway(station_config, station_proc)
    peer = sipua(name="far-side")
    cid = peer.call(gw.contact, headers=invite_headers(VoiceRoute("serial-pcm", "/etc/shadow")))
    peer.wait_state("DISCONNECTED", cid, timeout=10)
    gw.wait_log(r"named '/etc/shadow' as voice port, which is not a serial device", timeout=5)
    assert gw.proc.poll() is None
