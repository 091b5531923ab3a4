"""The few bits of SIP text the station and the test user agent read. Pure.

PJSUA2 hands an incoming INVITE to Python as the whole message text
(``prm.rdata.wholeMsg``) and exposes no header accessor, so the station
reads :data:`~appliance.station.protocol.AUTH_HEADER` and the caller's
identity here. Header names are case-insensitive, may use RFC 3261 compact
forms (``f`` for From) and may be folded over several lines.

Example:
    >>> msg = "INVITE sip:desk1@127.0.0.1 SIP/2.0\\r\\nf: <sip:+48601234567@box>;tag=1\\r\\nX-A: 1\\r\\n\\r\\n"
    >>> user_part(header(msg, "From"))
    '+48601234567'
    >>> extension_headers(msg)
    {'X-A': '1'}
"""

from __future__ import annotations

import re

#: RFC 3261 compact header forms, by full lower-case name.
COMPACT = {
    "from": "f",
    "to": "t",
    "call-id": "i",
    "contact": "m",
    "content-type": "c",
    "content-length": "l",
    "subject": "s",
    "via": "v",
}

_DIGITS = re.compile(r"\d{6,}")


def _header_lines(message: str) -> list[tuple[str, str]]:
    """(name, value) pairs of the header section, folded lines joined."""
    head = re.split(r"\r?\n\r?\n", message, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)[1:]  # skip the request/status line
    pairs: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def header(message: str, name: str) -> str:
    """The first value of header ``name`` (or its compact form); ``""`` if absent."""
    wanted = {name.lower(), COMPACT.get(name.lower(), name.lower())}
    for hname, value in _header_lines(message):
        if hname.lower() in wanted:
            return value
    return ""


def extension_headers(message: str) -> dict[str, str]:
    """Every ``X-`` header of the message, by its name as sent (first wins)."""
    found: dict[str, str] = {}
    for hname, value in _header_lines(message):
        if hname.lower().startswith("x-") and hname not in found:
            found[hname] = value
    return found


def uri_of(value: str) -> str:
    """The URI inside a From/To/Contact value: ``"Name" <sip:a@b>;tag=x`` → ``sip:a@b``."""
    value = value.strip()
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")]
    return value.split(";", 1)[0].strip()


def user_part(value: str) -> str:
    """The user part of a URI or a From/To value; ``""`` when there is none."""
    uri = uri_of(value)
    if ":" in uri:
        uri = uri.split(":", 1)[1]
    if "@" not in uri:
        return ""
    return uri.split("@", 1)[0].split(";", 1)[0]


def host_port(uri: str) -> tuple[str, int]:
    """Host and port of ``sip:[user@]host[:port][;params]`` (port 5060 when absent).

    Raises:
        ValueError: not a sip: URI with a host.
    """
    text = uri_of(uri)
    if not text.lower().startswith("sip:"):
        raise ValueError(f"{uri!r} is not a sip: URI")
    rest = text[4:].split(";", 1)[0]
    rest = rest.rsplit("@", 1)[-1]
    host, sep, port = rest.partition(":")
    if not host:
        raise ValueError(f"{uri!r} has no host")
    if sep and not port.isdigit():
        raise ValueError(f"{uri!r} has a bad port")
    return host, int(port) if sep else 5060


def mask_digits(text: str) -> str:
    """Star every run of six or more digits (phone numbers in PJSIP's own log lines)."""
    return _DIGITS.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 5) + m.group(0)[-3:], text)
