"""AT response framing: final result codes and URCs interleaved with answers."""

from __future__ import annotations

import pytest

from appliance.modem.wire import at
from appliance.modem.wire.at import Final, expected_prefixes, final_result, is_urc


@pytest.mark.parametrize(
    ("line", "dialing", "expected"),
    [
        ("OK", False, Final(True, "OK", None, "OK")),
        ("  OK  ", False, Final(True, "OK", None, "OK")),
        ("ERROR", False, Final(False, "ERROR", None, "ERROR")),
        ("+CME ERROR: 10", False, Final(False, "CME", 10, "+CME ERROR: 10")),
        ("+CME ERROR: SIM not inserted", False, Final(False, "CME", 10, "+CME ERROR: SIM not inserted")),
        ("+CME ERROR: incorrect password", False, Final(False, "CME", 16, "+CME ERROR: incorrect password")),
        ("+CMS ERROR: 500", False, Final(False, "CMS", 500, "+CMS ERROR: 500")),
        ("+CMS ERROR: 331", False, Final(False, "CMS", 331, "+CMS ERROR: 331")),
        ("NO CARRIER", True, Final(False, "NO CARRIER", None, "NO CARRIER")),
        ("BUSY", True, Final(False, "BUSY", None, "BUSY")),
        ("NO ANSWER", True, Final(False, "NO ANSWER", None, "NO ANSWER")),
        ("NO DIALTONE", True, Final(False, "NO DIALTONE", None, "NO DIALTONE")),
        ("COMMAND NOT SUPPORT", False, Final(False, "ERROR", None, "COMMAND NOT SUPPORT")),
        ("NO CARRIER", False, None),  # not dialing: the far end hung up (a URC)
        ("+CSQ: 20,99", False, None),
        ("OKAY", False, None),
        ("", False, None),
    ],
)
def test_final_result(line: str, dialing: bool, expected: Final | None) -> None:
    assert final_result(line, dialing=dialing) == expected


# (line, prefixes of the command in flight, dialing, is it a URC?)
URC_TABLE = [
    # Quectel EC25
    ("RDY", ("+CSQ:",), False, True),
    ('+QIND: "csq",20,99', ("+CSQ:",), False, True),
    ("+QIND: SMS DONE", (), False, True),
    ('+CTZE: "+04",0,"2026/03/02,09:00:00"', ("+CCLK:",), False, True),
    ("+CPIN: READY", ("+CSQ:",), False, True),
    ("+CPIN: READY", ("+CPIN:",), False, False),
    ('+CMTI: "SM",3', ("+CMGL:",), False, True),
    ("+CMGL: 0,1,,23", ("+CMGL:",), False, False),
    ("07918497908952F0040B918406214365F70000", ("+CMGL:",), False, False),  # the PDU line of an answer
    # SIMCom SIM7600
    ("SMS DONE", (), False, True),
    ("PB DONE", ("+CSQ:",), False, True),
    ("*ATREADY: 1", (), False, True),
    ("VOICE CALL: BEGIN", ("+CLCC:",), False, True),
    ("VOICE CALL: END: 000023", ("+CLCC:",), False, True),
    ("MISSED_CALL: 10:31AM 13812345678", (), False, True),
    ('*PSUTTZ: 2026,3,2,9,0,0,"+32",0', ("+CSQ:",), False, True),
    ("DST: 0", (), False, True),
    ("+CGEV: EPS PDN ACT 1", ("+COPS:",), False, True),
    ('+CLCC: 1,1,4,0,0,"13812345678",129', ("+CLCC:",), False, False),
    ('+CLCC: 1,1,4,0,0,"13812345678",129', ("+CSQ:",), False, True),  # AT+CLCC=1 reports
    # Huawei E3372 / E173
    ("^RSSI:18", ("+CSQ:",), False, True),
    ("^MODE:5,4", (), False, True),
    ('^HCSQ:"LTE",50,43,120,19', ("+COPS:",), False, True),
    ("^BOOT:20341523,0,0,0,72", ("+CGSN:",), False, True),
    ("^CEND:1,0,104,16", (), False, True),
    ("^DSFLOWRPT:00000C2E,00000000,00000000", ("+CMGS:",), False, True),
    # 27.007 / 27.005
    ("RING", ("+CSQ:",), False, True),
    ("+CRING: VOICE", (), False, True),
    ('+CLIP: "+48601234567",145,"",0,"",0', ("+CSQ:",), False, True),
    ("+CREG: 1", ("+CSQ:",), False, True),
    ('+CREG: 2,1,"2B5C","0303C93",7', ("+CREG:",), False, False),
    ('+CEREG: 5,"2B5C","0303C93",7', ("+CREG:",), False, True),
    ('+CUSD: 0,"Balance 10.00",15', (), False, True),
    ("+CDS: 25", ("+CMGS:",), False, True),
    ("+CMT: ,33", ("+CMGR:",), False, True),
    ("+CMGS: 12", ("+CMGS:",), False, False),
    ("NO CARRIER", ("+CLCC:",), False, True),
    ("NO CARRIER", (), True, False),  # ends the ATD in flight
    ("BUSY", (), True, False),
    # bare answers are never URCs
    ("866758041234567", (), False, False),
    ("Quectel", (), False, False),
    ("Revision: EC25EFAR06A08M4G", (), False, False),
    ("ICCID: 8948022123456789012", (), False, False),
    ("+CME ERROR: 10", ("+CSQ:",), False, False),  # a final result, not a URC
]


