"""The fields SMS PDUs are made of (3GPP TS 23.040 §9.1.2, §9.2.3).

Addresses in semi-octets, time stamps, the data coding scheme, the user
data header and the validity period. Every decoder takes a
:class:`Reader` over the PDU's octets and raises :class:`PduError` on a
truncated or malformed field, never an IndexError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from appliance.errors import ModemError
from appliance.modem.wire import gsm7

TON_INTERNATIONAL = 0x91  # type of address: international, ISDN numbering plan
TON_UNKNOWN = 0x81
TON_ALPHANUMERIC = 0xD0

_BCD = "0123456789*#abc"
_BCD_CODE = {ch: i for i, ch in enumerate(_BCD)}
_BCD_CODE.update({"A": 0xC, "B": 0xD, "C": 0xE})

#: Information element identifiers for concatenation (TS 23.040 §9.2.3.24.1/8).
IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08


class PduError(ModemError):
    """An SMS PDU is malformed or truncated; the message says which field."""


class Reader:
    """Reads a PDU octet by octet, naming the field that ran short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def octet(self, field: str) -> int:
        if self.pos >= len(self.data):
            raise PduError(f"PDU ends before {field} (at octet {self.pos})")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int, field: str) -> bytes:
        if self.pos + count > len(self.data):
            raise PduError(f"PDU ends inside {field}: needs {count} octets at {self.pos}, has {len(self.data)}")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


# -- addresses ---------------------------------------------------------------
def encode_semi_octets(digits: str) -> bytes:
    """'4860' → 0x84 0x06: each octet holds two digits, low nibble first; odd
    counts end with 0xF."""
    codes = []
    for ch in digits:
        if ch not in _BCD_CODE:
            raise PduError(f"{ch!r} cannot be part of a phone number in an SMS (digits, *, # only)")
        codes.append(_BCD_CODE[ch])
    if len(codes) % 2:
        codes.append(0xF)
    return bytes(codes[i] | (codes[i + 1] << 4) for i in range(0, len(codes), 2))


_SWAP_NIBBLES = bytes(((b & 0x0F) << 4) | (b >> 4) for b in range(256))
_HEX_TO_BCD = str.maketrans({"a": "*", "b": "#", "c": "a", "d": "b", "e": "c", "f": None})


def decode_semi_octets(data: bytes, count: int | None = None) -> str:
    text = data.translate(_SWAP_NIBBLES).hex().translate(_HEX_TO_BCD)
    return text[:count] if count is not None else text


def split_number(number: str) -> tuple[int, str]:
    """(type of address, digits) for a dialable number; '+' means international."""
    text = number.strip().replace(" ", "").replace("-", "")
    if text.startswith("+"):
        return TON_INTERNATIONAL, text[1:]
    return TON_UNKNOWN, text


def encode_address(number: str) -> bytes:
    """TP-DA / TP-OA: digit count, type of address, semi-octets.

    Raises:
        PduError: empty number or characters a phone number cannot hold.
    """
    ton, digits = split_number(number)
    if not digits or len(digits) > 20:
        raise PduError("a recipient number needs 1 to 20 digits")
    return bytes([len(digits), ton]) + encode_semi_octets(digits)


def encode_smsc(number: str) -> bytes:
    """The service centre address prefix: length in octets (0 = the SIM's)."""
    if not number:
        return b"\x00"
    ton, digits = split_number(number)
    body = bytes([ton]) + encode_semi_octets(digits)
    return bytes([len(body)]) + body


