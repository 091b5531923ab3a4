"""The AT wire trace hides names and SMS bodies, not only digits (privacy: no
patient data in logs), and still shows the technical fields a technician needs."""

from __future__ import annotations

import logging

import pytest

from appliance.modem.trace import WIRE, WireMasker, WireTrace, mask_line

# (line as on the wire, exactly what the trace shows)
NAME_LINES = [
    # caller ID, in both the plain and the UCS-2 character set (a Korean name in hex)
    ('+CLIP: "+48601234567",145,"",0,"Anna Kowalska",0', '+CLIP: "+48******567",145,"",0,"*************",0'),
    ('+CLIP: "+48601234567",145,"",0,"",0', '+CLIP: "+48******567",145,"",0,"",0'),
    (
        '+CLIP: "002B0034003800360030003100320033003400350036",145,"",0,"AE40BBFCC9C0",0',
        '+CLIP: "********************************************",145,"",0,"************",0',
    ),
    ('+COLP: "+48601234567",145,"","","Jan Nowak"', '+COLP: "+48******567",145,"","","*********"'),
    ('+CNAP: "Anna Kowalska",0', '+CNAP: "*************",0'),
    # call list and call waiting
    ('+CLCC: 1,1,4,0,0,"+48601234567",145,"Anna Kowalska"', '+CLCC: 1,1,4,0,0,"+48******567",145,"*************"'),
    ('+CLCC: 2,0,0,0,0,"601234567",129,"Dr Nowak",,0', '+CLCC: 2,0,0,0,0,"6*****567",129,"********",,0'),
    ('+CCWA: "+48601234567",145,1,"Anna Kowalska",0', '+CCWA: "+48******567",145,1,"*************",0'),
    # phone book (Polish name in UCS-2 hex: "Łucja"), own number
    ('+CPBR: 1,"+48601234567",145,"Anna Kowalska"', '+CPBR: 1,"+48******567",145,"*************"'),
    ('+CPBR: 2,"+48601234567",145,"014100750063006A0061"', '+CPBR: 2,"+48******567",145,"********************"'),
    ('+CPBF: 3,"601234567",129,"Dr Zofia Wiśniewska"', '+CPBF: 3,"6*****567",129,"*******************"'),
    ('+CNUM: "Recepcja","+48221234567",145', '+CNUM: "********","+48******567",145'),
    ('+CNUM: "","+48221234567",145', '+CNUM: "","+48******567",145'),
    # text-mode SMS headers: status and time stay, the alpha field goes
    (
        '+CMT: "+48601234567","Anna K","24/01/15,10:00:00+04"',
        '+CMT: "+48******567","******","24/01/15,10:00:00+04"',
    ),
    (
        '+CMGR: "REC UNREAD","+48601234567","Anna","24/01/15,10:00:00+04"',
        '+CMGR: "REC UNREAD","+48******567","****","24/01/15,10:00:00+04"',
    ),
    (
        '+CMGL: 1,"REC READ","+48601234567","Anna Kowalska","24/01/15,10:00:00+04"',
        '+CMGL: 1,"REC READ","+48******567","*************","24/01/15,10:00:00+04"',
    ),
    # the box's own commands (and their echo) carrying names
    ('AT+CPBW=1,"+48601234567",145,"Anna Kowalska"', 'AT+CPBW=1,"+48******567",145,"*************"'),
    ('AT+CPBF="Kowalska"', 'AT+CPBF="********"'),
    ('ATD>"Anna Kowalska";', 'ATD>"*************";'),
    ('AT+CMGS="+48601234567"', 'AT+CMGS="+48******567"'),
    # a line cut short in the middle of a name
    ('+CLIP: "+48601234567",145,"",0,"Anna', '+CLIP: "+48******567",145,"",0,"****'),
    # technical fields stay readable
    ('+COPS: 0,0,"Orange PL",7', '+COPS: 0,0,"Orange PL",7'),
    ('+CPMS: "SM",1,30,"SM",1,30,"SM",1,30', '+CPMS: "SM",1,30,"SM",1,30,"SM",1,30'),
    ('AT+CPMS="SM","SM","SM"', 'AT+CPMS="SM","SM","SM"'),
    ('+CMTI: "SM",3', '+CMTI: "SM",3'),
    ('+CEREG: 2,1,"1A2B","01A2B3C4",7', '+CEREG: 2,1,"1A2B","01A2B3C4",7'),
    ('+CSCS: "UCS2"', '+CSCS: "UCS2"'),
    ('+CPINR: "SIM PIN",2,3', '+CPINR: "SIM PIN",2,3'),
    ('+QPINC: "SC",2,10', '+QPINC: "SC",2,10'),
    ('+CCLK: "24/01/15,10:00:00+04"', '+CCLK: "24/01/15,10:00:00+04"'),
    ('AT+VTS="5"', 'AT+VTS="5"'),
    ('AT+CSCA="+48790998250"', 'AT+CSCA="+48******250"'),
]


