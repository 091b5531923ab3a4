"""The one SIP message reader of the box, used by the switchboard and the station. Pure, stdlib only.

The switchboard (core process) and the station (its own process) both read
raw SIP text where PJSUA2 offers no accessor: caller IDs, ``X-`` headers,
OPTIONS replies. They read it here, so both agree on compact headers,
folded lines and ``sip:``/``sips:``/``tel:`` URIs. This package imports
nothing but the standard library, so any layer may use it.

* :mod:`~appliance.sip.message`: :func:`parse` a whole message into a
  :class:`SipMessage`; :func:`header` and :func:`extension_headers` for one look.
* :mod:`~appliance.sip.uri`: :func:`parse_uri`, :func:`parse_name_addr` and the
  small readers :func:`uri_user`, :func:`uri_of`, :func:`display_name`, :func:`host_port`.
* :mod:`~appliance.sip.build`: the response and OPTIONS ping the box writes itself.

Malformed input raises :class:`SipParseError` (a ``ValueError``); the small
readers document the ``""`` they return instead.

Example:
    >>> from appliance import sip
    >>> msg = sip.parse("INVITE sip:desk1@box SIP/2.0\\r\\nf: Clinic <tel:+48-601-234-567>;tag=1\\r\\n\\r\\n")
    >>> sip.uri_user(msg.header("From")), sip.display_name(msg.header("From"))
    ('+48-601-234-567', 'Clinic')
"""

from appliance.sip.build import build_options, build_response
from appliance.sip.message import (
    COMPACT,
    MAX_MESSAGE,
    SipMessage,
    SipParseError,
    canonical,
    extension_headers,
    header,
    parse,
)
from appliance.sip.uri import (
    NameAddr,
    SipUri,
    display_name,
    host_port,
    parse_name_addr,
    parse_uri,
    uri_of,
    uri_user,
)

__all__ = [
    "COMPACT",
    "MAX_MESSAGE",
    "NameAddr",
    "SipMessage",
    "SipParseError",
    "SipUri",
    "build_options",
    "build_response",
    "canonical",
    "display_name",
    "extension_headers",
    "header",
    "host_port",
    "parse",
    "parse_name_addr",
    "parse_uri",
    "uri_of",
    "uri_user",
]
