"""Reading messages from the storage a notice names, and never from the wrong one
(the driver against a scripted AT channel)."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.config import load_config
from appliance.errors import ModemTimeoutError
from appliance.modem.channel import Response
from appliance.modem.driver import Modem
from appliance.modem.wire import at

OK = at.Final(True, "OK", None, "OK")
ERROR = at.Final(False, "CMS", 314, "+CMS ERROR: 314")  # SIM busy


class ScriptedChannel:
    """Answers each command from ``answers`` (command -> list of finals, used in turn); OK otherwise."""

    alive = True

    def __init__(self, answers: dict[str, list[at.Final | Exception]] | None = None) -> None:
        self.answers = answers or {}
        self.sent: list[str] = []

    def command(self, text: str, timeout: float, check: bool = True, **_: Any) -> Response:
        self.sent.append(text)
        queue = self.answers.get(text)
        final = queue.pop(0) if queue else OK
        if isinstance(final, Exception):
            raise final
        lines = ["+CMGR: 0,,6", "0001000A81"] if text.startswith("AT+CMGR") else []
        return Response(text, lines, final)

    def close(self) -> None:
        pass


def modem(channel: ScriptedChannel) -> Modem:
    m = Modem(load_config(use_secrets=False).modem, hardware=None, on_urc=lambda line, pdu: None)  # type: ignore[arg-type]
    m.channel = channel  # type: ignore[assignment]
    return m


def test_a_report_is_read_and_deleted_in_sr_and_the_modem_is_pointed_back() -> None:
    ch = ScriptedChannel()
    m = modem(ch)
    m.read_stored(3, "SR")
    m.delete_stored(3, "SR")
    assert ch.sent == [
        'AT+CPMS="SR"', "AT+CMGR=3", 'AT+CPMS="SM"',
        'AT+CPMS="SR"', "AT+CMGD=3", 'AT+CPMS="SM"',
    ]  # fmt: skip
    ch.sent.clear()
    m.read_stored(4)
    assert ch.sent == ["AT+CMGR=4"]  # already pointed at the SIM: no extra command


@pytest.mark.parametrize("failure", [ERROR, ModemTimeoutError("no answer to AT+CPMS")])
def test_when_pointing_back_fails_the_next_read_points_again_first(failure: at.Final | Exception) -> None:
    ch = ScriptedChannel({'AT+CPMS="SM"': [failure]})
    m = modem(ch)
    m._pointed_at = "SM"
    m.read_stored(3, "SR")  # the report is read; the switch back to the SIM fails
    ch.sent.clear()
    m.read_stored(5)  # a new SMS on the SIM: it must not be read from "SR" slot 5
    assert ch.sent == ['AT+CPMS="SM"', "AT+CMGR=5"]


def test_a_garbled_storage_name_is_refused_before_anything_is_sent() -> None:
    ch = ScriptedChannel()
    with pytest.raises(Exception, match="not a message storage"):
        modem(ch).read_stored(1, 'S"R')
    assert ch.sent == []
