"""sip:, sips: and tel: URIs and From/To values, as the caller ID and the station read them."""

from __future__ import annotations

import pytest

from appliance.sip import SipParseError, display_name, host_port, parse_name_addr, parse_uri, uri_of, uri_user

IPV6 = "[2001:db8::10]"


@pytest.mark.parametrize(
    ("text", "scheme", "user", "password", "host", "port", "params"),
    [
        ("sip:alice@atlanta.com", "sip", "alice", "", "atlanta.com", None, ()),
        ("SIP:Alice@Atlanta.COM:5070;Transport=TCP", "sip", "Alice", "", "Atlanta.COM", 5070, (("transport", "TCP"),)),
        ("sips:bob@biloxi.example.com", "sips", "bob", "", "biloxi.example.com", None, ()),
        (
            "sip:alice:secretword@atlanta.com;transport=tcp",
            "sip",
            "alice",
            "secretword",
            "atlanta.com",
            None,
            (("transport", "tcp"),),
        ),
        (
            "sip:+1-212-555-1212:1234@gateway.com;user=phone",
            "sip",
            "+1-212-555-1212",
            "1234",
            "gateway.com",
            None,
            (("user", "phone"),),
        ),
        ("sip:alice;day=tuesday@atlanta.com", "sip", "alice;day=tuesday", "", "atlanta.com", None, ()),
        ("sip:%61lice@atlanta.com;lr", "sip", "%61lice", "", "atlanta.com", None, (("lr", ""),)),
        (f"sip:{IPV6}:5070", "sip", "", "", IPV6, 5070, ()),
        (f"sips:core@{IPV6}", "sips", "core", "", IPV6, None, ()),
        (
            "sip:127.0.0.1:5060;maddr=239.255.255.1;ttl=15",
            "sip",
            "",
            "",
            "127.0.0.1",
            5060,
            (("maddr", "239.255.255.1"), ("ttl", "15")),
        ),
        ("tel:+1-201-555-0123", "tel", "+1-201-555-0123", "", "", None, ()),
        ("TEL:+48601234567", "tel", "+48601234567", "", "", None, ()),
        ("tel:7042;phone-context=example.com", "tel", "7042", "", "", None, (("phone-context", "example.com"),)),
        ("tel:863-1234;phone-context=+1-914-555", "tel", "863-1234", "", "", None, (("phone-context", "+1-914-555"),)),
        ("tel:+1(212)555.0123;ext=22", "tel", "+1(212)555.0123", "", "", None, (("ext", "22"),)),
        ("tel:0601234567", "tel", "0601234567", "", "", None, ()),  # no phone-context: trunks do this
    ],
)
def test_parse_uri(
    text: str, scheme: str, user: str, password: str, host: str, port: int | None, params: tuple[tuple[str, str], ...]
) -> None:
    uri = parse_uri(text)
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port, uri.params) == (
        scheme,
        user,
        password,
        host,
        port,
        params,
    )


def test_uri_headers_and_params_are_apart() -> None:
    uri = parse_uri("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com")
    assert (uri.host, uri.param("method"), uri.param("METHOD"), uri.headers) == (
        "atlanta.com",
        "REGISTER",
        "REGISTER",
        "to=alice%40atlanta.com",
    )
    assert uri.param("lr") is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("tel:+1-201-555-0123", "+12015550123"),
        ("tel:+1(212)555.0123;ext=22", "+12125550123"),
        ("tel:863-1234;phone-context=+1-914-555", "8631234"),
        ("sip:+48-601-234-567;isub=12@gw;user=phone", "+48601234567"),
    ],
)
def test_number_drops_visual_separators(text: str, number: str) -> None:
    assert parse_uri(text).number == number


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not a URI"),
        ("127.0.0.1:5060", "not a URI"),
        ("http://x", "not a sip:, sips: or tel: URI"),
        ("urn:service:sos", "not a sip:, sips: or tel: URI"),
        ("sip:", "no host"),
        ("sip:@host", "empty user"),
        ("sip:a@", "no host"),
        ("sip:a@host:99999", "bad port"),
        ("sip:a@host:", "bad port"),
        ("sip:a@host:port", "bad port"),
        ("sip:j.user @ example.com", "bad host"),  # RFC 4475 badaspec
        ("sip:a@[::1", "no host"),
        ("sip:a@b;;lr", "bad parameters"),
        ("sip:a@b;", "bad parameters"),
        ("tel:", "no telephone number"),
        ("tel:+", "no telephone number"),
        ("tel:+abc", "no telephone number"),
        ("tel:12 34", "no telephone number"),
        ("tel:+1-201-555-0123;;", "bad parameters"),
    ],
)
def test_parse_uri_refuses(text: str, why: str) -> None:
    with pytest.raises(SipParseError, match=why):
        parse_uri(text)


