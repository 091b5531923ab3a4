"""The SIP message reader: start lines, compact and folded headers, bodies, and malformed input."""

from __future__ import annotations

import random

import pytest

from appliance.sip import (
    SipParseError,
    build_options,
    build_response,
    extension_headers,
    header,
    parse,
    parse_name_addr,
    uri_user,
)

# The compact forms of the IANA header-field registry, written out here so the
# module's table is checked against it rather than against itself.
COMPACT_FORMS = [
    ("a", "Accept-Contact"),
    ("b", "Referred-By"),
    ("c", "Content-Type"),
    ("d", "Request-Disposition"),
    ("e", "Content-Encoding"),
    ("f", "From"),
    ("i", "Call-ID"),
    ("j", "Reject-Contact"),
    ("k", "Supported"),
    ("l", "Content-Length"),
    ("m", "Contact"),
    ("n", "Identity-Info"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("s", "Subject"),
    ("t", "To"),
    ("u", "Allow-Events"),
    ("v", "Via"),
    ("x", "Session-Expires"),
    ("y", "Identity"),
]


def request(*headers: str, body: str = "") -> bytes:
    return ("INVITE sip:desk1@box SIP/2.0\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n" + body).encode()


@pytest.mark.parametrize(("compact", "full"), COMPACT_FORMS)
def test_compact_header_forms(compact: str, full: str) -> None:
    value = "0" if full == "Content-Length" else "v-" + compact
    for sent in (compact, compact.upper()):
        msg = parse(request(f"{sent}: {value}"))
        assert msg.header(full) == value
        assert msg.header(full.upper()) == value
        assert msg.header(compact) == value
        assert msg.headers == ((sent, value),)  # the name as sent is kept


@pytest.mark.parametrize("name", ["Call-ID", "call-id", "CALL-ID", "cAlL-iD", "i", "I"])
def test_header_names_are_case_insensitive(name: str) -> None:
    assert parse(request("Call-Id: abc@h")).header(name) == "abc@h"


def test_compact_and_full_forms_of_one_header_are_one_header() -> None:
    msg = parse(request("Via: SIP/2.0/UDP a;branch=z9hG4bK1", "v: SIP/2.0/UDP b;branch=z9hG4bK2"))
    assert msg.all("via") == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"]
    assert msg.all("v") == msg.all("Via")
    assert msg.all("Route") == []


@pytest.mark.parametrize(
    ("lines", "value"),
    [
        (["Subject: one", " two"], "one two"),
        (["Subject: one", "\ttwo", "   three"], "one two three"),
        (["Subject:", "  only folded"], "only folded"),
        (["s :", "  blank before the colon"], "blank before the colon"),
        (["Subject   :   spaced   "], "spaced"),
        (["Subject:"], ""),
    ],
)
def test_folded_lines_and_blanks(lines: list[str], value: str) -> None:
    msg = parse(request(*lines, "Call-ID: after"))
    assert msg.header("Subject") == value
    assert msg.header("Call-ID") == "after"


def tortuous_invite() -> bytes:
    """After RFC 4475 wsinv: legal but unusual whitespace, case and folding."""
    body = "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n"
    head = (
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
        "TO :\r\n"
        " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n'
        "  ;\r\n"
        "  tag = 98asjd8\r\n"
        "MaX-fOrWaRdS: 0068\r\n"
        "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
        f"Content-Length   : {len(body)}\r\n"
        "cseq: 0009\r\n"
        "  INVITE\r\n"
        "Via  : SIP  /   2.0\r\n"
        " /UDP\r\n"
        "    192.0.2.2;branch=390skdjuw\r\n"
        "s :\r\n"
        "NewFangledHeader:   newfangled value\r\n"
        " continued newfangled value\r\n"
        "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
        "Content-Type: application/sdp\r\n"
        "Route:\r\n"
        " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
        "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
        "  branch  =   z9hG4bK9ikj8  ,\r\n"
        " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
        " z9hG4bK30239\r\n"
        'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =\r\n'
        "      newvalue ;\r\n"
        "  secondparam ; q = 0.33\r\n"
        "\r\n"
    )
    return (head + body).encode()


def test_tortuous_invite_is_read() -> None:
    msg = parse(tortuous_invite())
    assert (msg.method, msg.uri) == ("INVITE", "sip:vivekg@chair-dnrc.example.com;unknownparam")
    assert msg.header("cseq") == "0009 INVITE"
    assert msg.header("max-forwards") == "0068"
    assert msg.header("subject") == ""
    assert msg.header("NewFangledHeader") == "newfangled value continued newfangled value"
    assert len(msg.all("via")) == 2
    assert msg.body.startswith(b"v=0\r\n") and msg.body.endswith(b"t=0 0\r\n")
    sender = parse_name_addr(msg.header("from"))
    assert (sender.display, sender.uri, sender.param("tag")) == (
        'J Rosenberg \\"',
        "sip:jdrosen@example.com",
        "98asjd8",
    )
    assert uri_user(msg.header("to")) == "vivekg"
    assert parse_name_addr(msg.header("to")).param("tag") == "1918181833n"
    contact = parse_name_addr(msg.header("contact"))
    assert (contact.display, contact.param("newparam"), contact.param("q")) == ('Quoted string ""', "newvalue", "0.33")


@pytest.mark.parametrize(
    ("first_line", "method", "uri"),
    [
        ("OPTIONS sip:a@b SIP/2.0", "OPTIONS", "sip:a@b"),
        ("INVITE sips:bob@biloxi.example.com SIP/2.0", "INVITE", "sips:bob@biloxi.example.com"),
        ("INVITE tel:+1-201-555-0123 SIP/2.0", "INVITE", "tel:+1-201-555-0123"),
        # RFC 4475 intmeth: a method is any token; unkscm: any scheme
        (
            "!interesting-Method0123456789_*+`.%indeed'~ sip:a@b SIP/2.0",
            "!interesting-Method0123456789_*+`.%indeed'~",
            "sip:a@b",
        ),
        (
            "OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0",
            "OPTIONS",
            "nobodyknowsthisscheme:totallyopaquecontent",
        ),
        ("OPTIONS sip:a@b sip/2.0", "OPTIONS", "sip:a@b"),  # the version is case-insensitive (RFC 3261 7.1)
    ],
)
def test_request_lines(first_line: str, method: str, uri: str) -> None:
    msg = parse(f"{first_line}\r\nCall-ID: x\r\n\r\n".encode())
    assert (msg.method, msg.uri, msg.status) == (method, uri, None)


@pytest.mark.parametrize(
    ("first_line", "status", "reason"),
    [
        ("SIP/2.0 200 OK", 200, "OK"),
        ("SIP/2.0 486 Busy Here", 486, "Busy Here"),
        ("SIP/2.0 100", 100, ""),
        ("SIP/2.0 699 Whatever it is", 699, "Whatever it is"),
    ],
)
def test_status_lines(first_line: str, status: int, reason: str) -> None:
    msg = parse(f"{first_line}\r\nCall-ID: x\r\n\r\n".encode())
    assert (msg.status, msg.reason, msg.method) == (status, reason, None)


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (request("Content-Length: 4", body="abcdefgh"), b"abcd"),  # extra bytes are dropped (RFC 3261 18.3)
        (request("l: 0", body="junk"), b""),
        (request(body="no length: the rest of the datagram"), b"no length: the rest of the datagram"),
        (b"\r\n\r\n" + request("Content-Length: 2", body="hi"), b"hi"),  # CRLFs before the start line
        (b"INVITE sip:a@b SIP/2.0\nl: 3\n\nabc", b"abc"),  # bare newlines
    ],
)
def test_bodies(data: bytes, body: bytes) -> None:
    assert parse(data).body == body


