"""GSM 7-bit alphabet and septet packing (3GPP TS 23.038), against published vectors."""

from __future__ import annotations

import pytest

from appliance.modem.wire import gsm7
from appliance.modem.wire.gsm7 import EncodingError

# (text, septet values, packed octets): vectors published with python-gsmmodem's
# test suite and in the widely used dreamfabric PDU tutorial ("hellohello").
VECTORS = [
    ("123", "313233", "31D90C"),
    ("12345678", "3132333435363738", "31D98C56B3DD70"),
    ("123456789", "313233343536373839", "31D98C56B3DD7039"),
    ("Hello World!", "48656C6C6F20576F726C6421", "C8329BFD065DDF72363904"),
    ("hellohello", "68656C6C6F68656C6C6F", "E8329BFD4697D9EC37"),
    ("[{abc}]~", "1B3C1B286162631B291B3E1B3D", "1BDE0615168F37A98D6FD303"),
    ("{åΦΓΛΩΠΨΣΘ€}", "1B280F12131415161718191B651B29", "1BD44332A1542C174C6653DEA400"),
    ("a[]{}€", "611B3C1B3E1B281B291B65", "E10D6FE3DBA036A94D19"),
]


@pytest.mark.parametrize(("text", "septets", "packed"), VECTORS)
def test_encode_and_pack(text: str, septets: str, packed: str) -> None:
    assert gsm7.to_septets(text).hex().upper() == septets
    assert gsm7.pack(gsm7.to_septets(text)).hex().upper() == packed


@pytest.mark.parametrize(("text", "septets", "packed"), VECTORS)
def test_unpack_and_decode(text: str, septets: str, packed: str) -> None:
    count = len(bytes.fromhex(septets))
    assert gsm7.from_septets(gsm7.unpack(bytes.fromhex(packed), count)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", True),
        ("Señor, ¿qué tal? Ñandú", False),  # ñ, ¿ and é have codes; ú does not
        ("Müller Øresund Ålesund ÄÖÜß", True),
        ("price 10€ {x} [y] ~z^ |w| \\", True),
        ("Zażółć", False),  # Polish ż, ó, ł, ć
        ("Şükrü", False),  # Turkish ş
        ("ılık", False),  # dotless ı
        ("안녕하세요", False),
        ("您好", False),
        ("ok 👍", False),
        ("ç", False),  # only capital Ç has a code; lowercase needs UCS-2
        ("ΔΦΓΛΩΠΨΣΘΞ", True),
        ("", True),
    ],
)
def test_is_gsm7(text: str, expected: bool) -> None:
    assert gsm7.is_gsm7(text) is expected


def test_extension_characters_count_two_septets() -> None:
    assert gsm7.septet_length("abc") == 3
    assert gsm7.septet_length("{€}") == 6
    assert gsm7.char_septets("€") == 2 and gsm7.char_septets("e") == 1


def test_fill_bits_shift_the_text_after_a_header() -> None:
    septets = gsm7.to_septets("hi")
    packed = gsm7.pack(septets, fill_bits=1)
    # 1 fill bit + 14 bits of text = 15 bits -> 2 octets; unpacking after one
    # "header septet" of 7 bits is not the same alignment, so do it by hand:
    value = int.from_bytes(packed, "little") >> 1
    assert [value & 0x7F, (value >> 7) & 0x7F] == list(septets)


def test_unknown_extension_code_becomes_a_space_as_the_spec_asks() -> None:
    assert gsm7.from_septets(bytes([0x61, 0x1B, 0x41, 0x62])) == "aAb"  # falls back to basic 'A'
    assert gsm7.from_septets(bytes([0x61, 0x1B, 0x1B, 0x62])) == "a b"


def test_non_gsm_character_is_a_clear_error() -> None:
    with pytest.raises(EncodingError, match="U\\+015F.*UCS-2"):
        gsm7.to_septets("aş")


def test_short_data_is_an_error_not_garbage() -> None:
    with pytest.raises(EncodingError, match="too few"):
        gsm7.unpack(b"\x31", 5)
