"""The AT wire trace never shows patient data."""

from __future__ import annotations

import logging

import pytest

from appliance.modem.trace import WIRE, WireTrace, mask_line


@pytest.mark.parametrize(
    ("line", "shown", "hidden"),
    [
        ("ATD+48601234567;", "ATD+48******567;", "601234"),
        ('+CLIP: "+48601234567",145,"",0,"",0', '+CLIP: "+48******567"', "601234"),
        ('+CLCC: 1,1,4,0,0,"601234567",129', "6*****567", "601234"),
        ('AT+CPIN="1234"', "AT+CPIN=<pin>", "1234"),
        ('AT+CLCK="SC",0,"9876"', "AT+CLCK=<secret>", "9876"),
        ("07918497908952F0040B918406214365F70000621122705235000AE8329BFD4697D9EC37", "<PDU 36 octets>", "E8329B"),
        ("> 0011000B918406214365F70000AA05E8329BFD06\x1a", "<PDU", "E8329B"),
        ('+CUSD: 0,"Saldo 10 zł, nr 601234567",15', '+CUSD: 0,"<25 chars>",15', "Saldo"),
        ("+CSQ: 21,99", "+CSQ: 21,99", "@@"),
        ("AT+CMGS=23", "AT+CMGS=23", "@@"),
    ],
)
def test_masking(line: str, shown: str, hidden: str) -> None:
    masked = mask_line(line)
    assert shown in masked
    assert hidden not in masked


def test_trace_is_off_by_default_and_masks_when_on(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=WIRE.name)
    WireTrace(False).sent("ATD+48601234567;")
    assert caplog.records == []
    WireTrace(True).received('+CLIP: "+48601234567",145')
    assert len(caplog.records) == 1
    assert "601234" not in caplog.text and "+48******567" in caplog.text