@pytest.mark.parametrize(("line", "expect", "dialing", "urc"), URC_TABLE)
def test_urc_classification_while_a_command_is_in_flight(
    line: str, expect: tuple[str, ...], dialing: bool, urc: bool
) -> None:
    assert is_urc(line, expect, busy=True, dialing=dialing) is urc


def test_every_line_is_a_urc_when_no_command_is_in_flight() -> None:
    assert is_urc("+CSQ: 20,99", busy=False)
    assert is_urc("Quectel", busy=False)
    assert not is_urc("   ", busy=False)


@pytest.mark.parametrize(
    ("command", "prefixes"),
    [
        ("AT+CSQ", ("+CSQ:", "+CSQ :")),
        ("AT+CREG?", ("+CREG:", "+CREG :")),
        ('AT+CPMS="SM","SM","SM"', ("+CPMS:", "+CPMS :")),
        ("AT+CMGL=4", ("+CMGL:",)),
        ("at+cmgr=3", ("+CMGR:",)),
        ("AT^SYSCFGEX?", ("^SYSCFGEX:", "^SYSCFGEX :")),
        ("ATD+48601234567;", ()),
        ("AT", ()),
        ("ATE0", ()),
    ],
)
def test_expected_prefixes(command: str, prefixes: tuple[str, ...]) -> None:
    assert expected_prefixes(command) == prefixes


def test_two_line_urcs_are_the_pdu_carrying_ones() -> None:
    assert "+CMT:" in at.TWO_LINE_URCS and "+CDS:" in at.TWO_LINE_URCS
    assert not "+CMTI: x".startswith(at.TWO_LINE_URCS)


@pytest.mark.parametrize(
    ("line", "meaning"),
    [
        ("+CMS ERROR: 331", "no network service"),
        ("+CME ERROR: 16", "incorrect password"),
        ("+CMS ERROR: 9999", None),
    ],
)
def test_errors_are_described(line: str, meaning: str | None) -> None:
    final = final_result(line)
    assert final is not None
    text = at.describe(final)
    assert text.startswith(line)
    if meaning:
        assert meaning in text
    else:
        assert text == line


def test_permanent_cms_errors_are_the_ones_a_retry_cannot_fix() -> None:
    assert 1 in at.PERMANENT_CMS and 304 in at.PERMANENT_CMS
    for temporary in (38, 41, 42, 47, 331, 332, 500):
        assert temporary not in at.PERMANENT_CMS
