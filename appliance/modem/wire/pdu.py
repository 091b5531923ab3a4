"""SMS in PDU mode (3GPP TS 23.040): encoding what the box sends, decoding
what the network delivers.

The encoder picks the cheapest alphabet (GSM 7-bit when every character
has a code, UCS-2 otherwise), splits long texts into concatenated parts
(153 septets or 67 UTF-16 units each, never cutting an escape sequence or
a surrogate pair in half) and can ask for a delivery report. The decoder
handles SMS-DELIVER, SMS-STATUS-REPORT and stored SMS-SUBMIT PDUs, with
or without the service-centre prefix.

Example:
    >>> sms = encode_sms("+48601234567", "Zażółć gęślą jaźń", status_report=True)
    >>> sms.encoding, len(sms.parts)
    ('ucs2', 1)
    >>> decode_pdu(sms.parts[0].hex).text
    'Zażółć gęślą jaźń'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.modem.wire import gsm7
from appliance.modem.wire.gsm7 import EncodingError
from appliance.modem.wire.pdufields import (
    BINARY,
    GSM7,
    UCS2,
    Concat,
    PduError,
    Reader,
    build_udh,
    dcs_alphabet,
    dcs_for,
    decode_address,
    decode_smsc,
    decode_timestamp,
    encode_address,
    encode_smsc,
    parse_udh,
    relative_validity,
    validity_hours,
)

SINGLE_GSM7 = 160
SINGLE_UCS2 = 70
PART_GSM7 = 153
PART_UCS2 = 67
MAX_PARTS = 255

_MTI_DELIVER = 0
_MTI_SUBMIT = 1
_MTI_STATUS = 2


@dataclass(frozen=True)
class SubmitPdu:
    """One PDU to hand to ``AT+CMGS=<tpdu_length>``."""

    hex: str
    tpdu_length: int
    seq: int
    total: int


@dataclass(frozen=True)
class EncodedSms:
    encoding: str
    parts: tuple[SubmitPdu, ...]


@dataclass(frozen=True)
class SmsDeliver:
    """A message from the network. ``text`` of a part of a multipart message may
    end in half a surrogate pair; :func:`clean_text` after joining the parts."""

    smsc: str
    sender: str
    text: str
    encoding: str
    timestamp: datetime
    concat: Concat | None
    status_report_indicated: bool


@dataclass(frozen=True)
class StatusReport:
    """A delivery report (+CDS) for the message the modem sent as ``ref``."""

    smsc: str
    ref: int
    recipient: str
    sc_timestamp: datetime
    discharge_time: datetime
    status: int

    @property
    def outcome(self) -> str:
        """'delivered', 'pending' (network still trying) or 'failed' (TS 23.040 §9.2.3.15)."""
        if self.status < 0x20:
            return "delivered"
        if self.status < 0x40:
            return "pending"
        return "failed"


@dataclass(frozen=True)
class SmsSubmit:
    """An SMS-SUBMIT read back (the simulator's view of what the box sent)."""

    smsc: str
    ref: int
    number: str
    text: str
    encoding: str
    concat: Concat | None
    status_report: bool
    validity_hours: float | None


def choose_encoding(text: str) -> str:
    """GSM 7-bit when every character has a code there, else UCS-2."""
    return GSM7 if gsm7.is_gsm7(text) else UCS2


def payload_parts(text: str, encoding: str) -> list[bytes]:
    """Cut ``text`` into per-part payloads: septet values (GSM 7-bit) or UTF-16
    bytes (UCS-2), never splitting an escape sequence or a surrogate pair.

    Raises:
        EncodingError: empty text, a character the alphabet lacks, or more than 255 parts.
    """
    if not text:
        raise EncodingError("an SMS needs some text")
    if encoding == GSM7:
        data, single, limit = gsm7.to_septets(text), SINGLE_GSM7, PART_GSM7
    else:
        data, single, limit = text.encode("utf-16-be"), SINGLE_UCS2 * 2, PART_UCS2 * 2
    if len(data) <= single:
        return [data]
    parts: list[bytes] = []
    start, size = 0, len(data)
    while start < size:
        end = min(start + limit, size)
        if end < size:
            if encoding == GSM7 and data[end - 1] == gsm7.ESCAPE:
                end -= 1  # keep the escape with its character
            elif encoding != GSM7 and 0xD8 <= data[end - 2] <= 0xDB:
                end -= 2  # keep a high surrogate with its low half
        parts.append(data[start:end])
        start = end
    if len(parts) > MAX_PARTS:
        raise EncodingError(f"the text needs {len(parts)} SMS; at most {MAX_PARTS} can be joined")
    return parts


def split_text(text: str, encoding: str) -> list[str]:
    """The text of each part of a (possibly concatenated) SMS (see :func:`payload_parts`)."""
    if encoding == GSM7:
        return [gsm7.from_septets(p) for p in payload_parts(text, encoding)]
    return [p.decode("utf-16-be") for p in payload_parts(text, encoding)]


def build_user_data(payload: bytes, encoding: str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for one part's payload."""
    if encoding == GSM7:
        if not udh:
            return len(payload), gsm7.pack(payload)
        fill = (7 - (len(udh) * 8) % 7) % 7
        header_septets = (len(udh) * 8 + fill) // 7
        return header_septets + len(payload), udh + gsm7.pack(payload, fill)
    return len(udh) + len(payload), udh + payload


def encode_sms(
    number: str,
    text: str,
    *,
    concat_ref: int = 0,
    status_report: bool = False,
    validity: float | None = None,
    smsc: str = "",
    encoding: str | None = None,
) -> EncodedSms:
    """Encode ``text`` to ``number`` as one or more SMS-SUBMIT PDUs.

    Args:
        concat_ref: the concatenation reference of a multipart message; it
            must stay the same when a part is re-sent, so callers derive it
            from the stored message id.
        status_report: ask the network for a delivery report (+CDS).
        validity: hours the network keeps trying; ``None`` = its default.
        smsc: service centre number; empty = the one stored on the SIM.
        encoding: force ``"gsm7"`` or ``"ucs2"``; default = the cheapest.

    Raises:
        EncodingError / PduError: text or number that cannot be sent.
    """
    alphabet = encoding or choose_encoding(text)
    payloads = payload_parts(text, alphabet)
    total = len(payloads)
    first = 0x01 | (0x20 if status_report else 0) | (0x10 if validity is not None else 0)
    head = encode_address(number) + bytes([0x00, dcs_for(alphabet)])
    if validity is not None:
        head += bytes([relative_validity(validity)])
    sca = encode_smsc(smsc)
    parts = []
    for seq, payload in enumerate(payloads, start=1):
        udh = build_udh(Concat(concat_ref, total, seq)) if total > 1 else b""
        udl, ud = build_user_data(payload, alphabet, udh)
        tpdu = bytes([first | (0x40 if udh else 0), 0x00]) + head + bytes([udl]) + ud
        parts.append(SubmitPdu((sca + tpdu).hex().upper(), len(tpdu), seq, total))
    return EncodedSms(alphabet, tuple(parts))


def _decode_user_data(reader: Reader, alphabet: str, udhi: bool) -> tuple[str, Concat | None]:
    udl = reader.octet("TP-UDL")
    ud = reader.rest()
    concat = None
    header_len = 0
    if udhi:
        if not ud:
            raise PduError("the header flag is set but the user data is empty")
        header_len = ud[0] + 1
        if header_len > len(ud):
            raise PduError("user data header is longer than the user data")
        concat = parse_udh(ud[1:header_len])
    if alphabet == GSM7:
        skip = (header_len * 8 + 6) // 7
        if skip > udl:
            raise PduError("TP-UDL is shorter than the user data header")
        # Some modems report a TP-UDL longer than the data: decode what is there.
        count = min(udl, len(ud) * 8 // 7)
        return gsm7.from_septets(gsm7.unpack(ud, count, min(skip, count))), concat
    body = ud[header_len:udl]
    if alphabet == BINARY:
        return body.hex().upper(), concat
    if len(body) % 2:
        body = body[:-1]
    text = body.decode("utf-16-be", "surrogatepass")
    return (text if concat else clean_text(text)), concat


def clean_text(text: str) -> str:
    """Join surrogate halves that arrived in separate parts; a lone half
    becomes U+FFFD instead of breaking the database's UTF-8."""
    return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "replace")


def _reader(hex_pdu: str, tpdu_length: int | None) -> tuple[Reader, str]:
    text = hex_pdu.strip()
    try:
        data = bytes.fromhex(text)
    except ValueError as exc:
        raise PduError("the PDU is not hexadecimal") from exc
    reader = Reader(data)
    smsc = "" if tpdu_length is not None and tpdu_length == len(data) else decode_smsc(reader)
    return reader, smsc


def decode_pdu(hex_pdu: str, tpdu_length: int | None = None) -> SmsDeliver | StatusReport | SmsSubmit:
    """Decode a PDU from ``+CMT``, ``+CDS``, ``+CMGR`` or ``+CMGL``.

    Args:
        tpdu_length: the length the modem reported; when it equals the PDU's
            size there is no service-centre prefix (some modems omit it in
            ``+CDS``). ``None`` = the prefix is there, as TS 27.005 says.

    Raises:
        PduError: the PDU is malformed; the message names the field.
    """
    reader, smsc = _reader(hex_pdu, tpdu_length)
    first = reader.octet("first octet")
    mti = first & 0x03
    udhi = bool(first & 0x40)
    if mti == _MTI_DELIVER:
        sender = decode_address(reader, "TP-OA")
        reader.octet("TP-PID")
        alphabet = dcs_alphabet(reader.octet("TP-DCS"))
        stamp = decode_timestamp(reader, "TP-SCTS")
        text, concat = _decode_user_data(reader, alphabet, udhi)
        return SmsDeliver(smsc, sender, text, alphabet, stamp, concat, bool(first & 0x20))
    if mti == _MTI_STATUS:
        ref = reader.octet("TP-MR")
        recipient = decode_address(reader, "TP-RA")
        sc_ts = decode_timestamp(reader, "TP-SCTS")
        discharge = decode_timestamp(reader, "TP-DT")
        status = reader.octet("TP-ST")
        return StatusReport(smsc, ref, recipient, sc_ts, discharge, status)
    if mti == _MTI_SUBMIT:
        ref = reader.octet("TP-MR")
        number = decode_address(reader, "TP-DA")
        reader.octet("TP-PID")
        alphabet = dcs_alphabet(reader.octet("TP-DCS"))
        vpf = (first >> 3) & 0x03
        hours = None
        if vpf == 2:
            hours = validity_hours(reader.octet("TP-VP"))
        elif vpf in (1, 3):
            reader.take(7, "TP-VP")
        text, concat = _decode_user_data(reader, alphabet, udhi)
        return SmsSubmit(smsc, ref, number, text, alphabet, concat, bool(first & 0x20), hours)
    raise PduError(f"PDU type {mti} (first octet 0x{first:02X}) is not an SMS this box handles")


__all__ = [
    "BINARY",
    "GSM7",
    "UCS2",
    "Concat",
    "EncodedSms",
    "EncodingError",
    "PduError",
    "SmsDeliver",
    "SmsSubmit",
    "StatusReport",
    "SubmitPdu",
    "choose_encoding",
    "clean_text",
    "decode_pdu",
    "encode_sms",
    "payload_parts",
    "split_text",
]
