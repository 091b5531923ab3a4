"""Information lines of real modems (Quectel EC25, SIMCom SIM7600, Huawei E3372)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.modem.wire import atparse
from appliance.modem.wire.atparse import AtParseError, CallInfo


@pytest.mark.parametrize(
    ("line", "values"),
    [
        ('+CLIP: "+48601234567",145,"",0,"",0', ["+48601234567", 145, "", 0, "", 0]),
        ("+CSQ: 21,99", [21, 99]),
        ('+COPS: 0,0,"Orange PL",7', [0, 0, "Orange PL", 7]),
        ('+CMT: "",23', ["", 23]),
        ("+CMT: ,23", [None, 23]),
        ('+CUSD: 0,"Saldo: 10,00 zł, ważne do 01.04",15', [0, "Saldo: 10,00 zł, ważne do 01.04", 15]),
        ("^RSSI:18", [18]),
        ("+CMGL: 3,0,,159", [3, 0, None, 159]),
    ],
)
def test_params(line: str, values: list[object]) -> None:
    assert atparse.params(line) == values


def test_unterminated_quote_is_an_error() -> None:
    with pytest.raises(AtParseError, match="unterminated"):
        atparse.params('+COPS: 0,0,"Orange')


@pytest.mark.parametrize(
    ("line", "dbm", "bars", "known"),
    [
        ("+CSQ: 31,99", -51, 5, True),
        ("+CSQ: 21,99", -71, 3, True),
        ("+CSQ: 2,0", -109, 0, True),
        ("+CSQ: 99,99", None, 0, False),
    ],
)
def test_csq(line: str, dbm: int | None, bars: int, known: bool) -> None:
    sig = atparse.csq(line)
    assert (sig.dbm, sig.bars, sig.known) == (dbm, bars, known)


@pytest.mark.parametrize(
    ("line", "name", "act"),
    [
        ('+COPS: 0,0,"Orange PL",7', "Orange PL", 7),  # EC25
        ('+COPS: 0,0,"CHINA MOBILE CMCC",7', "CHINA MOBILE CMCC", 7),  # SIM7600
        ('+COPS: 0,0,"Turkcell",2', "Turkcell", 2),
        ("+COPS: 0", "", None),  # not registered
    ],
)
def test_cops(line: str, name: str, act: int | None) -> None:
    op = atparse.cops(line)
    assert (op.name, op.act) == (name, act)


@pytest.mark.parametrize(
    ("line", "urc", "stat", "registered", "voice", "lac"),
    [
        ('+CREG: 2,1,"2B5C","0303C93",7', False, 1, True, True, "2B5C"),
        ("+CREG: 0,5", False, 5, True, True, ""),
        ("+CREG: 1", False, 1, True, True, ""),  # firmware that leaves out <n>
        ("+CREG: 2,2", False, 2, False, False, ""),
        ('+CEREG: 2,3,"FFFE","0000000",7', False, 3, False, False, "FFFE"),
        ("+CREG: 1", True, 1, True, True, ""),
        ('+CEREG: 5,"2B5C","0303C93",7', True, 5, True, True, "2B5C"),
        ("+CEREG: 0", True, 0, False, False, ""),
        ("+CEREG: 2,6", False, 6, True, False, ""),  # SMS only
    ],
)
def test_registration(line: str, urc: bool, stat: int, registered: bool, voice: bool, lac: str) -> None:
    reg = atparse.registration(line, urc=urc)
    assert (reg.stat, reg.registered, reg.voice, reg.lac) == (stat, registered, voice, lac)


def test_registration_names() -> None:
    assert atparse.registration("+CREG: 0,3", urc=False).name == "denied"
    assert atparse.registration("+CREG: 0,42", urc=False).name == "state 42"


def test_clcc() -> None:
    lines = [
        '+CLCC: 1,1,4,0,0,"601234567",129',
        '+CLCC: 2,0,0,0,0,"48601234567",145,""',
        "+CLCC: 3,0,2,1,0,,0",  # a data call: not voice
        "OK",
    ]
    assert atparse.clcc(lines) == [
        CallInfo(1, False, "incoming", True, "601234567"),
        CallInfo(2, True, "active", True, "+48601234567"),
        CallInfo(3, True, "dialing", False, ""),
    ]
    assert atparse.clcc([]) == []


@pytest.mark.parametrize(
    ("line", "number", "withheld"),
    [
        ('+CLIP: "+48601234567",145,"",0,"",0', "+48601234567", False),
        ('+CLIP: "48601234567",145,,,,0', "+48601234567", False),
        ('+CLIP: "0601234567",129,"",0,"",0', "0601234567", False),
        ('+CLIP: "",128,"",0,"",1', "", True),  # withheld
        ('+CLIP: "",128,,,,2', "", True),  # not available
    ],
)
def test_clip(line: str, number: str, withheld: bool) -> None:
    cid = atparse.clip(line)
    assert (cid.number, cid.withheld) == (number, withheld)


@pytest.mark.parametrize(
    ("line", "number", "withheld"),
    [
        ('+CCWA: "+48601234567",145,1', "+48601234567", False),  # EC25
        ('+CCWA: "48601234567",145,1,"",0', "+48601234567", False),  # SIM7600, international without +
        ('+CCWA: "0601234567",129,1,,0', "0601234567", False),
        ('+CCWA: "",128,1,,1', "", True),  # withheld
        ('+CCWA: "",128,1,,2', "", True),  # not available
    ],
)
def test_ccwa(line: str, number: str, withheld: bool) -> None:
    cid = atparse.ccwa(line)
    assert (cid.number, cid.withheld) == (number, withheld)


def test_sms_lines() -> None:
    assert atparse.cmti('+CMTI: "SM",3') == atparse.StoredRef("SM", 3)
    assert atparse.cmti('+CMTI: "ME",12') == atparse.StoredRef("ME", 12)
    assert atparse.pdu_header_length("+CMT: ,33") == 33
    assert atparse.pdu_header_length('+CMT: "",33') == 33
    assert atparse.pdu_header_length("+CDS: 25") == 25
    assert atparse.cmgs("+CMGS: 214") == 214
    with pytest.raises(AtParseError):
        atparse.cmgs("+CMGS:")


def test_cmgl_and_cmgr() -> None:
    lines = [
        "+CMGL: 0,1,,23",
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
        "+CMGL: 4,0,,5",
        "00AB",
        "OK",
    ]
    stored = atparse.cmgl(lines)
    assert [(s.index, s.stat, s.length) for s in stored] == [(0, 1, 23), (4, 0, 5)]
    assert stored[1].pdu == "00AB"
    got = atparse.cmgr(7, ["+CMGR: 0,,23", "07911326040000F0"])
    assert (got.index, got.stat, got.length, got.pdu) == (7, 0, 23, "07911326040000F0")
    with pytest.raises(AtParseError, match="empty"):
        atparse.cmgr(9, [])


@pytest.mark.parametrize(
    ("line", "status", "text"),
    [
        ('+CUSD: 0,"Balance 10.00 EUR",15', 0, "Balance 10.00 EUR"),
        ('+CUSD: 0,"00420061006C0061006E00630065",72', 0, "Balance"),  # Huawei sends UCS-2 as hex
        ('+CUSD: 2,"bye",15', 2, "bye"),
    ],
)
def test_cusd(line: str, status: int, text: str) -> None:
    u = atparse.cusd(line)
    assert (u.status, u.text) == (status, text)


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("+CPIN: READY", "READY"),
        ("+CPIN: SIM PIN", "SIM PIN"),
        ("+CPIN: SIM PUK", "SIM PUK"),
        ('+CPIN: "NOT INSERTED"', "NOT INSERTED"),
    ],
)
def test_cpin(line: str, status: str) -> None:
    assert atparse.cpin(line) == status


@pytest.mark.parametrize(
    "lines",
    [["866758041234567"], ['+CGSN: "866758041234567"'], ["+CGSN: 866758041234567"], ["", "866758041234567"]],
)
def test_imei(lines: list[str]) -> None:
    assert atparse.imei(lines) == "866758041234567"


def test_imei_missing() -> None:
    with pytest.raises(AtParseError):
        atparse.imei(["ERROR"])


@pytest.mark.parametrize(
    ("line", "utc"),
    [
        ('+CCLK: "26/03/02,10:00:00+04"', datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),  # EC25, Warsaw winter
        ('+CCLK: "26/03/02,18:00:00+36"', datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),  # Seoul +9h
        ('+CCLK: "26/03/02,04:00:00-20"', datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),  # New York -5h
        ('+CCLK: "26/03/02,09:00:00+00"', datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ('+CCLK: "2026/03/02,17:00:00+32"', datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),  # 4-digit year
        ('+CCLK: "80/01/06,00:01:30+00"', datetime(1980, 1, 6, 0, 1, 30, tzinfo=UTC)),  # never set by NITZ
    ],
)
def test_cclk(line: str, utc: datetime) -> None:
    assert atparse.cclk(line) == utc


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('+CCLK: "26/03/02,10:00:00"', "no time zone"),
        ('+CCLK: "26/13/40,10:00:00+04"', "impossible"),
        ("+CCLK: ", "no time"),
    ],
)
def test_cclk_refuses_what_it_cannot_trust(line: str, message: str) -> None:
    with pytest.raises(AtParseError, match=message):
        atparse.cclk(line)


def test_first_text() -> None:
    assert atparse.first_text(["Quectel"]) == "Quectel"
    assert atparse.first_text(['+CGMI: "SIMCOM INCORPORATED"']) == "SIMCOM INCORPORATED"
    assert atparse.first_text([]) == ""