def test_text_and_bytes_read_alike() -> None:
    data = request('From: "Zo\u00eb" <sip:zoe@h>;tag=1', "Content-Length: 2", body="\u00e9")
    assert parse(data).header("from") == parse(data.decode()).header("from") == '"Zo\u00eb" <sip:zoe@h>;tag=1'
    assert parse(data.decode()).body == "\u00e9".encode()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty message"),
        (b"\r\n\r\n", "empty message"),
        (b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n", "bad request line"),  # missing start line
        (b"\r\nCall-ID: x\r\n\r\n", "bad request line"),
        (b"INVITE sip:a@b SIP/2.0\r\nCall-ID x\r\n\r\n", "without a colon"),
        (b"INVITE sip:a@b SIP/2.0\r\nCall ID: x\r\n\r\n", "bad header name"),
        (b"INVITE sip:a@b SIP/2.0\r\n: x\r\n\r\n", "bad header name"),
        (b"INVITE sip:a@b SIP/2.0\r\n  folded: first\r\n\r\n", "continuation line"),
        (request("Content-Length: abc"), "bad Content-Length"),
        (request("Content-Length: -999"), "bad Content-Length"),  # RFC 4475 ncl
        (request("Content-Length: 5 5"), "bad Content-Length"),
        (request("Content-Length: 9999", body="short"), "truncated"),  # RFC 4475 clerr
        (request("Content-Length: 3", "l: 4", body="abcd"), "more than one Content-Length"),  # RFC 4475 mcl01
        (b"\xff\xfe\x00\x01\x9c\x80garbage\r\n\r\n", "not UTF-8"),
        (b"\x00\x01\x02\x03\x04\r\n\r\n", "control character"),
        (b"INVITE sip:a@b SIP/2.0\r\nSubject: a\x00b\r\n\r\n", "control character"),
        (b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-", "truncated"),
        (b"INVITE sip:a@b SIP/2.0", "truncated"),
        (b"INVITE sip:a@b SIP/7.0\r\n\r\n", "unsupported SIP version"),  # RFC 4475 badvers
        (b"INVITE <sip:a@b> SIP/2.0\r\n\r\n", "bad request line"),  # RFC 4475 ltgtruri
        (b"INVITE sip:a@b; lr SIP/2.0\r\n\r\n", "bad request line"),  # RFC 4475 lwsruri
        (b"INVITE  sip:a@b  SIP/2.0\r\n\r\n", "bad request line"),  # RFC 4475 lwsstart
        (b"OPTIONS sip:a@b SIP/2.0  \r\n\r\n", "bad request line"),  # RFC 4475 trws
        (b"INVITE sip:a@b\r\n\r\n", "bad request line"),
        (b"INVITE\r\n\r\n", "bad request line"),
        (b"SIP/2.0 4294967301 better not break the receiver\r\n\r\n", "bad status line"),  # RFC 4475 bigcode
        (b"SIP/2.0 OK\r\n\r\n", "bad status line"),
        (b"SIP/2.0 20 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "bad request line"),
        (b"x" * 70000, "too large"),
    ],
)
def test_malformed_messages_raise_sip_parse_error(data: bytes, why: str) -> None:
    with pytest.raises(SipParseError, match=why):
        parse(data)


def test_every_truncation_and_random_garbage_is_a_clean_error() -> None:
    whole = tortuous_invite()
    rng = random.Random(18)
    inputs = [whole[:cut] for cut in range(len(whole))]
    inputs += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(300)]
    inputs += [bytes(rng.choice(b'INVITE sip:@;<>":\r\n \t') for _ in range(rng.randrange(1, 120))) for _ in range(300)]
    parsed = 0
    for data in inputs:
        try:
            msg = parse(data)
        except SipParseError:
            continue
        parsed += 1
        for name in ("from", "to", "contact"):  # the readers of what parsed never crash either
            uri_user(msg.header(name))
    assert parsed < len(inputs)  # most of it is refused...
    assert parse(whole).method == "INVITE"  # ...and the whole message is not


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe garbage", "INVITE sip:a@b SIP/2.0\r\nx-a 1\r\n\r\n", "INVITE sip:a@b SIP/2.0\r\nX-A: 1"],
)
def test_one_look_readers_give_nothing_for_unreadable_messages(data: bytes | str) -> None:
    assert header(data, "X-A") == ""
    assert extension_headers(data) == {}


