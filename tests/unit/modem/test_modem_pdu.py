"""SMS PDUs (3GPP TS 23.040): real PDUs decoded, encoder output checked, round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from appliance.modem.wire.concat import Reassembler
from appliance.modem.wire.gsm7 import EncodingError
from appliance.modem.wire.pdu import (
    PART_GSM7,
    PART_UCS2,
    PduError,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    choose_encoding,
    clean_text,
    decode_pdu,
    encode_sms,
    split_text,
)
from appliance.modem.wire.pdufields import Concat
from appliance.modem.wire.pdunet import encode_deliver, encode_status_report

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# Real PDUs captured from networks and modems (published with python-gsmmodem's tests and
# the dreamfabric tutorial), with what a person would read on a phone.
DELIVERED = [
    (
        "06917228195339040B917228214365F700003130805120618005D4F29C2E03",
        "+2782913593",
        "+27821234567",
        datetime(2013, 3, 8, 15, 2, 16, tzinfo=tz(2)),
        "Test2",
    ),
    (
        "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
        "+85290000000",
        "+85291234567",
        datetime(2007, 4, 12, 23, 25, 42, tzinfo=tz(8)),
        "It is easy to read text messages via AT commands.",
    ),
    (
        "06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910",
        "+2782913593",
        "+27821234567",
        datetime(2013, 3, 26, 13, 35, 25, tzinfo=tz(2)),
        "@{tést}!",
    ),
    (
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        "+27381000015",
        "27838890001",
        datetime(1999, 3, 29, 15, 16, 59, tzinfo=tz(2)),
        "hellohello",
    ),
]


@pytest.mark.parametrize(("pdu", "smsc", "sender", "stamp", "text"), DELIVERED)
def test_real_deliver_pdus(pdu: str, smsc: str, sender: str, stamp: datetime, text: str) -> None:
    sms = decode_pdu(pdu)
    assert isinstance(sms, SmsDeliver)
    assert (sms.smsc, sms.sender, sms.text) == (smsc, sender, text)
    assert sms.timestamp == stamp
    assert sms.concat is None and sms.encoding == "gsm7"


def test_real_deliver_with_concatenation_header_and_national_sender() -> None:
    pdu = (
        "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B19CAB060319A5"
        "C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D82C55EB0DB4B068BCD5C20"
    )
    sms = decode_pdu(pdu)
    assert isinstance(sms, SmsDeliver)
    assert sms.sender == "2781188" and sms.smsc == "+2781191"
    assert sms.concat == Concat(0xC3, 1, 1)
    assert sms.text == "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. "


def test_real_status_report_without_smsc() -> None:
    report = decode_pdu("0006D60B911326880736F4111011719551401110117195714000")
    assert isinstance(report, StatusReport)
    assert (report.ref, report.recipient, report.status, report.outcome) == (214, "+31628870634", 0, "delivered")
    assert report.discharge_time - report.sc_timestamp == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("pdu", "number", "text", "encoding", "hours"),
    [
        (
            "07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701",
            "+31628870634",
            "www.diafaan.com",
            "gsm7",
            72.0,
        ),
        ("07914346466554F601000B914316565811F9000806304253F68449", "+34616585119", "あ叶葉", "ucs2", None),
        (
            "0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421",
            "+27821234567",
            "48656C6C6F20776F726C6421",
            "8bit",
            None,
        ),
    ],
)
def test_real_submit_pdus(pdu: str, number: str, text: str, encoding: str, hours: float | None) -> None:
    sms = decode_pdu(pdu)
    assert isinstance(sms, SmsSubmit)
    assert (sms.number, sms.text, sms.encoding, sms.validity_hours) == (number, text, encoding, hours)


def test_overlong_user_data_length_decodes_what_is_there() -> None:
    """A modem once sent UDL=160 for a 10-octet UCS-2 body: keep the text, do not fail."""
    sms = decode_pdu("0041010C910661345542F60008A0050003000301306F3044")
    assert sms.text == "はい" and sms.concat == Concat(0, 3, 1)


@pytest.mark.parametrize(
    ("number", "text", "expected"),
    [
        ("+27820001111", "Hello World!", "0001000B917228001011F100000CC8329BFD065DDF72363904"),
        ("+46708251358", "hellohello", "0001000B916407281553F800000AE8329BFD4697D9EC37"),
    ],
)
def test_encoder_matches_published_submit_pdus(number: str, text: str, expected: str) -> None:
    assert encode_sms(number, text).parts[0].hex == expected


def test_concatenated_gsm7_part_matches_an_independent_encoder() -> None:
    """Part 1 of a 3-part message as python-gsmmodem encodes it (it sets the reject-duplicates bit: 45 vs 41)."""
    text = (
        "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et "
        "dolore magna aliqua.Ut enim ad minim veniam, quinostrud exercitation ullamco laboris nisi ut aliquip ex ea "
        "commodo consequat.Duis aute irure dolor in reprehenderit in voluptate velit esse cillum doloe eu fugiat "
        "nulla pariatur.Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit "
        "anim id est laborum"
    )
    published = (
        "0045000B915121551532F40000A0050003000301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A99"
        "5E9783C2E4343C3D4F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287"
        "C56F791954A683C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7DD"
    )
    sms = encode_sms("+15125551234", text, concat_ref=0)
    assert len(sms.parts) == 3
    assert sms.parts[0].hex[:2] == "00" and sms.parts[0].hex[2:4] == "41"
    assert sms.parts[0].hex[4:] == published[4:]


def test_status_report_request_and_validity_are_encoded() -> None:
    sms = decode_pdu(encode_sms("+48601234567", "x", status_report=True, validity=48).parts[0].hex)
    assert isinstance(sms, SmsSubmit)
    assert sms.status_report is True and sms.validity_hours == 48.0
    plain = decode_pdu(encode_sms("+48601234567", "x").parts[0].hex)
    assert isinstance(plain, SmsSubmit) and plain.status_report is False and plain.validity_hours is None


def test_tpdu_length_excludes_the_smsc_prefix() -> None:
    part = encode_sms("+48601234567", "hi", smsc="+48790998250").parts[0]
    assert len(part.hex) // 2 == part.tpdu_length + 8  # 07 91 + 6 octets of digits


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Your visit is tomorrow at 10:00. Reply YES or NO", "gsm7"),
        ("Su cita es mañana a las 10:00. Responda SÍ o NO", "ucs2"),
        ("Su cita es mañana. ¿Viene? Responda SI", "gsm7"),
        ("Wizyta jutro o 10:00. Odpowiedz TAK lub NIE", "gsm7"),
        ("Wizyta w środę o 10:00. Proszę potwierdzić", "ucs2"),
        ("Randevunuz yarın saat 10:00'da. EVET veya HAYIR yazın", "ucs2"),
        ("예약은 내일 오전 10시입니다. 예 또는 아니오로 답장하세요", "ucs2"),
        ("您的预约是明天上午10点。请回复 是 或 否", "ucs2"),
        ("See you tomorrow 😀", "ucs2"),
        ("Price {10€} [ok] ~", "gsm7"),
    ],
)
def test_cheapest_encoding(text: str, encoding: str) -> None:
    assert choose_encoding(text) == encoding


@pytest.mark.parametrize(
    ("text", "encoding", "sizes"),
    [
        ("a" * 160, "gsm7", [160]),
        ("a" * 161, "gsm7", [153, 8]),
        ("a" * 306, "gsm7", [153, 153]),
        ("€" * 80, "gsm7", [80]),  # 160 septets: one SMS
        ("€" * 81, "gsm7", [76, 5]),  # 2 septets each: 152 of 153 used, never half an escape
        ("ż" * 70, "ucs2", [70]),
        ("ż" * 71, "ucs2", [67, 4]),
        ("😀" * 35, "ucs2", [35]),  # 70 UTF-16 units: still one SMS
        ("😀" * 36, "ucs2", [33, 3]),  # 66 units: the 67th would split a surrogate pair
    ],
    ids=["160a", "161a", "306a", "80euro", "81euro", "70z", "71z", "35emoji", "36emoji"],
)
def test_split_sizes(text: str, encoding: str, sizes: list[int]) -> None:
    assert [len(p) for p in split_text(text, encoding)] == sizes


def test_parts_have_the_documented_capacity() -> None:
    gsm = encode_sms("+48601234567", "a" * 400)
    for part in gsm.parts[:-1]:
        sms = decode_pdu(part.hex)
        assert len(sms.text) == PART_GSM7
    uni = encode_sms("+48601234567", "ł" * 200)
    assert [len(decode_pdu(p.hex).text) for p in uni.parts] == [PART_UCS2, PART_UCS2, 200 - 2 * PART_UCS2]


ROUND_TRIP = {
    "en": "Reminder: Dr Smith tomorrow 10:30 at Main St clinic. Reply YES to confirm or NO to cancel. {ref: A-17}",
    "es": "Recordatorio: cita mañana a las 10:30 con la Dra. Núñez. ¿Confirma? Responda SÍ o NO. Gracias, señora Peña.",
    "pl": "Przypomnienie: wizyta jutro o 10:30 u dr. Wiśniewskiej. Odpowiedz TAK, aby potwierdzić, lub NIE. Zażółć gęślą jaźń.",
    "tr": "Hatırlatma: yarın saat 10:30'da Dr. Şükrü Çağlayan ile randevunuz var. Onaylamak için EVET, iptal için HAYIR yazın. Iğdır ılık.",
    "ko": "알림: 내일 오전 10시 30분 김민준 선생님 진료 예약이 있습니다. 확인하시려면 예, 취소하시려면 아니오라고 답장해 주세요.",
    "zh": "提醒：您明天上午10:30与王医生有预约。确认请回复“是”，取消请回复“否”。谢谢！",
    "emoji": "Thanks 🙏 See you tomorrow 😀👍🏽 — family: 👨‍👩‍👧 flags: 🇵🇱🇹🇷🇰🇷",
}


@pytest.mark.parametrize("lang", sorted(ROUND_TRIP))
@pytest.mark.parametrize("repeat", [1, 4])
def test_round_trip_submit(lang: str, repeat: int) -> None:
    text = " ".join([ROUND_TRIP[lang]] * repeat)
    sms = encode_sms("+48601234567", text, concat_ref=200, status_report=True)
    decoded = [decode_pdu(p.hex) for p in sms.parts]
    assert all(isinstance(d, SmsSubmit) and d.number == "+48601234567" for d in decoded)
    if len(sms.parts) > 1:
        assert [d.concat for d in decoded] == [Concat(200, len(sms.parts), i + 1) for i in range(len(sms.parts))]
    assert clean_text("".join(d.text for d in decoded)) == text


@pytest.mark.parametrize("lang", sorted(ROUND_TRIP))
def test_round_trip_deliver_and_reassembly_out_of_order(lang: str) -> None:
    text = " ".join([ROUND_TRIP[lang]] * 3)
    pdus = encode_deliver("+905321234567", text, T0, concat_ref=9)
    parts = [decode_pdu(pdu, length) for pdu, length in reversed(pdus)]
    r = Reassembler(timeout_s=60)
    out = []
    for i, part in enumerate(parts):
        assert isinstance(part, SmsDeliver)
        from appliance.modem.wire.concat import IncomingPart

        out += r.add(
            IncomingPart(part.sender, part.concat, part.text, part.encoding, part.timestamp, (i,)), now=float(i)
        )
    assert len(out) == 1 and out[0].text == text and out[0].missing == ()


def test_status_report_round_trip_and_outcomes() -> None:
    for status, outcome in [
        (0x00, "delivered"),
        (0x01, "delivered"),
        (0x20, "pending"),
        (0x30, "pending"),
        (0x41, "failed"),
        (0x64, "failed"),
    ]:
        pdu, length = encode_status_report(17, "+48601234567", T0, T0 + timedelta(seconds=5), status)
        report = decode_pdu(pdu, length)
        assert isinstance(report, StatusReport)
        assert (report.ref, report.recipient, report.outcome) == (17, "+48601234567", outcome)
    pdu, length = encode_status_report(17, "+48601234567", T0, T0, with_smsc=False)
    assert decode_pdu(pdu, length).ref == 17  # the length tells there is no SMSC prefix


def test_alphanumeric_sender_decodes_as_text() -> None:
    # SMS-DELIVER from "Orange" (type D0, 7-bit packed), text "Hi".
    pdu = "00040BD04F79D87D2E03000062203090000000" + "02C834"
    sms = decode_pdu(pdu)
    assert isinstance(sms, SmsDeliver) and sms.sender == "Orange" and sms.text == "Hi"


@pytest.mark.parametrize(
    ("pdu", "message"),
    [
        ("0791", "ends"),
        ("XYZ", "not hexadecimal"),
        ("0004", "ends before TP-OA"),
        ("00040B91", "ends before TP-OA type|ends inside TP-OA"),
        ("0003", "type 3"),
        ("00440B915121551532F4000031301231230000060A00", "header"),
    ],
)
def test_malformed_pdus_are_clear_errors(pdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        decode_pdu(pdu)


@pytest.mark.parametrize(
    ("number", "text", "error"),
    [
        ("+48601234567", "", EncodingError),
        ("", "hi", PduError),
        ("+4860x234567", "hi", PduError),
        ("+48601234567", "x" * (153 * 255 + 1), EncodingError),
    ],
)
def test_unsendable_input_is_refused(number: str, text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_sms(number, text)
