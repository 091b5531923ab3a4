"""The simulated modem's firmware, driven byte by byte without a pty."""

from __future__ import annotations

import time

import pytest

from appliance.modem.sim.simulator import ModemSimulator, split_commands
from appliance.modem.wire.pdu import SmsDeliver, decode_pdu, encode_sms


class Wire:
    def __init__(self, sim: ModemSimulator) -> None:
        self.sim = sim
        self.out = bytearray()
        sim.attach(self.out.extend)

    def send(self, line: str, wait: float = 0.0) -> str:
        self.out.clear()
        self.sim.feed(line.encode() + b"\r")
        if wait:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self.sim.tick()
                time.sleep(0.01)
        return self.out.decode()


def booted(**kw: object) -> tuple[ModemSimulator, Wire]:
    sim = ModemSimulator(**kw)  # type: ignore[arg-type]
    sim.state.register_delay_s = 0.0
    sim.state.report_delay_s = 0.0
    wire = Wire(sim)
    sim.power_on()
    deadline = time.monotonic() + 1
    while sim.state.reg_stat != 1 and sim.state.sim == "ready" and time.monotonic() < deadline:
        sim.tick()
        time.sleep(0.001)
    sim.tick()
    return sim, wire


@pytest.mark.parametrize(
    ("body", "commands"),
    [
        ("E0V1+CMEE=1;+CREG?", [("E", "0"), ("V", "1"), ("+CMEE", "=1"), ("+CREG", "?")]),
        ("D+48601234567;", [("D", "+48601234567;")]),
        ('+CPMS="SM","SM","SM"', [("+CPMS", '="SM","SM","SM"')]),
        ('+CUSD=1,"*100#;x",15', [("+CUSD", '=1,"*100#;x",15')]),
        ("&FZ", [("&F", ""), ("Z", "")]),
        ("I3", [("I", "3")]),
        ("", []),
    ],
)
def test_split_commands(body: str, commands: list[tuple[str, str]]) -> None:
    assert split_commands(body) == commands


def test_boot_urcs_and_echo_until_ate0() -> None:
    _, wire = booted()
    assert wire.send("AT") == "AT\r\r\nOK\r\n"
    assert wire.send("ATE0") == "ATE0\r\r\nOK\r\n"
    assert wire.send("AT") == "\r\nOK\r\n"


def test_error_formats_follow_cmee() -> None:
    sim, wire = booted()
    sim.remove_sim()
    wire.send("ATE0")
    assert wire.send("AT+CPIN?").endswith("\r\nERROR\r\n")
    wire.send("AT+CMEE=1")
    assert "+CME ERROR: 10" in wire.send("AT+CPIN?")
    wire.send("AT+CMEE=2")
    assert "+CME ERROR: SIM not inserted" in wire.send("AT+CPIN?")
    assert "+CMS ERROR: 310" in wire.send("AT+CMGL=4")


def test_pin_tries_and_puk_lock() -> None:
    sim, wire = booted(pin="1234")
    wire.send("ATE0")
    wire.send("AT+CMEE=1")
    assert "SIM PIN" in wire.send("AT+CPIN?")
    assert "+CME ERROR: 16" in wire.send('AT+CPIN="0000"')
    assert "+CME ERROR: 16" in wire.send('AT+CPIN="1111"')
    assert sim.state.pin_tries == 1
    assert "+CME ERROR: 12" in wire.send('AT+CPIN="2222"')
    assert "SIM PUK" in wire.send("AT+CPIN?")
    assert "OK" in wire.send('AT+CPIN="12345678","4321"')
    assert "READY" in wire.send("AT+CPIN?")


def test_sms_send_with_prompt_and_report() -> None:
    sim, wire = booted()
    wire.send("ATE0")
    wire.send("AT+CNMI=2,1,0,1,0")
    part = encode_sms("+48601234567", "Zażółć", status_report=True).parts[0]
    assert wire.send(f"AT+CMGS={part.tpdu_length}").endswith("> ")
    wire.out.clear()
    sim.feed(part.hex.encode() + b"\x1a")
    assert "+CMGS: 0" in wire.out.decode()
    assert sim.sent[0].text == "Zażółć" and sim.sent[0].status_report
    wire.out.clear()
    deadline = time.monotonic() + 1
    while "+CDS:" not in wire.out.decode() and time.monotonic() < deadline:
        sim.tick()
        time.sleep(0.01)
    assert "+CDS:" in wire.out.decode()


def test_sms_errors_are_scripted() -> None:
    sim, wire = booted()
    wire.send("ATE0")
    wire.send("AT+CMEE=1")
    sim.fail_next_sms(500)
    part = encode_sms("+48601234567", "x").parts[0]
    wire.send(f"AT+CMGS={part.tpdu_length}")
    wire.out.clear()
    sim.feed(part.hex.encode() + b"\x1a")
    assert "+CMS ERROR: 500" in wire.out.decode()
    sim.set_network(False)
    wire.send(f"AT+CMGS={part.tpdu_length}")
    wire.out.clear()
    sim.feed(part.hex.encode() + b"\x1a")
    assert "+CMS ERROR: 331" in wire.out.decode()


def test_incoming_multipart_is_stored_and_listed() -> None:
    sim, wire = booted()
    wire.send("ATE0")
    wire.send("AT+CNMI=2,1,0,1,0")
    wire.out.clear()
    sim.inject_sms("+905321234567", "Şükrü " * 30)
    assert wire.out.decode().count("+CMTI:") == 3
    listing = wire.send("AT+CMGL=4")
    pdus = [line for line in listing.split("\r\n") if line and line[0] in "0123456789ABCDEF" and len(line) > 20]
    texts = [decode_pdu(p) for p in pdus]
    assert all(isinstance(t, SmsDeliver) for t in texts)
    assert "".join(t.text for t in texts) == "Şükrü " * 30  # type: ignore[union-attr]
    wire.send("AT+CMGD=0,4")
    assert "+CMGL" not in wire.send("AT+CMGL=4")


def test_hang_ignores_everything_until_a_power_cycle() -> None:
    sim, wire = booted()
    sim.hang()
    assert wire.send("AT") == ""
    sim.power_cycle()
    assert "OK" in wire.send("AT")


def test_calls_ring_answer_and_dtmf() -> None:
    sim, wire = booted()
    wire.send("ATE0")
    wire.send("AT+CLIP=1")
    wire.out.clear()
    sim.inject_call("+48601234567")
    assert "RING" in wire.out.decode() and '+CLIP: "+48601234567",145' in wire.out.decode()
    assert "+CLCC: 1,1,4,0,0" in wire.send("AT+CLCC")
    assert "OK" in wire.send("ATA")
    assert "OK" in wire.send('AT+VTS="5"')
    assert sim.state.dtmf == "5"
    wire.out.clear()
    sim.remote_hangup()
    assert "NO CARRIER" in wire.out.decode()


def test_slow_and_dropped_answers() -> None:
    sim, wire = booted()
    wire.send("ATE0")
    sim.drop_answers(1)
    assert wire.send("AT") == ""
    assert "OK" in wire.send("AT")
    sim.slow(0.05)
    assert wire.send("AT") == ""
    assert "OK" in wire.send("AT", wait=0.2)
