"""The pure HL7 mapping, table-tested on the corpus in tests/fixtures/hl7 (synthetic people only)."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.config.feeds import Hl7SenderSettings
from appliance.feeds import ack, hl7read
from appliance.feeds.hl7map import to_change
from appliance.feeds.model import Change, MessageRejected

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"
WARSAW = ZoneInfo("Europe/Warsaw")


def change(name: str, mapping: Hl7SenderSettings | None = None, zone: str = "Europe/Warsaw") -> Change:
    text = hl7read.decode((CORPUS / name).read_bytes())
    msg = hl7read.parse(text)
    return to_change(msg, hl7read.header(msg), mapping or Hl7SenderSettings(), zone)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=WARSAW)


# file, action, patient (MRN^authority, family, given, phones in order, language), appointment
# (placer, filler, start, end, provider, room, status)
GOOD = [
    (
        "s12_pl_cr.hl7",
        "book",
        ("MRN1001^MEDREC", "Wiśniewska", "Zofia", ("+48512345678", "+48124112233"), "pl"),
        ("P1001", "F1001", local(2030, 3, 12, 10, 30), local(2030, 3, 12, 10, 50), "Anna Nowak", "GAB 2", "booked"),
    ),
    (
        "s12_ko_lf.hl7",
        "book",
        ("MRN2001^MEDREC", "김", "민지", ("+821012345678",), "ko"),
        ("", "F2001", local(2030, 3, 13, 14, 0), local(2030, 3, 13, 14, 30), "", "", "booked"),
    ),
    (
        "s12_zh_crlf_noeol.hl7",
        "book",
        ("MRN3001^MEDREC", "王", "芳", ("+48512000301",), "zh"),
        ("P3001", "F3001", local(2030, 3, 14, 10, 0), local(2030, 3, 14, 10, 45), "Wei Li", "", "booked"),
    ),
    (
        "s12_tr_encoding.hl7",
        "book",
        ("MRN4001^MEDREC", "Öztürk", "Şükrü", ("+48512000401", "+48221234567"), "tr"),
        ("P4001", "F4001", local(2030, 3, 15, 11, 0), local(2030, 3, 15, 11, 15), "", "GABINET 3 A", "booked"),
    ),
    (
        "s12_es_latin1.hl7",
        "book",
        ("MRN5001^MEDREC", "Núñez", "José", ("+48512000501",), "es"),
        ("P5001", "F5001", local(2030, 3, 16, 12, 0), local(2030, 3, 16, 12, 30), "Inés Peña & Hijos", "", "booked"),
    ),
    (
        "s12_en_repeats.hl7",
        "book",
        ("MRN6001^MEDREC", "Smith", "Robert", ("+48512000601", "+48221000601"), "en"),
        ("P6001", "F6001", local(2030, 3, 17, 9, 0), local(2030, 3, 17, 9, 15), "", "", "booked"),
    ),
    (
        "s13_pl_moved.hl7",
        "reschedule",
        ("MRN1001^MEDREC", "Wiśniewska", "Zofia", ("+48512345678",), "pl"),
        ("P1001", "F1001", local(2030, 3, 12, 14, 0), local(2030, 3, 12, 14, 20), "", "", "booked"),
    ),
    (
        "s14_pl_cancelled_status.hl7",
        "modify",
        ("MRN1001^MEDREC", "Wiśniewska", "Zofia", (), ""),
        ("P1001", "F1001", local(2030, 3, 12, 14, 0), local(2030, 3, 12, 14, 20), "", "", "cancelled"),
    ),
    (
        "s14_ko_arrived.hl7",
        "modify",
        ("MRN2001^MEDREC", "김", "민지", (), ""),
        ("", "F2001", None, None, "", "", "attended"),
    ),
    (
        "s15_zh_cancel.hl7",
        "cancel",
        ("MRN3001^MEDREC", "", "", (), ""),
        ("P3001", "F3001", None, None, "", "", "cancelled"),
    ),
    ("s17_tr_delete.hl7", "delete", None, ("P4001", "F4001", None, None, "", "", "cancelled")),
    ("s26_es_noshow.hl7", "no-show", None, ("P5001", "F5001", None, None, "", "", "no-show")),
    ("adt_a08_pl_phone.hl7", "patient", ("MRN1001^MEDREC", "Wiśniewska", "Zofia", ("+48512999888",), "en"), None),
]


@pytest.mark.parametrize(("name", "action", "patient", "appointment"), GOOD, ids=[g[0] for g in GOOD])
def test_corpus_maps_to_the_change_a_clinic_expects(name, action, patient, appointment) -> None:
    got = change(name)
    assert got.action == action
    if patient is None:
        assert got.patient is None
    else:
        assert got.patient is not None
        p = got.patient
        assert (p.external_id, p.family_name, p.given_name, p.phones, p.language) == patient
    if appointment is None:
        assert got.appointment is None
    else:
        a = got.appointment
        assert a is not None
        assert (a.placer_id, a.filler_id, a.starts_at, a.ends_at, a.provider, a.location, a.status) == appointment
        assert not a.held


BAD = [
    ("bad_msh.hl7", "AR", "MSH-1", "does not start with an MSH"),
    ("bad_msh_separators.hl7", "AR", "MSH-2", "five different separators"),
    ("bad_version.hl7", "AR", "MSH-12", "version '2.1' is not supported"),
    ("bad_trigger.hl7", "AR", "MSH-9.2", "SIU S16 is not taken"),
    ("bad_no_appointment_id.hl7", "AE", "SCH-2", "no appointment ID"),
    ("bad_date.hl7", "AE", "SCH-11.4", "not an HL7 timestamp"),
    ("bad_offset.hl7", "AE", "SCH-11.4", "unknown time zone offset +2500"),
    ("bad_dst_gap.hl7", "AE", "SCH-11.4", "daylight-saving"),
    ("bad_status.hl7", "AE", "SCH-25", "unknown filler status"),
]


@pytest.mark.parametrize(("name", "code", "location", "reason"), BAD, ids=[b[0] for b in BAD])
def test_ambiguous_or_broken_messages_are_refused_naming_the_field(name, code, location, reason) -> None:
    with pytest.raises(MessageRejected) as caught:
        change(name)
    assert (caught.value.ack, caught.value.location) == (code, location)
    assert reason in caught.value.reason


def test_the_mapping_names_the_start_field_that_wins() -> None:
    # SCH-11 says 09:00, AIS-4 says 09:30: the default mapping takes SCH-11, a sender's mapping AIS-4.
    assert change("s12_en_repeats.hl7").appointment.starts_at == local(2030, 3, 17, 9, 0)  # type: ignore[union-attr]
    mapped = Hl7SenderSettings(start_fields=["AIS-4", "SCH-11"])
    assert change("s12_en_repeats.hl7", mapped).appointment.starts_at == local(2030, 3, 17, 9, 30)  # type: ignore[union-attr]


def test_times_without_offset_are_in_the_senders_time_zone() -> None:
    seoul = Hl7SenderSettings(timezone="Asia/Seoul")
    got = change("s12_ko_lf.hl7", seoul).appointment
    assert got is not None and got.starts_at == datetime(2030, 3, 13, 14, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert (
        change("s12_ko_lf.hl7", zone="America/New_York").appointment.starts_at.utcoffset().total_seconds() == -4 * 3600
    )  # type: ignore[union-attr]


def test_per_sender_status_and_language_maps_extend_the_defaults() -> None:
    with pytest.raises(MessageRejected):
        change("bad_status.hl7")
    mapped = Hl7SenderSettings(statuses={"Teleported": "cancelled"})
    assert change("bad_status.hl7", mapped).appointment.status == "cancelled"  # type: ignore[union-attr]
    no_language = Hl7SenderSettings(language_field=False)
    assert change("s12_pl_cr.hl7", no_language).patient.language == ""  # type: ignore[union-attr]


def test_the_mobile_is_the_repetition_marked_cp_unless_the_mapping_says_otherwise() -> None:
    assert change("s12_pl_cr.hl7").patient.phones[0] == "+48512345678"  # type: ignore[union-attr]
    landline_first = Hl7SenderSettings(mobile_equipment=["PH"])
    assert change("s12_pl_cr.hl7", landline_first).patient.phones[0] == "+48124112233"  # type: ignore[union-attr]


def test_a_booking_without_a_start_time_is_held_not_refused() -> None:
    got = change("s14_no_time_unknown.hl7")
    assert got.appointment is not None and got.appointment.starts_at is None
    mapped = Hl7SenderSettings(start_fields=["AIL-6"])
    held = change("s12_pl_cr.hl7", mapped).appointment
    assert held is not None and held.starts_at is None and "no start time in AIL-6" in held.held


def test_an_oversized_or_undecodable_message_is_refused_before_parsing() -> None:
    with pytest.raises(MessageRejected) as caught:
        hl7read.decode("MSH|^~\\&|A|B|C|D|2030||SIU^S12|1|P|2.5\rPID|1||x||Wiśniewska".encode("iso-8859-2"))
    assert caught.value.location == "MSH-18" and caught.value.ack == "AR"


MSH_17 = "MSH{s}^~\\&{s}A{s}B{s}C{s}D{s}2030{s}{s}SIU^S12{s}1{s}P{s}2.5{s}{s}{s}{s}{s}"


@pytest.mark.parametrize(
    ("msh", "charset", "text"),
    [
        (MSH_17.format(s="|") + "|8859/2", "iso-8859-2", "Wiśniewska"),
        (MSH_17.format(s="|") + "|8859/2^x~y|ENG", "iso-8859-2", "Wiśniewska"),  # first component only
        (MSH_17.format(s="#") + "#8859/1#ENG", "iso-8859-1", "Núñez"),  # MSH-1 other than |
        (MSH_17.format(s="|") + "| unicode utf-8 ", "utf-8", "김민지"),
        (MSH_17.format(s="|") + "||8859/2", "utf-8", "王芳"),  # that is MSH-19, not MSH-18
        ("MSH|^~\\&|A|B|C|D|2030||SIU^S12|1|P|2.5", "utf-8", "Öztürk"),  # no MSH-18
    ],
)
def test_msh_18_names_the_character_set(msh: str, charset: str, text: str) -> None:
    body = f"{msh}\nPID|1||x||{text}"
    assert hl7read.decode(b"\x0b " + body.encode(charset)) == "\x0b " + body


def test_an_unknown_character_set_in_msh_18_is_refused() -> None:
    with pytest.raises(MessageRejected) as caught:
        hl7read.decode((MSH_17.format(s="|") + "|EBCDIC\rPID|1").encode())
    assert caught.value.location == "MSH-18" and "'EBCDIC'" in caught.value.reason


TRICKY = [
    "MSH|^~\\&|A|B|C|D|2030||SIU^S12|1|P|2.5\rPID|1||M1^^^AUTH&1.2&ISO^MR~M2^^^X||N\\T\\ez^Jo\\S\\e~^A&B||^PRN^CP~^NET",
    "MSH#^~\\&#A#B#C#D#2030##SIU^S12#1#P#2.5\rPID#1##a^b^c~d&e#\\F\\x\\E\\##",
    "MSH|^~|A|B\rZZZ|1||a^b&c~d\rSCH",
    "MSH|^~\\&|A|B\rPID|1|A\\E\\F\\E\\B|A\\E\\F\\E\\B^x|a^A\\E\\F\\E\\B&y|a~A\\E\\F\\E\\B^z",
]


def test_value_reads_what_the_librarys_extract_field_reads() -> None:
    """hl7read.value walks the parsed tree itself (for speed); it must answer as extract_field does."""

    def reference(msg: object, seg: object, field: int, rep: int, comp: int, sub: int) -> str:
        if field >= len(seg):  # type: ignore[arg-type]
            return ""
        try:
            raw = seg.extract_field(1, field, rep, comp, sub)  # type: ignore[attr-defined]
        except (IndexError, KeyError):
            return ""
        return str(msg.unescape(str(raw))).strip() if raw else ""  # type: ignore[attr-defined]

    texts = [hl7read.decode(path.read_bytes()) for path in sorted(CORPUS.glob("*.hl7"))] + TRICKY
    compared = 0
    for text in texts:
        try:
            msg = hl7read.parse(text)
        except MessageRejected:
            continue
        for seg in msg:
            for field, rep, comp, sub in itertools.product(range(1, 16), range(1, 4), range(1, 6), range(1, 4)):
                assert hl7read.value(msg, seg, field, rep, comp, sub) == reference(msg, seg, field, rep, comp, sub)
                compared += 1
    assert compared > 50_000


def test_the_ack_echoes_version_and_control_id_and_names_the_field() -> None:
    text = hl7read.decode((CORPUS / "bad_date.hl7").read_bytes())
    msg = hl7read.parse(text)
    head = hl7read.header(msg)
    built = ack.build(head, "AE", application="CLINICBOX", now=datetime(2030, 3, 1), error=("SCH-11.4", "102", "bad"))
    answer = hl7read.parse(built)
    msh, msa, err = answer.segment("MSH"), answer.segment("MSA"), answer.segment("ERR")
    assert str(msh[12]) == "2.5.1" and str(msh[9]) == "ACK^S12^ACK" and str(msh[5]) == "MEDREC"
    assert str(msa[1]) == "AE" and str(msa[2]) == "BAD-0006"
    assert str(err[2]) == "SCH^1^11^1^4" and str(err[3]).startswith("102^Data type error") and str(err[8]) == "bad"
