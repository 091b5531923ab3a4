"""Reading the addresses in SIP: ``sip:``, ``sips:`` and ``tel:`` URIs and From/To values. Pure.

A From, To or Contact value is a *name-addr* (``"Name" <sip:user@host>;tag=x``,
display name quoted or not) or a bare *addr-spec* (``sip:user@host;tag=x``,
where everything after the first ``;`` belongs to the header, RFC 3261 §20.10).
:func:`parse_name_addr` and :func:`parse_uri` raise :class:`SipParseError`;
the small readers below them (:func:`uri_of`, :func:`uri_user`,
:func:`display_name`) return ``""`` for what they cannot read, because a
caller ID that cannot be read is simply unknown.

``tel:`` numbers (RFC 3966) keep their visual separators (``-.()``) in
``user``; :attr:`SipUri.number` drops them. A local number should carry
``;phone-context``, but trunks leave it out, so one without is still read.

Example:
    >>> uri_user('"Clinic" <sip:+48601234567@box:5060>;tag=1')
    '+48601234567'
    >>> parse_uri("tel:+48-601-234-567").number
    '+48601234567'
    >>> host_port("sips:core@10.0.0.2")
    ('10.0.0.2', 5061)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appliance.sip.message import SipParseError

_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_.])?|\[[0-9A-Fa-f:.]+\]")
_GLOBAL_NUMBER = re.compile(r"\+[0-9\-.()]*[0-9][0-9\-.()]*")
_LOCAL_NUMBER = re.compile(r"[0-9A-Fa-f*#\-.()]*[0-9A-Fa-f*#][0-9A-Fa-f*#\-.()]*")
_SEPARATORS = re.compile(r"[\-.()]")
_PARAM = re.compile(r'\s*;\s*([^=;\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;]*?))?\s*(?=;|$)', re.DOTALL)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
DEFAULT_PORTS = {"sip": 5060, "sips": 5061}


@dataclass(frozen=True)
class SipUri:
    """A ``sip:``, ``sips:`` or ``tel:`` URI.

    ``user`` is the user as sent (escapes kept, user parameters such as
    ``;isub=`` kept, the password split off); for ``tel:`` it is the number.
    ``params`` are the URI parameters, names lower-cased.
    """

    scheme: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None
    params: tuple[tuple[str, str], ...] = ()
    headers: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        """The value of URI parameter ``name`` (``""`` for a flag such as ``;lr``)."""
        for key, value in self.params:
            if key == name.lower():
                return value
        return default

    @property
    def number(self) -> str:
        """The user without its parameters and visual separators: ``+1-212-555-0123`` → ``+12125550123``."""
        return _SEPARATORS.sub("", self.user.split(";", 1)[0])


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact value: display name, the URI text, the header parameters (``tag``)."""

    display: str
    uri: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str, default: str | None = None) -> str | None:
        """The value of header parameter ``name``; ``default`` when absent."""
        for key, value in self.params:
            if key == name.lower():
                return value
        return default


def _params(text: str, where: str) -> tuple[tuple[str, str], ...]:
    """``;a=1;b`` → (("a", "1"), ("b", "")); quoted values unquoted."""
    found: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _PARAM.match(text, pos)
        if not m or m.end() == pos:
            raise SipParseError(f"bad parameters {text[pos : pos + 40]!r} in {where}")
        value = m.group(2) or ""
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.append((m.group(1).lower(), value))
        pos = m.end()
    return tuple(found)


def parse_uri(text: str) -> SipUri:
    """Parse a ``sip:``, ``sips:`` or ``tel:`` URI (no angle brackets, no header parameters).

    Raises:
        SipParseError: not a URI, another scheme, no host, a bad port or number.
    """
    m = _URI.fullmatch(text.strip())
    if not m:
        raise SipParseError(f"{text[:60]!r} is not a URI")
    scheme, rest = m.group(1).lower(), m.group(2)
    if scheme == "tel":
        number, semi, params = rest.partition(";")
        if not (_GLOBAL_NUMBER.fullmatch(number) or _LOCAL_NUMBER.fullmatch(number)):
            raise SipParseError(f"{text[:60]!r} has no telephone number")
        return SipUri("tel", user=number, params=_params(semi + params, text[:60]))
    if scheme not in DEFAULT_PORTS:
        raise SipParseError(f"{text[:60]!r} is not a sip:, sips: or tel: URI")
    rest, _, headers = rest.partition("?")
    userinfo, at, hostpart = rest.partition("@")
    if not at:
        userinfo, hostpart = "", rest
    user, _, password = userinfo.partition(":")
    if at and not user:
        raise SipParseError(f"{text[:60]!r} has an empty user")
    hostport, semi, params = hostpart.partition(";")
    host, port = _host_port(hostport, text)
    return SipUri(scheme, user, password, host, port, _params(semi + params, text[:60]), headers)


