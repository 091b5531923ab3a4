"""Just enough SIP message parsing and building, as pure functions.

PJSUA2 handles the real SIP; this is for the few places the box looks at
or writes raw messages itself: headers of an incoming INVITE (caller ID,
X-headers), the OPTIONS keep-alive to the provider, and the loopback
responder used to measure the call limit. Malformed input raises
:class:`SipParseError`; nothing here trusts its input.

Example:
    >>> msg = parse(b"OPTIONS sip:a@b SIP/2.0\\r\\nCall-ID: x\\r\\nFrom: <sip:+48601234567@p>;tag=1\\r\\n\\r\\n")
    >>> msg.method, msg.header("call-id"), uri_user(msg.header("from"))
    ('OPTIONS', 'x', '+48601234567')
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE = 65535
_COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}


class SipParseError(ValueError):
    """Not a SIP message we can read."""


@dataclass(frozen=True)
class SipMessage:
    first_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    method: str | None = None  # requests
    uri: str | None = None
    status: int | None = None  # responses
    reason: str = ""
    _index: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def header(self, name: str, default: str = "") -> str:
        values = self._index.get(name.lower())
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self._index.get(name.lower(), []))


def parse(data: bytes) -> SipMessage:
    """Parse a SIP request or response (UDP datagram or PJSUA2's wholeMsg)."""
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("headers are not UTF-8") from None
    lines = text.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise SipParseError(f"malformed header line {line[:40]!r}")
        key = name.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    index: dict[str, list[str]] = {}
    for key, value in headers:
        index.setdefault(key, []).append(value)
    if first.startswith("SIP/2.0 "):
        parts = first.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise SipParseError("bad status line")
        return SipMessage(
            first, tuple(headers), body, status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "", _index=index
        )
    parts = first.split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not re.fullmatch(r"[A-Z]+", parts[0]):
        raise SipParseError("bad request line")
    return SipMessage(first, tuple(headers), body, method=parts[0], uri=parts[1], _index=index)


_URI = re.compile(r"<?\s*(sips?|tel):([^>;\s]+)")


def uri_user(value: str) -> str:
    """The user part of the URI in a From/To/Contact header value ('' if none)."""
    m = _URI.search(value)
    if not m:
        return ""
    rest = m.group(2)
    if m.group(1) == "tel":
        return rest
    user, at, _ = rest.partition("@")
    return user if at else ""


def display_name(value: str) -> str:
    m = re.match(r'\s*"([^"]*)"', value) or re.match(r"\s*([^<\"]+?)\s*<", value)
    return m.group(1).strip() if m else ""


def build_response(request: SipMessage, status: int, reason: str, to_tag: str | None = None) -> bytes:
    """A response to ``request`` carrying its Via, From, To, Call-ID and CSeq."""
    lines = [f"SIP/2.0 {status} {reason}"]
    for via in request.all("via"):
        lines.append(f"Via: {via}")
    lines.append(f"From: {request.header('from')}")
    to = request.header("to")
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    lines.append(f"To: {to}")
    lines.append(f"Call-ID: {request.header('call-id')}")
    lines.append(f"CSeq: {request.header('cseq')}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def build_options(target: str, local_host: str, local_port: int, user_agent: str = "") -> tuple[bytes, str]:
    """An out-of-dialog OPTIONS request; returns (bytes, call_id)."""
    call_id = secrets.token_hex(12)
    branch = "z9hG4bK" + secrets.token_hex(8)
    tag = secrets.token_hex(4)
    lines = [
        f"OPTIONS {target} SIP/2.0",
        f"Via: SIP/2.0/UDP {local_host}:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:keepalive@{local_host}>;tag={tag}",
        f"To: <{target}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "Content-Length: 0",
    ]
    if user_agent:
        lines.insert(-1, f"User-Agent: {user_agent}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), call_id
