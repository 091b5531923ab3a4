"""Reading a SIP message: its start line, its headers and its body. Pure, stdlib only.

PJSUA2 handles the real SIP; the box reads raw messages itself only where
PJSUA2 gives no accessor: the caller ID and ``X-`` headers of an incoming
INVITE (``prm.rdata.wholeMsg``), the reply to the OPTIONS keep-alive, the
loopback probe that measures the call limit. Nothing here trusts its input:
a message that breaks RFC 3261's grammar where it matters raises
:class:`SipParseError`, never an unrelated exception.

Header names are case-insensitive and may use their compact forms (``f``
for From, RFC 3261 §7.3.3 and the IANA registry); folded (continuation)
lines are joined with one space; CRLFs before the start line are skipped
(§7.5); a body longer than Content-Length is cut to it, a shorter one means
the message was truncated (§18.3).

Example:
    >>> msg = parse(b"OPTIONS sip:a@b SIP/2.0\\r\\ni: x\\r\\nFrom: <sip:+48601234567@p>;tag=1\\r\\n\\r\\n")
    >>> msg.method, msg.header("Call-ID"), msg.header("f")
    ('OPTIONS', 'x', '<sip:+48601234567@p>;tag=1')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE = 65535

#: Compact header forms, to the full lower-case name (IANA "Header Fields" registry).
COMPACT: dict[str, str] = {
    "a": "accept-contact",  # RFC 3841
    "b": "referred-by",  # RFC 3892
    "c": "content-type",  # RFC 3261
    "d": "request-disposition",  # RFC 3841
    "e": "content-encoding",  # RFC 3261
    "f": "from",  # RFC 3261
    "i": "call-id",  # RFC 3261
    "j": "reject-contact",  # RFC 3841
    "k": "supported",  # RFC 3261
    "l": "content-length",  # RFC 3261
    "m": "contact",  # RFC 3261
    "n": "identity-info",  # RFC 4474 (deprecated by RFC 8224)
    "o": "event",  # RFC 6665 (was RFC 3265)
    "r": "refer-to",  # RFC 3515
    "s": "subject",  # RFC 3261
    "t": "to",  # RFC 3261
    "u": "allow-events",  # RFC 6665 (was RFC 3265)
    "v": "via",  # RFC 3261
    "x": "session-expires",  # RFC 4028
    "y": "identity",  # RFC 8224 (was RFC 4474)
}

_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~\-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but HTAB
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?", re.IGNORECASE)


class SipParseError(ValueError):
    """Not a SIP message (or URI, or From/To value) we can read; the message says why."""


def canonical(name: str) -> str:
    """The full lower-case form of a header name: ``"F"`` and ``"From"`` give ``"from"``."""
    key = name.strip().lower()
    return COMPACT.get(key, key)


@dataclass(frozen=True)
class SipMessage:
    """One parsed request (``method``, ``uri``) or response (``status``, ``reason``).

    ``headers`` keeps every header line in order with its name as sent;
    :meth:`header` and :meth:`all` look names up case-insensitively, compact
    forms included.
    """

    first_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    method: str | None = None  # requests
    uri: str | None = None
    status: int | None = None  # responses
    reason: str = ""
    _index: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def header(self, name: str, default: str = "") -> str:
        """The first value of header ``name``; ``default`` when absent."""
        values = self._index.get(canonical(name))
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        """Every value of header ``name``, one per header line, in order."""
        return list(self._index.get(canonical(name), []))

    def extension_headers(self) -> dict[str, str]:
        """Every ``X-`` header by its name as first sent; the first value wins."""
        found: dict[str, str] = {}
        seen: set[str] = set()
        for name, value in self.headers:
            key = name.lower()
            if key.startswith("x-") and key not in seen:
                seen.add(key)
                found[name] = value
        return found


def parse(data: bytes | str) -> SipMessage:
    """Parse a SIP request or response (a UDP datagram or PJSUA2's ``wholeMsg``).

    Args:
        data: the whole message; text is encoded as UTF-8 first.

    Raises:
        SipParseError: empty, too large, truncated, not UTF-8, a bad start
            line, a header line without a colon, or a bad Content-Length.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if len(data) > MAX_MESSAGE:
        raise SipParseError(f"message too large ({len(data)} bytes, at most {MAX_MESSAGE})")
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty message")
    end = _END_OF_HEADERS.search(data)
    if end is None:
        raise SipParseError("truncated message: no empty line ends the headers")
    try:
        text = data[: end.start()].decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("start line or headers are not UTF-8 text") from None
    lines = text.split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    for line in lines:
        if _CONTROL.search(line):
            raise SipParseError(f"control character in line {line[:40]!r}")
    headers = _headers(lines[1:])
    index: dict[str, list[str]] = {}
    for name, value in headers:
        index.setdefault(canonical(name), []).append(value)
    body = _body(data[end.end() :], index.get("content-length", []))
    first = lines[0]
    status = _STATUS_LINE.fullmatch(first)
    if status:
        return SipMessage(first, headers, body, status=int(status.group(1)), reason=status.group(2) or "", _index=index)
    if first[:4].upper() == "SIP/":
        raise SipParseError(f"bad status line {first[:40]!r}")
    parts = first.split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not _SCHEME.fullmatch(parts[1]):
        raise SipParseError(f"bad request line {first[:40]!r}")
    if parts[2].upper() != "SIP/2.0":
        raise SipParseError(f"unsupported SIP version {parts[2][:12]!r}")
    return SipMessage(first, headers, body, method=parts[0], uri=parts[1], _index=index)


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """(name as sent, value) of each header line; folded lines joined with one space."""
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not headers:
                raise SipParseError("continuation line before any header")
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")  # RFC 3261: HCOLON allows blanks before the colon
        if not colon:
            raise SipParseError(f"header line without a colon {line[:40]!r}")
        if not _TOKEN.fullmatch(name):
            raise SipParseError(f"bad header name {name[:40]!r}")
        headers.append((name, value.strip()))
    return tuple(headers)


def _body(rest: bytes, lengths: list[str]) -> bytes:
    """The body as Content-Length says (RFC 3261 §18.3); all of ``rest`` without one."""
    if not lengths:
        return rest
    if len(lengths) > 1:
        raise SipParseError("more than one Content-Length")
    if not lengths[0].isdigit() or not lengths[0].isascii():
        raise SipParseError(f"bad Content-Length {lengths[0][:20]!r}")
    length = int(lengths[0])
    if length > len(rest):
        raise SipParseError(f"truncated message: Content-Length {length} but {len(rest)} body bytes")
    return rest[:length]


def header(message: bytes | str, name: str) -> str:
    """The first value of header ``name`` in a whole message.

    Returns ``""`` when the message has no such header or cannot be read
    (a message that :func:`parse` refuses has no trustworthy headers).
    """
    try:
        return parse(message).header(name)
    except SipParseError:
        return ""


def extension_headers(message: bytes | str) -> dict[str, str]:
    """Every ``X-`` header of a whole message (see :meth:`SipMessage.extension_headers`).

    Returns ``{}`` when the message cannot be read.
    """
    try:
        return parse(message).extension_headers()
    except SipParseError:
        return {}