def _host_port(hostport: str, text: str) -> tuple[str, int | None]:
    if hostport.startswith("["):  # IPv6 reference
        close = hostport.find("]")
        host, port_text = hostport[: close + 1], hostport[close + 1 :]
    else:
        host, colon, port_text = hostport.partition(":")
        port_text = colon + port_text
    if not host or not _HOST.fullmatch(host):
        raise SipParseError(f"{text[:60]!r} has no host" if not host else f"{text[:60]!r} has a bad host")
    if not port_text:
        return host, None
    if not (port_text.startswith(":") and port_text[1:].isdigit() and port_text[1:].isascii()):
        raise SipParseError(f"{text[:60]!r} has a bad port")
    port = int(port_text[1:])
    if port > 65535:
        raise SipParseError(f"{text[:60]!r} has a bad port")
    return host, port


def parse_name_addr(value: str) -> NameAddr:
    """Parse a From/To/Contact value: ``"Name" <uri>;tag=x``, ``Name <uri>`` or ``uri;tag=x``.

    Raises:
        SipParseError: empty, an unclosed quote or angle bracket, or text after the URI
            that is not parameters.
    """
    text = value.strip()
    if not text:
        raise SipParseError("empty address")
    display = ""
    if text.startswith('"'):
        m = _QUOTED.match(text)
        if not m:
            raise SipParseError(f"unclosed quote in {value[:60]!r}")
        display = re.sub(r"\\(.)", r"\1", m.group(1))
        text = text[m.end() :].lstrip()
        if not text.startswith("<"):
            raise SipParseError(f"no <URI> after the display name in {value[:60]!r}")
    if "<" in text:
        start = text.index("<")
        end = text.find(">", start)
        if end < 0:
            raise SipParseError(f"no closing '>' in {value[:60]!r}")
        if start:
            display = " ".join(text[:start].split())
            if '"' in display:
                raise SipParseError(f"stray quote in {value[:60]!r}")
        uri, rest = text[start + 1 : end].strip(), text[end + 1 :]
    else:
        uri, semi, rest = text.partition(";")
        uri, rest = uri.strip(), semi + rest
    if not uri:
        raise SipParseError(f"no URI in {value[:60]!r}")
    return NameAddr(display, uri, _params(rest, value[:60]))


def uri_of(value: str) -> str:
    """The URI text inside a From/To/Contact value: ``"Name" <sip:a@b>;tag=x`` → ``sip:a@b``.

    Returns ``""`` when the value cannot be read.
    """
    try:
        return parse_name_addr(value).uri
    except SipParseError:
        return ""


def uri_user(value: str) -> str:
    """The user (the number, for ``tel:``) of the URI in a From/To/Contact value or a bare URI.

    User parameters (``;isub=``) and a password are left out. Returns ``""``
    when there is no user, the scheme is not sip/sips/tel, or the value
    cannot be read.
    """
    try:
        return parse_uri(parse_name_addr(value).uri).user.split(";", 1)[0]
    except SipParseError:
        return ""


def display_name(value: str) -> str:
    """The display name of a From/To value, unquoted; ``""`` when it has none or cannot be read."""
    try:
        return parse_name_addr(value).display
    except SipParseError:
        return ""


def host_port(uri: str) -> tuple[str, int]:
    """Host and port of a ``sip:`` or ``sips:`` URI (5060, or 5061 for sips:, when absent).

    Raises:
        SipParseError: (a ``ValueError``) not a sip:/sips: URI with a host.
    """
    parsed = parse_uri(parse_name_addr(uri).uri)
    if parsed.scheme not in DEFAULT_PORTS:
        raise SipParseError(f"{uri!r} is not a sip: URI")
    return parsed.host, parsed.port if parsed.port is not None else DEFAULT_PORTS[parsed.scheme]
