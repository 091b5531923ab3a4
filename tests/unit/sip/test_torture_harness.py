"""The torture harness rewrites only the top Via's sent-by, and judges outcomes as the table says."""

from __future__ import annotations

import pytest

from tests.integration.sip.torture import load, outcome_allowed, rewrite_top_via

ME = "127.0.0.1"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP host.example.com;branch=z9hG4bKx\r\nVia: SIP/2.0/UDP other\r\n\r\n",
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\nVia: SIP/2.0/UDP other\r\n\r\n",
        ),
        (  # compact form, a port to replace
            b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKy\r\n\r\n",
            b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKy\r\n\r\n",
        ),
        (  # folded over lines, odd spacing (RFC 4475 wsinv)
            b"INVITE sip:a@b SIP/2.0\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n\r\n",
            b"INVITE sip:a@b SIP/2.0\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    127.0.0.1:5999;branch=390skdjuw\r\n\r\n",
        ),
        (  # a Via-looking line in the body is not touched
            b"INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nVia: SIP/2.0/UDP 192.0.2.9\r\n",
            b"INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nVia: SIP/2.0/UDP 192.0.2.9\r\n",
        ),
    ],
)
def test_rewrite_top_via_changes_only_the_sent_by(before: bytes, after: bytes) -> None:
    assert rewrite_top_via(before, ME, 5999) == after


def test_every_fixture_request_gets_the_test_address_and_keeps_its_length_otherwise() -> None:
    for msg in load():
        if msg.kind != "request":
            continue
        out = rewrite_top_via(msg.data, ME, 5999)
        assert b"127.0.0.1:5999" in out, msg.name
        assert out.count(b"\r\n") == msg.data.count(b"\r\n"), msg.name


@pytest.mark.parametrize(
    ("final", "allowed", "ok"),
    [
        (None, ["drop"], True),
        (None, ["400"], False),
        (400, ["400", "drop"], True),
        (486, ["final"], True),
        (200, ["400"], False),
        (501, ["501"], True),
    ],
)
def test_outcome_allowed(final: int | None, allowed: list[str], ok: bool) -> None:
    assert outcome_allowed(final, allowed) is ok
