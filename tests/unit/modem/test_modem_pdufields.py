"""PDU fields: semi-octets, addresses, time stamps, DCS, UDH, validity (TS 23.040)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from appliance.modem.wire.pdufields import (
    Concat,
    PduError,
    Reader,
    build_udh,
    dcs_alphabet,
    decode_address,
    decode_semi_octets,
    decode_timestamp,
    encode_address,
    encode_semi_octets,
    encode_smsc,
    encode_timestamp,
    parse_udh,
    relative_validity,
    validity_hours,
)


@pytest.mark.parametrize(
    ("digits", "octets"),
    [("15125551234", "51215515 32F4"), ("123", "21F3"), ("1234", "2143"), ("*#1", "BAF1")],
)
def test_semi_octets(digits: str, octets: str) -> None:
    raw = bytes.fromhex(octets.replace(" ", ""))
    assert encode_semi_octets(digits) == raw
    assert decode_semi_octets(raw) == digits


@pytest.mark.parametrize(
    ("number", "field"),
    [
        ("+9876543210", "0A918967452301"),
        ("+987654321", "099189674523F1"),
        ("+27829135934", "0B917228195339F4"),
        ("0129998765", "0A811092997856"),
    ],
)
def test_address_round_trip(number: str, field: str) -> None:
    assert encode_address(number).hex().upper() == field
    assert decode_address(Reader(bytes.fromhex(field)), "TP-DA") == number


@pytest.mark.parametrize(("field", "text"), [("0ED04669D0397C26A7", "FRANCOIS"), ("06D061F118", "abc")])
def test_alphanumeric_addresses(field: str, text: str) -> None:
    assert decode_address(Reader(bytes.fromhex(field)), "TP-OA") == text


def test_smsc_field() -> None:
    assert encode_smsc("").hex() == "00"
    assert encode_smsc("+9876543210").hex().upper() == "06918967452301"


@pytest.mark.parametrize(
    ("moment", "quarters", "raw"),
    [
        (datetime(2015, 11, 27, 0, 0, tzinfo=UTC), 0, "51117200000000"),
        (datetime(2015, 11, 27, 0, 0, tzinfo=timezone(timedelta(hours=2))), 8, "51117200000080"),
        (datetime(2007, 4, 12, 23, 25, 42, tzinfo=timezone(timedelta(hours=8))), 32, "70402132522423"),
        (datetime(2007, 4, 12, 23, 25, 42, tzinfo=timezone(timedelta(hours=-8))), -32, "7040213252242B"),
    ],
)
def test_timestamps(moment: datetime, quarters: int, raw: str) -> None:
    assert encode_timestamp(moment, quarters).hex().upper() == raw
    assert decode_timestamp(Reader(bytes.fromhex(raw)), "TP-SCTS") == moment


def test_bad_timestamp_is_a_clear_error() -> None:
    with pytest.raises(PduError, match="TP-SCTS is not a valid time stamp"):
        decode_timestamp(Reader(bytes.fromhex("51317200000000")), "TP-SCTS")  # month 13


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [
        (0x00, "gsm7"),
        (0x08, "ucs2"),
        (0x04, "8bit"),
        (0x10, "gsm7"),
        (0x18, "ucs2"),
        (0xF0, "gsm7"),
        (0xF4, "8bit"),
        (0xC0, "gsm7"),
        (0xE0, "ucs2"),
        (0x48, "ucs2"),
    ],
)
def test_dcs(dcs: int, alphabet: str) -> None:
    assert dcs_alphabet(dcs) == alphabet


def test_compressed_sms_is_refused() -> None:
    with pytest.raises(PduError, match="compressed"):
        dcs_alphabet(0x20)


@pytest.mark.parametrize(
    ("header", "concat"),
    [
        ("0003170301", Concat(23, 3, 1)),  # 8-bit reference
        ("080401800402", Concat(384, 4, 2)),  # 16-bit reference
        ("04026432" + "0003170302", Concat(23, 3, 2)),  # port addressing first, then concat
        ("0003170300", None),  # part 0 does not exist
        ("0003170304", None),  # part 4 of 3
        ("04026432", None),
    ],
)
def test_udh(header: str, concat: Concat | None) -> None:
    assert parse_udh(bytes.fromhex(header)) == concat


def test_udh_build_and_truncated_element() -> None:
    assert build_udh(Concat(7, 3, 2)).hex() == "050003070302"
    with pytest.raises(PduError):
        parse_udh(bytes.fromhex("000317"))


@pytest.mark.parametrize(
    ("hours", "vp"), [(0.5, 5), (1, 11), (12, 143), (16, 151), (24, 167), (48, 168), (72, 169), (35 * 24, 197)]
)
def test_relative_validity(hours: float, vp: int) -> None:
    assert relative_validity(hours) == vp
    assert validity_hours(vp) >= hours


def test_reader_names_the_field_that_ran_short() -> None:
    r = Reader(b"\x01")
    r.octet("first")
    with pytest.raises(PduError, match="before TP-PID"):
        r.octet("TP-PID")