@pytest.mark.parametrize(
    ("value", "display", "uri", "tag"),
    [
        ('"Clinic" <sip:+12125550123@127.0.0.1:5060>;tag=abc', "Clinic", "sip:+12125550123@127.0.0.1:5060", "abc"),
        ("Clinic Front  Desk <sip:desk@box>", "Clinic Front Desk", "sip:desk@box", None),
        ("<sip:desk@box>", "", "sip:desk@box", None),
        ('"" <sip:a@b>', "", "sip:a@b", None),
        ("sip:100@127.0.0.1;tag=9", "", "sip:100@127.0.0.1", "9"),
        (
            '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8',
            'J Rosenberg \\"',
            "sip:jdrosen@example.com",
            "98asjd8",
        ),
        ('"sip:evil@x <sip:spoof@y>" <sip:real@h>', "sip:evil@x <sip:spoof@y>", "sip:real@h", None),
        ("Bob <tel:+1-201-555-0123>;tag=x", "Bob", "tel:+1-201-555-0123", "x"),
        ('"Zo\u00eb" <sips:zoe@h;transport=tls>;tag=1', "Zo\u00eb", "sips:zoe@h;transport=tls", "1"),
        ('<sip:a@b;lr>;tag="quoted;value"', "", "sip:a@b;lr", "quoted;value"),
        ("  <sip:a@b>  ;  TAG=Z  ", "", "sip:a@b", "Z"),
    ],
)
def test_parse_name_addr(value: str, display: str, uri: str, tag: str | None) -> None:
    addr = parse_name_addr(value)
    assert (addr.display, addr.uri, addr.param("tag")) == (display, uri, tag)
    assert display_name(value) == display
    assert uri_of(value) == uri


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty address"),
        ("   ", "empty address"),
        ('"Unterminated <sip:a@b>', "unclosed quote"),  # RFC 4475 quotbal
        ('"Name" sip:a@b', "no <URI> after the display name"),
        ("<sip:a@b", "no closing '>'"),
        ("Name <sip:a@b> trailing", "bad parameters"),
        ("<sip:a@b>, <sip:c@d>", "bad parameters"),
        ("<>", "no URI"),
        ('Na"me <sip:a@b>', "stray quote"),
    ],
)
def test_parse_name_addr_refuses(value: str, why: str) -> None:
    with pytest.raises(SipParseError, match=why):
        parse_name_addr(value)
    assert (uri_of(value), uri_user(value), display_name(value)) == ("", "", "")


@pytest.mark.parametrize(
    ("value", "user"),
    [
        ("tel:+1-201-555-0123;phone-context=example.com", "+1-201-555-0123"),  # the station used to read ""
        ("<tel:+48601234567>;tag=1", "+48601234567"),
        ("Bob <TEL:+48601234567>", "+48601234567"),
        ("<sip:alice:pw@h>", "alice"),  # the password is not the user
        ("<sip:+48601234567;isub=12@gw;user=phone>", "+48601234567"),  # the switchboard used to read ""
        ('"sip:evil@x" <sip:real@h>', "real"),  # the display name is not searched for a URI
        ("<sips:bob@biloxi.example.com>", "bob"),
        ("SIP:Bob@H", "Bob"),  # schemes are case-insensitive
        ("<sip:%2B48601234567@h>", "%2B48601234567"),  # escapes are kept, as both readers did
        ("<sip:box.local>", ""),
        ("<mailto:a@b>", ""),
        ("<urn:service:sos>", ""),
        ("100@host", ""),  # no scheme, no URI
        ("<sip:a@b", ""),
        ("", ""),
    ],
)
def test_uri_user(value: str, user: str) -> None:
    assert uri_user(value) == user


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sips:core@10.0.0.2", ("10.0.0.2", 5061)),
        ("sips:core@10.0.0.2:5071", ("10.0.0.2", 5071)),
        (f"sip:{IPV6}", (IPV6, 5060)),
        (f"<sip:a@{IPV6}:5070;transport=udp>", (IPV6, 5070)),
        ('"Core" <SIP:core@box.local>;tag=1', ("box.local", 5060)),
    ],
)
def test_host_port_of_sips_and_ipv6(uri: str, expected: tuple[str, int]) -> None:
    assert host_port(uri) == expected


@pytest.mark.parametrize("bad", ["tel:+48601234567", "<sip:a@b", "", "sip:a@b:70000"])
def test_host_port_raises_sip_parse_error(bad: str) -> None:
    with pytest.raises(SipParseError):
        host_port(bad)
