"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing.

A message that fits this alphabet costs 160 characters per SMS instead of
70, so the encoder uses it whenever every character is in the basic table
or its extension table (``{ } [ ] ~ \\ ^ | €`` and form feed cost two
septets: an escape plus the character). Everything else (Turkish ş ğ ı,
Polish ł ż, Korean, Chinese, emoji, Spanish á í ó ú) goes as UCS-2.

Packing is little-endian: septet *n* starts at bit 7·n of the user data,
after the user data header and its fill bits when there is one.

Example:
    >>> pack(to_septets("hello"))
    b'\\xe82\\x9b\\xfd\\x06'
    >>> from_septets(unpack(b'\\xe82\\x9b\\xfd\\x06', 5))
    'hello'
"""

from __future__ import annotations

from appliance.errors import ModemError

ESCAPE = 0x1B

#: The basic table, indexed by septet value (0x1B is the escape to the extension table).
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

#: The extension table: septet after ESC → character.
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC_CODE = {ch: i for i, ch in enumerate(BASIC) if i != ESCAPE}
_EXT_CODE = {ch: code for code, ch in EXTENSION.items()}
GSM7_CHARS = frozenset(_BASIC_CODE) | frozenset(_EXT_CODE)
_EXT_CHARS = frozenset(_EXT_CODE)

# Fast paths: str.translate tables mapping characters to septet strings.
_TO_SEPTETS = {ord(ch): chr(code) for ch, code in _BASIC_CODE.items()}
_TO_SEPTETS.update({ord(ch): chr(ESCAPE) + chr(code) for ch, code in _EXT_CODE.items()})
_FROM_BASIC = {i: ch for i, ch in enumerate(BASIC) if i != ESCAPE}
_FROM_BASIC_TABLE = {i: BASIC[i & 0x7F] for i in range(256)}


class EncodingError(ModemError):
    """Text cannot be put in the requested SMS alphabet."""


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` has a GSM 7-bit code."""
    return GSM7_CHARS.issuperset(text)


def septet_length(text: str) -> int:
    """How many septets ``text`` takes (extension characters count twice)."""
    return len(text) + sum(1 for ch in text if ch in _EXT_CHARS)


def char_septets(ch: str) -> int:
    return 2 if ch in _EXT_CHARS else 1


def to_septets(text: str) -> bytes:
    """Map text to septet values (one byte each, 0-127).

    Raises:
        EncodingError: a character has no GSM 7-bit code; use UCS-2.
    """
    mapped = text.translate(_TO_SEPTETS)
    try:
        return mapped.encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = text[exc.start] if exc.start < len(text) else "?"
        raise EncodingError(f"character U+{ord(bad):04X} is not in the GSM 7-bit alphabet; send as UCS-2") from exc


def from_septets(septets: bytes) -> str:
    """Map septet values back to text. Unknown extension codes become a space,
    as TS 23.038 asks a receiver to do (the escape falls back to the basic table)."""
    if ESCAPE not in septets:
        return septets.decode("latin-1").translate(_FROM_BASIC_TABLE)
    out: list[str] = []
    escaped = False
    for s in septets:
        if escaped:
            escaped = False
            ext = EXTENSION.get(s)
            out.append(ext if ext is not None else _FROM_BASIC.get(s, " "))
        elif s == ESCAPE:
            escaped = True
        else:
            out.append(_FROM_BASIC[s & 0x7F])
    return "".join(out)


def pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first into octets, after ``fill_bits`` zero bits.

    ``fill_bits`` aligns the text to a septet boundary after a user data
    header (TS 23.040 §9.2.3.24).
    """
    acc = 0
    for s in reversed(septets):
        acc = (acc << 7) | (s & 0x7F)
    nbits = len(septets) * 7 + fill_bits
    acc <<= fill_bits
    return acc.to_bytes((nbits + 7) // 8, "little")


def unpack(data: bytes, count: int, skip: int = 0) -> bytes:
    """Unpack ``count`` septets from ``data``, dropping the first ``skip``.

    ``skip`` is how many septets the user data header and its fill bits
    take; ``count`` includes them, as TP-UDL does.

    Raises:
        EncodingError: ``data`` is shorter than ``count`` septets need.
    """
    if len(data) * 8 < count * 7 or skip > count:
        raise EncodingError(f"user data holds {len(data)} octets, too few for {count} septets")
    acc = int.from_bytes(data, "little")
    out = bytearray(count - skip)
    acc >>= 7 * skip
    for i in range(count - skip):
        out[i] = acc & 0x7F
        acc >>= 7
    return bytes(out)
