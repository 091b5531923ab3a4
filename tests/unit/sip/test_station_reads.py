"""SIP text the station reads from PJSUA2's whole-message strings (moved from station/sipmsg)."""

from __future__ import annotations

import pytest

from appliance.sip import extension_headers, header, host_port, uri_of, uri_user

INVITE = (
    "INVITE sip:desk1@127.0.0.1:5071 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    'From: "Clinic" <sip:+12125550123@127.0.0.1:5060>;tag=abc\r\n'
    "To: <sip:desk1@127.0.0.1:5071>\r\n"
    "x-clinicbox-auth: v1:1000:ab:cd\r\n"
    "X-ClinicBox-Answer: auto\r\n"
    "X-Long: first\r\n"
    "  second\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
    "X-Body: not a header\r\n"
)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-ClinicBox-Auth", "v1:1000:ab:cd"),  # names are case-insensitive
        ("x-clinicbox-answer", "auto"),
        ("From", '"Clinic" <sip:+12125550123@127.0.0.1:5060>;tag=abc'),
        ("X-Long", "first second"),  # folded line joined
        ("X-Body", ""),  # the body is not headers
        ("X-Missing", ""),
    ],
)
def test_header(name: str, value: str) -> None:
    assert header(INVITE, name) == value


def test_compact_forms_and_bare_newlines() -> None:
    msg = "INVITE sip:a@b SIP/2.0\nf: <sip:+48601234567@box>;tag=1\nt: sip:desk1@h\n\n"
    assert header(msg, "From") == "<sip:+48601234567@box>;tag=1"
    assert header(msg, "To") == "sip:desk1@h"


def test_extension_headers_keep_first_and_name_as_sent() -> None:
    msg = "INVITE sip:a@b SIP/2.0\r\nX-A: 1\r\nX-A: 2\r\nx-b: 3\r\nSubject: s\r\n\r\n"
    assert extension_headers(msg) == {"X-A": "1", "x-b": "3"}


@pytest.mark.parametrize(
    ("value", "uri", "user"),
    [
        ('"Name" <sip:+48601234567@box:5060>;tag=x', "sip:+48601234567@box:5060", "+48601234567"),
        ("<sip:desk1@127.0.0.1:5071;transport=udp>", "sip:desk1@127.0.0.1:5071;transport=udp", "desk1"),
        ("sip:100@127.0.0.1;tag=9", "sip:100@127.0.0.1", "100"),
        ("sip:127.0.0.1:5060", "sip:127.0.0.1:5060", ""),
        ("<sip:anonymous@anonymous.invalid>", "sip:anonymous@anonymous.invalid", "anonymous"),
        ("", "", ""),
    ],
)
def test_uri_and_user_part(value: str, uri: str, user: str) -> None:
    assert uri_of(value) == uri
    assert uri_user(value) == user


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:127.0.0.1:5060", ("127.0.0.1", 5060)),
        ("sip:core@10.0.0.2:5070;transport=udp", ("10.0.0.2", 5070)),
        ("sip:box.local", ("box.local", 5060)),
        ("<sip:a@h:1>", ("h", 1)),
    ],
)
def test_host_port(uri: str, expected: tuple[str, int]) -> None:
    assert host_port(uri) == expected


@pytest.mark.parametrize("bad", ["http://x", "127.0.0.1:5060", "sip:", "sip:host:port", "sip:@:5"])
def test_host_port_refuses_what_is_not_a_sip_uri(bad: str) -> None:
    with pytest.raises(ValueError):
        host_port(bad)
