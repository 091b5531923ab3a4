"""The simulator's voice-path commands per family: only its own commands, no voice
unless the family's step was done, and a voice port that carries PCM only then."""

from __future__ import annotations

import os
import select
import time

import pytest

from appliance.modem.sim import ModemSimulator, PtySimulator
from appliance.station.voiceroute import PCM_FRAME_BYTES
from tests.unit.modem.test_modem_simulator import booted


def connected(profile: str):  # type: ignore[no-untyped-def]
    sim, wire = booted(profile=profile)
    wire.send("ATE0")
    sim.inject_call("+48601234567")
    assert wire.send("ATA").endswith("OK\r\n")
    return sim, wire


@pytest.mark.parametrize(
    ("profile", "foreign"),
    [
        ("ec25", ["AT+CPCMREG=?", "AT^CVOICE?", "AT^DDSETEX=2"]),
        ("sim7600", ['AT+QCFG="USBCFG"', "AT+QPCMV=1,2", "AT^DDSETEX=2"]),
        ("e173", ["AT+CPCMREG=1", 'AT+QCFG="USBCFG"', "AT+QPCMV=1,2"]),
        ("le910", ["AT+CPCMREG=1", "AT^DDSETEX=2", "AT+QPCMV=1,2"]),
    ],
)
def test_each_family_refuses_the_others_commands(profile: str, foreign: list[str]) -> None:
    sim, wire = connected(profile)
    for command in foreign:
        assert wire.send(command).strip().endswith("ERROR"), command
    assert sim.voice_route() == ""


def test_quectel_usbcfg_change_takes_effect_after_a_restart() -> None:
    sim, wire = booted(profile="ec25")
    wire.send("ATE0")
    sim.state.uac_stored = sim.state.uac_active = False
    assert '"USBCFG",0x2C7C,0x0125,1,1,1,1,1,0,0' in wire.send('AT+QCFG="USBCFG"')
    assert wire.send("AT+QPCMV=1,2").strip() == "ERROR"  # no USB audio enumerated yet
    assert wire.send('AT+QCFG="USBCFG",0x2C7C,0x0125,1,1,1,1,1,0,1').strip() == "OK"
    assert wire.send("AT+QPCMV=1,2").strip() == "ERROR"  # stored, not yet active
    sim.power_on()
    wire.send("ATE0")
    assert wire.send("AT+QPCMV=1,2").strip() == "OK"
    assert wire.send('AT+QCFG="USBCFG",0x2C7C,0x9999,1,1,1,1,1,0,1').strip() == "ERROR"  # bad VID/PID kept out


def test_quectel_voice_needs_qpcmv_and_it_is_forgotten_at_power_on() -> None:
    sim, wire = connected("ec25")
    assert sim.voice_route() == ""
    wire.send("AT+QPCMV=1,2")
    assert sim.voice_route() == "uac"
    sim.power_on()
    assert sim.state.qpcmv == ""


@pytest.mark.parametrize(("profile", "step"), [("sim7600", "AT+CPCMREG=1"), ("e173", "AT^DDSETEX=2")])
def test_serial_pcm_step_needs_a_connected_call_and_lasts_one_call(profile: str, step: str) -> None:
    sim, wire = booted(profile=profile)
    wire.send("ATE0")
    wire.send("AT+CMEE=1")
    assert wire.send(step).strip() == "+CME ERROR: 3"  # no call yet
    sim.inject_call("+48601234567")
    wire.send("ATA")
    assert sim.voice_route() == ""
    assert wire.send(step).strip() == "OK"
    assert sim.voice_route() == "serial"
    sim.remote_hangup()
    sim.inject_call("+48601234567")
    wire.send("ATA")
    assert sim.voice_route() == ""  # the next call needs the step again


def test_the_voice_port_carries_pcm_only_after_the_step() -> None:
    pty = PtySimulator(ModemSimulator(profile="sim7600"))
    pty.start()
    assert pty.voice is not None
    fd = os.open(pty.voice.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        pty.modem.inject_call("+48601234567")
        with pty.modem._lock:  # answer as ATA would
            pty.modem.state.calls[0].state = "active"

        def received(seconds: float) -> int:
            got, deadline = 0, time.monotonic() + seconds
            while time.monotonic() < deadline:
                if select.select([fd], [], [], 0.05)[0]:
                    got += len(os.read(fd, 4096))
            return got

        assert received(0.3) == 0  # connected, but no AT+CPCMREG=1: silence on the port
        pty.modem.state.cpcmreg = True
        assert received(0.4) >= 10 * PCM_FRAME_BYTES
        os.write(fd, b"\x00\x40" * (PCM_FRAME_BYTES // 2) * 5)  # the box's voice, loud
        time.sleep(0.2)
        assert pty.voice.reading()["loud_s"] >= 0.1
    finally:
        os.close(fd)
        pty.stop()