def decode_address(reader: Reader, field: str) -> str:
    """Read an address field; alphanumeric senders ("CLINIC") come back as text."""
    length = reader.octet(f"{field} length")
    ton = reader.octet(f"{field} type")
    raw = reader.take((length + 1) // 2, field)
    if (ton & 0x70) == 0x50:  # type of number: alphanumeric, GSM 7-bit packed
        septets = gsm7.unpack(raw, (length * 4) // 7)
        return gsm7.from_septets(septets)
    digits = decode_semi_octets(raw, length)
    return f"+{digits}" if (ton & 0x70) == 0x10 else digits


def decode_smsc(reader: Reader) -> str:
    length = reader.octet("SMSC length")
    if length == 0:
        return ""
    body = reader.take(length, "SMSC address")
    digits = decode_semi_octets(body[1:])
    return f"+{digits}" if (body[0] & 0x70) == 0x10 else digits


# -- time stamps -----------------------------------------------------------------
def _swap(octet: int) -> int:
    return (octet & 0x0F) * 10 + (octet >> 4)


def decode_timestamp(reader: Reader, field: str) -> datetime:
    """TP-SCTS / TP-DT: local time plus the zone in quarter hours; returned in UTC."""
    raw = reader.take(7, field)
    try:
        year, month, day, hour, minute, second = (_swap(b) for b in raw[:6])
        tz_raw = raw[6]
        quarters = (tz_raw & 0x07) * 10 + (tz_raw >> 4)
        if tz_raw & 0x08:
            quarters = -quarters
        century = 2000 if year < 90 else 1900  # two-digit years: 1990-2089
        zone = timezone(timedelta(minutes=15 * quarters))
        local = datetime(century + year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise PduError(f"{field} is not a valid time stamp ({raw.hex().upper()})") from exc
    return local.astimezone(UTC)


def encode_timestamp(moment: datetime, quarters: int = 0) -> bytes:
    """The inverse of :func:`decode_timestamp` (used by the simulator)."""
    local = moment.astimezone(timezone(timedelta(minutes=15 * quarters)))
    fields = [local.year % 100, local.month, local.day, local.hour, local.minute, local.second]
    out = bytes(((v % 10) << 4) | (v // 10) for v in fields)
    q = abs(quarters)
    tz = ((q % 10) << 4) | (q // 10) | (0x08 if quarters < 0 else 0)
    return out + bytes([tz])


# -- data coding scheme --------------------------------------------------------------
GSM7 = "gsm7"
UCS2 = "ucs2"
BINARY = "8bit"


def dcs_alphabet(dcs: int) -> str:
    """The alphabet a TP-DCS value selects (TS 23.038 §4).

    Raises:
        PduError: a compressed message, which no handset sends in practice.
    """
    group = dcs >> 4
    if group <= 0x7:  # general data coding (0x) and automatic deletion (4x-7x)
        if dcs & 0x20:
            raise PduError(f"compressed SMS (DCS 0x{dcs:02X}) is not supported")
        return (GSM7, BINARY, UCS2, GSM7)[(dcs >> 2) & 0x03]
    if group in (0xC, 0xD):  # message waiting, GSM 7-bit
        return GSM7
    if group == 0xE:  # message waiting, UCS-2
        return UCS2
    if group == 0xF:
        return BINARY if dcs & 0x04 else GSM7
    return GSM7  # reserved groups: the spec says to assume the default alphabet


def dcs_for(alphabet: str) -> int:
    return {GSM7: 0x00, BINARY: 0x04, UCS2: 0x08}[alphabet]


# -- user data header --------------------------------------------------------
@dataclass(frozen=True)
class Concat:
    """Concatenation info element: which part of which multipart message."""

    ref: int
    total: int
    seq: int


def build_udh(concat: Concat) -> bytes:
    """UDH with an 8-bit concatenation element (6 octets including UDHL)."""
    return bytes([5, IEI_CONCAT_8, 3, concat.ref & 0xFF, concat.total, concat.seq])


def parse_udh(header: bytes) -> Concat | None:
    """Find the concatenation element in a UDH (without its UDHL octet).

    Unknown elements (port addressing, national language shift, ...) are
    skipped. A concatenation element with part number 0 or beyond the
    total is ignored, as TS 23.040 §9.2.3.24.1 asks.
    """
    pos = 0
    found: Concat | None = None
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if len(value) < length:
            raise PduError("user data header element runs past the header")
        if iei == IEI_CONCAT_8 and length == 3:
            ref, total, seq = value
        elif iei == IEI_CONCAT_16 and length == 4:
            ref, total, seq = (value[0] << 8) | value[1], value[2], value[3]
        else:
            continue
        if total >= 1 and 1 <= seq <= total:
            found = Concat(ref, total, seq)
    return found


# -- validity period ----------------------------------------------------------
def relative_validity(hours: float) -> int:
    """TP-VP relative format (TS 23.040 §9.2.3.12.1) for at least ``hours``."""
    minutes = hours * 60
    if minutes <= 720:
        return max(0, min(143, int((minutes + 4) // 5) - 1))
    if minutes <= 1440:
        return min(167, 143 + int((minutes - 720 + 29) // 30))
    days = hours / 24
    if days <= 30:
        return min(196, 166 + int(-(-days // 1)))
    weeks = days / 7
    return min(255, 192 + int(-(-weeks // 1)))


def validity_hours(vp: int) -> float:
    if vp <= 143:
        return (vp + 1) * 5 / 60
    if vp <= 167:
        return 12 + (vp - 143) * 0.5
    if vp <= 196:
        return (vp - 166) * 24.0
    return (vp - 192) * 24.0 * 7