def test_extension_header_names_are_one_name_whatever_their_case() -> None:
    msg = parse(request("X-Route: gsm", "x-route: trunk", "X-Other: 1"))
    assert msg.extension_headers() == {"X-Route": "gsm", "X-Other": "1"}
    assert msg.header("x-ROUTE") == "gsm"


def test_build_response_answers_what_was_asked() -> None:
    invite = parse(
        request(
            "v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1",
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2",
            "f: <sip:+48601234567@box>;tag=a",
            "t: <sip:probe@127.0.0.1>",
            "i: call-1",
            "CSeq: 1 INVITE",
        )
    )
    reply = parse(build_response(invite, 486, "Busy Here", to_tag="probe"))
    assert (reply.status, reply.reason) == (486, "Busy Here")
    assert reply.all("via") == invite.all("via")
    assert parse_name_addr(reply.header("to")).param("tag") == "probe"
    assert (reply.header("call-id"), reply.header("cseq"), reply.body) == ("call-1", "1 INVITE", b"")


def test_build_options_reads_back() -> None:
    data, call_id = build_options("sip:provider.example:5080", "10.0.0.2", 5062, user_agent="ClinicBox")
    msg = parse(data)
    assert (msg.method, msg.uri, msg.header("call-id")) == ("OPTIONS", "sip:provider.example:5080", call_id)
    assert (msg.header("user-agent"), msg.header("max-forwards"), msg.body) == ("ClinicBox", "70", b"")
