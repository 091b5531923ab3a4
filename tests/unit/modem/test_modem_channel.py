"""AtChannel over a scripted transport replaying real modem transcripts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from appliance.errors import ModemCommandError, ModemTimeoutError, SmsUnconfirmedError
from appliance.modem.channel import AtChannel, ModemGoneError


class ScriptedModem:
    """A transport whose far end answers each written command from a script.

    ``script`` maps a command (as written, without CR) to the raw bytes the
    modem sends back; ``None`` means no answer at all.
    """

    def __init__(self, script: dict[str, bytes | None], echo: bool = False) -> None:
        self.script = script
        self.echo = echo
        self.written: list[str] = []
        self._on_data: Callable[[bytes], None] | None = None
        self._on_closed: Callable[[Exception | None], None] | None = None
        self.is_open = False

    def open(self, on_data: Callable[[bytes], None], on_closed: Callable[[Exception | None], None]) -> None:
        self._on_data, self._on_closed, self.is_open = on_data, on_closed, True

    def close(self) -> None:
        self.is_open = False

    def feed(self, data: bytes) -> None:
        assert self._on_data is not None
        self._on_data(data)

    def vanish(self) -> None:
        assert self._on_closed is not None
        self.is_open = False
        self._on_closed(OSError(5, "Input/output error"))

    def write(self, data: bytes) -> None:
        text = data.decode("latin-1")
        self.written.append(text)
        key = text.rstrip("\r")
        out = data if self.echo else b""
        if key in self.script and self.script[key] is not None:
            out += self.script[key] or b""
        if out:
            self._reply(out)

    def _reply(self, data: bytes) -> None:
        threading.Thread(target=self.feed, args=(data,), daemon=True).start()


def channel(
    script: dict[str, bytes | None], echo: bool = False
) -> tuple[AtChannel, ScriptedModem, list[tuple[str, str | None]]]:
    modem = ScriptedModem(script, echo)
    urcs: list[tuple[str, str | None]] = []
    ch = AtChannel(modem, on_urc=lambda line, pdu: urcs.append((line, pdu)))  # type: ignore[arg-type]
    ch.open()
    return ch, modem, urcs


def test_answer_with_echo_and_urcs_in_the_middle() -> None:
    # EC25 with echo still on, an SMS indication and vendor noise landing inside the answer.
    ch, _, urcs = channel({"AT+CSQ": b'AT+CSQ\r\r\n+CMTI: "SM",3\r\n\r\n+CSQ: 21,99\r\n\r\n^RSSI:18\r\n\r\nOK\r\n'})
    resp = ch.command("AT+CSQ", 2)
    assert resp.lines == ["+CSQ: 21,99"]
    assert urcs == [('+CMTI: "SM",3', None), ("^RSSI:18", None)]


def test_registration_line_is_an_answer_or_a_urc_depending_on_the_command() -> None:
    ch, _, urcs = channel(
        {
            "AT+CREG?": b'\r\n+CREG: 2,1,"2B5C","0303C93",7\r\n\r\nOK\r\n',
            "AT+CSQ": b"\r\n+CREG: 5\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
        }
    )
    assert ch.command("AT+CREG?", 2).lines == ['+CREG: 2,1,"2B5C","0303C93",7']
    assert ch.command("AT+CSQ", 2).lines == ["+CSQ: 20,99"]
    assert urcs == [("+CREG: 5", None)]


def test_two_line_urcs_carry_their_pdu() -> None:
    ch, _, urcs = channel(
        {
            "AT+COPS?": b'\r\n+CDS: 25\r\n07918497908952F006000B918406214365F7\r\n\r\n+COPS: 0,0,"Orange PL",7\r\n\r\nOK\r\n'
        }
    )
    assert ch.command("AT+COPS?", 2).lines == ['+COPS: 0,0,"Orange PL",7']
    assert urcs == [("+CDS: 25", "07918497908952F006000B918406214365F7")]


def test_pdu_send_waits_for_the_prompt() -> None:
    pdu = "0021000B918406214365F70000AA03C8340A"
    ch, modem, _ = channel({"AT+CMGS=17": b"\r\n> ", pdu + "\x1a": b"\r\n+CMGS: 42\r\n\r\nOK\r\n"})
    resp = ch.send_pdu(17, pdu, timeout=2)
    assert resp.lines == ["+CMGS: 42"]
    assert modem.written == ["AT+CMGS=17\r", pdu + "\x1a"]


def test_pdu_send_with_echo_on() -> None:
    pdu = "0021000B918406214365F70000AA03C8340A"
    ch, _, _ = channel({"AT+CMGS=17": b"\r\n> ", pdu + "\x1a": b"\r\n+CMGS: 7\r\n\r\nOK\r\n"}, echo=True)
    assert ch.send_pdu(17, pdu, timeout=2).lines == ["+CMGS: 7"]


def test_missing_prompt_cancels_with_escape() -> None:
    ch, modem, _ = channel({"AT+CMGS=17": None})
    with pytest.raises(ModemTimeoutError, match="prompt") as err:
        ch.send_pdu(17, "00", timeout=1, prompt_timeout=0.2)
    assert modem.written[-1] == "\x1b"
    assert not isinstance(err.value, SmsUnconfirmedError)  # nothing went out: safe to send again


def test_no_answer_after_the_pdu_went_out_is_unconfirmed_and_a_late_cmgs_is_a_urc() -> None:
    ch, modem, urcs = channel({"AT+CMGS=17": b"\r\n> ", "00\x1a": None})
    with pytest.raises(SmsUnconfirmedError, match="may have gone out"):
        ch.send_pdu(17, "00", timeout=0.3)
    modem.feed(b"\r\n+CMGS: 42\r\n\r\nOK\r\n")
    assert urcs == [("+CMGS: 42", None)]  # handed on, its OK dropped as a late answer


def test_an_ok_without_a_prompt_answers_an_earlier_send_and_nothing_goes_out() -> None:
    """A modem still busy with a timed-out send answers it when the next AT+CMGS comes."""
    ch, modem, urcs = channel({"AT+CMGS=17": b"\r\n+CMGS: 12\r\n\r\nOK\r\n"})
    with pytest.raises(ModemTimeoutError, match="earlier SMS") as err:
        ch.send_pdu(17, "00", timeout=2, prompt_timeout=1)
    assert not isinstance(err.value, SmsUnconfirmedError)  # this part never left: safe to send again
    assert "00\x1a" not in modem.written  # the PDU was not written after a stale answer
    assert urcs == [("+CMGS: 12", None)]  # the reference goes to the part it belongs to


def test_the_port_vanishing_after_the_pdu_went_out_is_unconfirmed() -> None:
    ch, modem, _ = channel({"AT+CMGS=17": b"\r\n> ", "00\x1a": None})
    threading.Timer(0.1, modem.vanish).start()
    with pytest.raises(SmsUnconfirmedError):
        ch.send_pdu(17, "00", timeout=2)


def test_cms_error_carries_its_code() -> None:
    ch, _, _ = channel({"AT+CMGS=17": b"\r\n> ", "00\x1a": b"\r\n+CMS ERROR: 331\r\n"})
    with pytest.raises(ModemCommandError, match="no network service") as err:
        ch.send_pdu(17, "00", timeout=2)
    assert (err.value.kind, err.value.code) == ("CMS", 331)


def test_unchecked_error_is_returned() -> None:
    ch, _, _ = channel({"AT+CEREG=2": b"\r\nERROR\r\n"})
    assert ch.command("AT+CEREG=2", 2, check=False).final.ok is False


def test_timeout_then_a_late_ok_is_not_taken_for_the_next_answer() -> None:
    ch, modem, _ = channel({"AT+COPS=0": None, "AT+CSQ": b"\r\n+CSQ: 9,99\r\n\r\nOK\r\n"})
    with pytest.raises(ModemTimeoutError, match="AT\\+COPS"):
        ch.command("AT+COPS=0", 0.2)
    modem.feed(b"\r\nOK\r\n")  # the slow answer to AT+COPS=0 turns up
    assert ch.command("AT+CSQ", 2).lines == ["+CSQ: 9,99"]


def test_dial_ends_with_busy() -> None:
    ch, _, urcs = channel({"ATD+48601234567;": b"\r\nBUSY\r\n"})
    with pytest.raises(ModemCommandError) as err:
        ch.command("ATD+48601234567;", 2, dialing=True)
    assert err.value.kind == "BUSY" and urcs == []
    assert "601234" not in str(err.value)  # the number never reaches logs or errors


def test_port_vanishing_fails_the_command_at_once() -> None:
    ch, modem, _ = channel({"AT+CLCC": None})
    threading.Timer(0.1, modem.vanish).start()
    start = time.monotonic()
    with pytest.raises(ModemGoneError):
        ch.command("AT+CLCC", 5)
    assert time.monotonic() - start < 2
    assert not ch.alive
    with pytest.raises(ModemGoneError):
        ch.command("AT", 1)


def test_bytes_may_arrive_in_any_pieces() -> None:
    ch, modem, _ = channel({"AT+CGSN": None})
    answer = b"\r\n866758041234567\r\n\r\nOK\r\n"

    def dribble() -> None:
        for i in range(len(answer)):
            modem.feed(answer[i : i + 1])

    threading.Timer(0.05, dribble).start()
    assert ch.command("AT+CGSN", 2).lines == ["866758041234567"]
