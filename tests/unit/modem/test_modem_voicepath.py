"""The voice path per modem family: the real driver over a pty to the simulator
playing each family, the set-up sequence, and what it says when a step fails."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.modem import voicepath
from appliance.modem.driver import Modem
from appliance.modem.sim import ModemSimulator, PtySimulator, SimulatedHardware
from appliance.modem.voicepath import HUAWEI, QUECTEL, SIMCOM, family_of, prepare


class Rig:
    def __init__(self, profile: str) -> None:
        self.sim = PtySimulator(ModemSimulator(profile=profile))
        self.sim.modem.state.register_delay_s = 0.0
        self.sim.start()
        settings = load_config(overrides={"modem": {"command_timeout_s": 1.0}}, use_secrets=False).modem
        self.hardware = SimulatedHardware(self.sim)
        self.modem = Modem(settings, self.hardware, lambda line, pdu: None)
        self.info = self.modem.connect()
        self.modem.at("ATE0")

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.sim.modem.state

    def family(self) -> voicepath.Family | None:
        return family_of(self.info.manufacturer, self.info.model, self.hardware.usb_vendor())

    def prepare(self, **kw: object) -> voicepath.VoicePath:
        port = self.hardware.voice_port(4)
        return prepare(self.modem, self.family(), voice_port=port, who=self.info.model, **kw)  # type: ignore[arg-type]

    def connect_call(self) -> None:
        self.sim.modem.inject_call("+48601234567")
        self.modem.answer()

    def close(self) -> None:
        self.modem.close()
        self.sim.stop()


@pytest.fixture
def rig() -> Iterator[callable]:  # type: ignore[valid-type]
    made: list[Rig] = []

    def make(profile: str) -> Rig:
        made.append(Rig(profile))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize(
    ("maker", "model", "vendor", "family"),
    [
        ("Quectel", "EC25", "", QUECTEL),
        ("Quectel", "EG25-G", "", QUECTEL),
        ("Quectel", "EC21", "2c7c", QUECTEL),
        ("", "EC25", "2c7c", QUECTEL),  # maker line missing: the USB vendor tells
        ("Quectel", "BG96", "2c7c", None),  # no voice on that module
        ("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "", SIMCOM),
        ("SIMCOM INCORPORATED", "SIMCOM_SIM800", "1e0e", None),
        ("huawei", "E173", "", HUAWEI),
        ("huawei", "E1750", "12d1", HUAWEI),
        ("Huawei Technologies", "E3531", "", HUAWEI),
        ("huawei", "E3372", "12d1", None),  # a data-only stick
        ("Telit", "LE910C1-EU", "1bc7", None),
        ("", "", "", None),
    ],
)
def test_family_from_identity(maker: str, model: str, vendor: str, family: voicepath.Family | None) -> None:
    assert family_of(maker, model, vendor) is family


def test_quectel_with_usb_audio_on_sets_voice_over_uac(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("ec25")
    path = r.prepare()
    assert path.ready and path.route == "uac" and not path.restart
    assert path.describe() == "voice path: USB audio (UAC)"
    assert r.state.qpcmv == "1,2"
    r.connect_call()
    assert r.sim.modem.voice_route() == "uac"


def test_quectel_with_usb_audio_off_switches_it_on_and_asks_for_one_restart(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("ec25")
    r.state.uac_stored = r.state.uac_active = False
    path = r.prepare()
    assert path.restart and not path.ready
    assert "must restart" in path.describe()
    assert r.state.uac_stored and not r.state.uac_active  # stored; takes effect at the next power-on
    r.connect_call()
    assert r.sim.modem.voice_route() == ""  # no voice before the restart


def test_quectel_doctor_probe_only_looks(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("ec25")
    r.state.uac_stored = r.state.uac_active = False
    path = r.prepare(fix=False)
    assert not path.ready and not path.restart and "off in USBCFG" in path.detail
    assert not r.state.uac_stored  # nothing changed in the modem


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"voice_errors": {"+QPCMV"}}, "AT+QPCMV=1,2 (voice over USB audio) answered ERROR"),
        ({"voice_errors": {"+QCFG"}}, 'AT+QCFG="USBCFG" answered ERROR'),
        ({"voice_noise": True}, "answered without a UAC flag"),
    ],
)
def test_quectel_setup_failures_are_named(rig, fault: dict[str, object], says: str) -> None:  # type: ignore[no-untyped-def]
    r = rig("ec25")
    for key, value in fault.items():
        setattr(r.state, key, value)
    path = r.prepare()
    assert not path.ready and says in path.describe()
    assert r.modem.ping()  # the driver carries on (SMS still work)


def test_simcom_starts_pcm_once_the_call_is_connected_and_stops_it_after(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("sim7600")
    path = r.prepare()
    assert path.ready and path.route == "serial-pcm" and path.port == r.sim.voice.path
    assert path.describe() == f"voice path: serial PCM on {r.sim.voice.path}"
    r.connect_call()
    assert r.sim.modem.voice_route() == ""  # connected, but no PCM without AT+CPCMREG=1
    assert voicepath.call_connected(r.modem, r.family()) == ""
    assert r.sim.modem.voice_route() == "serial" and r.state.cpcmreg
    voicepath.call_ended(r.modem, r.family())
    assert not r.state.cpcmreg


def test_simcom_pcm_before_the_call_connects_is_refused(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("sim7600")
    assert r.prepare().ready
    error = voicepath.call_connected(r.modem, r.family())
    assert error == "AT+CPCMREG=1 answered ERROR: the call has no voice"


def test_simcom_without_pcm_support_or_voice_port(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("sim7600")
    r.state.voice_errors = {"+CPCMREG"}
    assert "AT+CPCMREG=? answered ERROR" in r.prepare().describe()
    r.state.voice_errors = set()
    path = prepare(r.modem, SIMCOM, voice_port="")
    assert not path.ready and path.describe() == (
        "voice path: serial PCM (no voice serial port found (USB interface 4))"
    )


def test_huawei_checks_voice_firmware_and_starts_pcm_after_connect(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("e173")
    path = r.prepare()
    assert path.ready and path.route == "serial-pcm" and path.family == HUAWEI.label
    r.connect_call()
    assert r.sim.modem.voice_route() == ""
    assert voicepath.call_connected(r.modem, r.family()) == ""
    assert r.sim.modem.voice_route() == "serial"
    r.sim.modem.remote_hangup()
    time.sleep(0.05)
    r.connect_call()  # the next call needs its own AT^DDSETEX=2
    assert r.sim.modem.voice_route() == ""


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"voice_firmware": False}, "voice is switched off in this stick's firmware (AT^CVOICE? answered ERROR)"),
        ({"voice_noise": True}, "AT^CVOICE? says ?"),
    ],
)
def test_huawei_setup_failures_are_named(rig, fault: dict[str, object], says: str) -> None:  # type: ignore[no-untyped-def]
    r = rig("e173")
    for key, value in fault.items():
        setattr(r.state, key, value)
    path = r.prepare()
    assert not path.ready and says in path.describe()


def test_an_unknown_modem_has_no_voice_path(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("le910")
    path = r.prepare()
    assert not path.ready and path.route == "none"
    assert path.describe().startswith("voice path: not supported on this modem")
    assert voicepath.call_connected(r.modem, None) == ""


def test_a_modem_that_stops_answering_during_setup_is_reported_not_raised(rig) -> None:  # type: ignore[no-untyped-def]
    r = rig("sim7600")
    r.sim.modem.hang()
    path = r.prepare()
    assert not path.ready and "did not answer the voice setup" in path.detail


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("/dev/serial/by-id/usb-SimTech__Incorporated_SimTech__Incorporated_0123-if04-port0", True),
        ("/dev/ttyUSB4", False),  # renumbered after a USB reset
        ("/dev/serial/by-id/../../sda", False),
        ("/etc/passwd", False),
    ],
)
def test_modem_voice_port_setting(value: str, ok: bool) -> None:
    if ok:
        assert load_config(overrides={"modem": {"voice_port": value}}, use_secrets=False).modem.voice_port == value
        return
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"modem": {"voice_port": value}}, use_secrets=False)
    assert any(p.startswith("modem.voice_port:") and "by-id" in p for p in err.value.problems)