@pytest.mark.parametrize(("line", "shown"), NAME_LINES)
def test_quoted_fields_that_can_carry_a_name_are_starred(line: str, shown: str) -> None:
    assert mask_line(line) == shown
    assert len(mask_line(line)) == len(line.strip())  # masking keeps every field's length


# (direction, lines in order, what each shows); bodies only the line before announces
SEQUENCES = [
    (
        "received",
        ['+CMT: "+48601234567","","24/01/15,10:00:00+04"', "Potwierdzam wizyte. Anna", "RING"],
        ['+CMT: "+48******567","","24/01/15,10:00:00+04"', "<24 chars>", "RING"],
    ),
    (
        "received",
        ["+CMT: ,23", "07918497908952F0040B918406214365F70000621122705235000AE8329BFD4697D9EC37", "OK"],
        ["+CMT: ,23", "<PDU 36 octets>", "OK"],
    ),
    (
        "received",
        [
            '+CMGR: "REC READ","+48601234567","","24/01/15,10:00:00+04"',
            "Odwoluje wizyte,",
            "Jan Nowak",
            "OK",
            '+CLIP: "+48601234567",145,"",0,"",0',
        ],
        [
            '+CMGR: "REC READ","+48******567","","24/01/15,10:00:00+04"',
            "<16 chars>",
            "<9 chars>",
            "OK",
            '+CLIP: "+48******567",145,"",0,"",0',
        ],
    ),
    (
        "received",
        [
            '+CMGL: 1,"REC UNREAD","+48601234567","","24/01/15,10:00:00+04"',
            "TAK",
            '+CMGL: 2,"REC UNREAD","+48607654321","","24/01/15,10:05:00+04"',
            "Zofia Wisniewska, nie przyjde",
            "OK",
            "+CSQ: 21,99",
        ],
        [
            '+CMGL: 1,"REC UNREAD","+48******567","","24/01/15,10:00:00+04"',
            "<3 chars>",
            '+CMGL: 2,"REC UNREAD","+48******321","","24/01/15,10:05:00+04"',
            "<29 chars>",
            "OK",
            "+CSQ: 21,99",
        ],
    ),
    (
        "received",
        ["+CMGL: 0,1,,23", "0011000B918406214365F70000AA05E8329BFD06", "+CME ERROR: 321", "RING"],
        ["+CMGL: 0,1,,23", "<PDU 20 octets>", "+CME ERROR: 321", "RING"],
    ),
    (
        "received",  # a text-mode delivery report is one line: the next line is not a body
        ['+CDS: 6,46,"+48601234567",145,"24/01/15,10:00:00+04","24/01/15,10:00:05+04",0', "RING"],
        ['+CDS: 6,46,"+48******567",145,"24/01/15,10:00:00+04","24/01/15,10:00:05+04",0', "RING"],
    ),
    ("received", ["> Wizyta jutro o 10:00, Anna\x1a"], ["> <26 chars>"]),
    (
        "sent",
        ['AT+CMGS="+48601234567",145', "Wizyta jutro o 10:00, Anna Kowalska", "AT+CSQ"],
        ['AT+CMGS="+48******567",145', "<35 chars>", "AT+CSQ"],
    ),
    (
        "sent",
        ["AT+CMGS=23", "0011000B918406214365F70000AA05E8329BFD06", "AT+CMGD=3"],
        ["AT+CMGS=23", "<PDU 20 octets>", "AT+CMGD=3"],
    ),
    ("sent", ['AT+CMGW="+48601234567"', "Przypomnienie"], ['AT+CMGW="+48******567"', "<13 chars>"]),
]


@pytest.mark.parametrize(("direction", "lines", "shown"), SEQUENCES)
def test_sms_bodies_are_masked_in_either_mode_and_direction(direction: str, lines: list[str], shown: list[str]) -> None:
    masker = WireMasker(direction)
    assert [masker.mask(line) for line in lines] == shown


def test_a_masker_knows_only_two_directions() -> None:
    with pytest.raises(ValueError, match="direction"):
        WireMasker("both")


def test_trace_log_carries_neither_names_nor_bodies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=WIRE.name)
    trace = WireTrace(True)
    trace.sent('AT+CPBW=1,"+48601234567",145,"Anna Kowalska"')
    trace.received('+CLIP: "+48601234567",145,"",0,"Anna Kowalska",0')
    trace.received('+CMT: "+48601234567","","24/01/15,10:00:00+04"')
    trace.received("Anna Kowalska potwierdza")
    trace.sent('AT+CMGS="+48601234567"')
    trace.sent("Pani Anno, wizyta jutro")
    assert len(caplog.records) == 6
    for word in ("Anna", "Kowalska", "Anno", "wizyta", "601234"):
        assert word not in caplog.text
    assert '"*************"' in caplog.text and "<24 chars>" in caplog.text and "<23 chars>" in caplog.text
