"""Reading an HL7 v2 message the way real senders write it, with the ``hl7`` library.

Why ``hl7`` (python-hl7) and not ``hl7apy``: the box must accept what is
unambiguous from sloppy senders (``\\n`` or ``\\r\\n`` between segments, no
final CR, Z-segments, fields missing or repeated, other encoding
characters). ``hl7`` parses any well-formed segment structure with the
separators the message declares in MSH-1/MSH-2, leaves meaning to us, and
is small and fast (the listener must ACK within 1 s on a Pi); it is the
library behind Debian's ``mllp_send``. ``hl7apy`` validates against the
HL7 message structures: in strict mode it refuses the Z-segments and
out-of-profile fields every practice system sends, in tolerant mode it
validates nothing while costing several times the parse time. The
checks that matter (MSH, version, trigger, IDs, times) are ours, field by
field, so a rejection names the field.

This module: bytes -> text -> :class:`hl7.Message` -> :class:`Header`, and
HL7 timestamps -> aware datetimes. Pure: no I/O.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import hl7
from hl7.containers import Component, Repetition
from hl7.util import unescape

from appliance.feeds.model import (
    DATA_TYPE_ERROR,
    REQUIRED_MISSING,
    UNSUPPORTED_PROCESSING_ID,
    UNSUPPORTED_VERSION,
    Header,
    MessageRejected,
)

VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")
#: MSH-18 character sets we decode (HL7 table 0211); empty = UTF-8, then Latin-1 is refused.
CHARSETS = {
    "": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "ASCII": "ascii",
    "8859/1": "iso-8859-1",
    "8859/2": "iso-8859-2",
    "8859/9": "iso-8859-9",
    "ISO IR87": "iso2022_jp",
    "KS X 1001": "euc_kr",
    "GB 18030-2000": "gb18030",
    "BIG-5": "big5",
}
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?([+-]\d{4})?$")
#: The first component of MSH-18 ends at any of the usual separators.
_CHARSET_END = re.compile(rb"[|^~\\&]")


def decode(data: bytes) -> str:
    """The message's text, in the character set MSH-18 names (UTF-8 when it names none).

    Raises:
        MessageRejected: an unknown character set, or bytes that are not in it.
    """
    name = _charset_name(data).decode("ascii", "replace").strip().upper()
    codec = CHARSETS.get(name)
    if codec is None:
        raise MessageRejected(
            f"character set {name!r} is not supported; send UNICODE UTF-8", "MSH-18", DATA_TYPE_ERROR, "AR"
        )
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise MessageRejected(
            f"the message is not valid {codec}; set MSH-18 to its character set", "MSH-18", DATA_TYPE_ERROR, "AR"
        ) from None


def _charset_name(data: bytes) -> bytes:
    """MSH-18's first component, found by splitting the first line on MSH-1.

    A split, not a backtracking pattern: with a back-reference to MSH-1 a
    pattern tries every way of choosing 16 separators and cost a quarter
    of a millisecond on a plain 12-field MSH.
    """
    text = data.lstrip()
    if not text.startswith(b"MSH") or len(text) < 4 or text[3:4] in (b"\r", b"\n"):
        return b""
    line = text.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = line.split(text[3:4], 18)  # MSH-n is fields[n - 1]
    if len(fields) < 18:
        return b""
    return _CHARSET_END.split(fields[17], 1)[0]


def normalise(text: str) -> str:
    """Segments separated by ``\\r`` whatever the sender used; no empty segments; no trailing CR."""
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in (raw.strip("\x0b\x1c\x00 ") for raw in lines) if line)


def parse(text: str) -> hl7.Message:
    """Parse normalised text; the first segment must be a well-formed MSH.

    Raises:
        MessageRejected: no MSH, or MSH-1/MSH-2 that declare no usable separators (AR).
    """
    text = normalise(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise MessageRejected("the message does not start with an MSH segment", "MSH-1", REQUIRED_MISSING, "AR")
    field_sep, encoding = text[3], text[4:8]
    if field_sep.isalnum() or field_sep.isspace() or len(set(field_sep + encoding)) != 5:
        raise MessageRejected(
            "MSH-1/MSH-2 must declare five different separators (usually |^~\\&)", "MSH-2", DATA_TYPE_ERROR, "AR"
        )
    if any(c.isalnum() or c.isspace() for c in encoding):
        raise MessageRejected("MSH-2 holds a letter, digit or space", "MSH-2", DATA_TYPE_ERROR, "AR")
    for line in text.split("\r"):
        if len(line) < 3 or not line[:3].isalnum() or (len(line) > 3 and line[3] != field_sep):
            raise MessageRejected("a segment does not start with a three-letter name", "", DATA_TYPE_ERROR, "AR")
    try:
        return hl7.parse(text)
    except Exception as exc:  # the library's own refusals: name the envelope
        raise MessageRejected(f"unreadable message ({type(exc).__name__})", "MSH", DATA_TYPE_ERROR, "AR") from None


def value(msg: hl7.Message, seg: Any, field: int, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
    """One unescaped leaf, or "" when the message does not have it (never raises)."""
    if seg is None or field >= len(seg):
        return ""
    try:
        raw = _leaf(seg, field, rep, comp, sub)
    except (IndexError, KeyError):
        return ""
    if not raw:
        return ""
    text = str(raw)
    return (str(msg.unescape(text)) if msg.esc in text else text).strip()


def _leaf(seg: Any, field: int, rep: int, comp: int, sub: int) -> Any:
    """``Segment.extract_field(1, field, rep, comp, sub)`` for ``field < len(seg)``.

    The same walk and the same rules (a leaf reached early answers for
    position 1 below it; a missing component or subcomponent is ""), on
    the lists the parser built, without the library's per-call Accessor
    and 1-based call wrappers: the mapper reads some 30 leaves a message,
    and those wrappers were most of the mapping's time.

    Raises:
        IndexError: the path goes below a leaf, or past the repetitions there are.
    """
    field, rep, comp, sub = field or 1, rep or 1, comp or 1, sub or 1  # 0 means 1, as there
    found = list.__getitem__(seg[field], rep - 1)
    if not isinstance(found, Repetition):
        if comp == 1 and sub == 1:
            return found if field in (1, 2) and seg[0][0] == "MSH" else unescape(seg, found)
        raise IndexError("below a leaf")
    if comp > len(found):
        if sub == 1:
            return ""
        raise IndexError("no such component")
    component = list.__getitem__(found, comp - 1)
    if not isinstance(component, Component):
        if sub == 1:
            return unescape(seg, component)
        raise IndexError("below a leaf")
    return unescape(seg, list.__getitem__(component, sub - 1)) if sub <= len(component) else ""


def repetitions(seg: Any, field: int) -> int:
    if seg is None or field >= len(seg) or not str(seg[field]):
        return 0
    item = seg[field]
    return len(item) if item and isinstance(item[0], Repetition) else 1


def segments(msg: hl7.Message, name: str) -> list[Any]:
    # A segment's name is its first field's text, as hl7's own Message.segments reads it
    # (parse() admits only segments that start with three letters or digits).
    return [s for s in msg if s[0][0] == name]


def first(msg: hl7.Message, name: str) -> Any:
    """The first ``name`` segment, or None (the mapper asks several times per message)."""
    for s in msg:
        if s[0][0] == name:
            return s
    return None


def header(msg: hl7.Message) -> Header:
    """MSH as the acknowledgement needs it.

    Raises:
        MessageRejected: MSH-9, MSH-10 or MSH-12 missing, an unsupported
            version or processing ID (AR).
    """
    msh = msg.segment("MSH")
    found = Header(
        sending_application=value(msg, msh, 3),
        sending_facility=value(msg, msh, 4),
        receiving_application=value(msg, msh, 5),
        receiving_facility=value(msg, msh, 6),
        control_id=value(msg, msh, 10),
        version=value(msg, msh, 12),
        message_type=value(msg, msh, 9, 1, 1).upper(),
        trigger=value(msg, msh, 9, 1, 2).upper(),
        processing_id=value(msg, msh, 11) or "P",
    )
    try:
        _check(found)
    except MessageRejected as exc:
        exc.header = found if found.control_id else None
        raise
    return found


def _check(found: Header) -> None:
    if not found.control_id:
        raise MessageRejected("no message control ID", "MSH-10", REQUIRED_MISSING, "AR")
    if len(found.control_id) > 50:
        raise MessageRejected("the message control ID is longer than 50 characters", "MSH-10", DATA_TYPE_ERROR, "AR")
    if not found.message_type or not found.trigger:
        raise MessageRejected("no message type and trigger event", "MSH-9", REQUIRED_MISSING, "AR")
    if found.version not in VERSIONS:
        raise MessageRejected(
            f"version {found.version or '(none)'!r} is not supported; send 2.3 to 2.8",
            "MSH-12",
            UNSUPPORTED_VERSION,
            "AR",
        )
    if found.processing_id.upper() != "P":
        raise MessageRejected(
            f"processing ID {found.processing_id!r}: the box takes production messages (P) only",
            "MSH-11",
            UNSUPPORTED_PROCESSING_ID,
            "AR",
        )


def timestamp(raw: str, zone: zoneinfo.ZoneInfo, location: str, *, need_time: bool = True) -> datetime:
    """An HL7 DTM (``YYYYMMDDHHMM[SS[.S]][+ZZZZ]``) as an aware datetime.

    A time without an offset is local time in ``zone``; a local time that
    does not exist or happens twice there (daylight-saving changes) is
    ambiguous and refused.

    Raises:
        MessageRejected: not a timestamp, no time of day, a bad offset, or an ambiguous local time.
    """
    m = _TS.match(raw.strip())
    if m is None:
        raise MessageRejected(f"not an HL7 timestamp (YYYYMMDDHHMM[SS][+ZZZZ]): {len(raw)} characters", location)
    year, month, day, hour, minute, second, offset = m.groups()
    if need_time and (hour is None or minute is None):
        raise MessageRejected("the timestamp has no time of day (needs YYYYMMDDHHMM)", location)
    try:
        naive = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        raise MessageRejected("the timestamp is not a real date or time", location) from None
    if offset:
        hours, minutes = int(offset[1:3]), int(offset[3:5])
        if hours > 14 or minutes >= 60:
            raise MessageRejected(f"unknown time zone offset {offset}", location)
        delta = timedelta(hours=hours, minutes=minutes)
        return naive.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta))
    local = naive.replace(tzinfo=zone)
    other = naive.replace(tzinfo=zone, fold=1)
    if local.utcoffset() != other.utcoffset():
        raise MessageRejected(
            f"{naive:%Y-%m-%d %H:%M} happens twice or never in {zone.key} (a daylight-saving change); "
            "send the time with its offset",
            location,
        )
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise MessageRejected(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (a daylight-saving change); "
            "send the time with its offset",
            location,
        )
    return local
