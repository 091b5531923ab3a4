"""Writing the two SIP messages the box sends itself: a response and an OPTIONS ping. Pure.

The loopback responder that measures the call limit answers INVITEs with
:func:`build_response`; the trunk monitor pings the provider with
:func:`build_options`. Everything else the box sends, PJSUA2 writes.
"""

from __future__ import annotations

import secrets

from appliance.sip.message import SipMessage


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
