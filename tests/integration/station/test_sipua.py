"""The scriptable user agent (appliance.demo.sipua) between two real processes.

The switchboard tests and the demo's traffic generator stand on it, so
what they rely on is checked here: caller ID and X- headers arrive, digits
both ways by RFC 4733 and SIP INFO, audio is heard and recorded, MESSAGEs
go out and come in, and a refused call reports its code.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

from tests.integration.sip.peers import SipUA


def test_call_with_caller_id_headers_dtmf_both_ways_and_hangup(sipua: Callable[..., SipUA]) -> None:
    callee = sipua(name="callee", auto_answer=True)
    caller = sipua(name="caller")
    cid = caller.call(callee.contact, headers={"X-Clinic-Test": "42"}, from_user="+48601234567")
    incoming = callee.wait_for("incoming")
    assert incoming["caller"] == "+48601234567"
    assert incoming["headers"] == {"X-Clinic-Test": "42"}
    assert incoming["src"].startswith("127.0.0.1:")
    inbound = incoming["call"]
    caller.wait_state("CONFIRMED", cid)
    caller.wait_for("media", lambda e: e["call"] == cid and e["active"])
    callee.wait_for("media", lambda e: e["call"] == inbound and e["active"])

    caller.dtmf("19#", cid)
    got = [callee.wait_for("dtmf", lambda e: e["call"] == inbound) for _ in range(3)]
    assert [(e["digit"], e["method"]) for e in got] == [("1", "rfc4733"), ("9", "rfc4733"), ("#", "rfc4733")]
    callee.dtmf_info("5", inbound)
    back = caller.wait_for("dtmf", lambda e: e["call"] == cid)
    assert (back["digit"], back["method"]) == ("5", "info")

    caller.hangup(cid)
    assert caller.wait_state("DISCONNECTED", cid)["code"] == 200
    callee.wait_state("DISCONNECTED", inbound)


def test_audio_played_is_heard_and_recorded(sipua: Callable[..., SipUA], tone_wav: Path, peer_dir: Path) -> None:
    callee = sipua(name="callee", auto_answer=True)
    caller = sipua(name="caller")
    cid = caller.call(callee.contact)
    inbound = callee.wait_for("incoming")["call"]
    caller.wait_for("media", lambda e: e["call"] == cid and e["active"])
    callee.wait_for("media", lambda e: e["call"] == inbound and e["active"])
    recording = peer_dir / "heard.wav"
    callee.record(recording, inbound)
    caller.play(tone_wav, cid)
    caller.wait_for("played", lambda e: e["call"] == cid, timeout=5)
    heard = callee.wait_heard(1.5, inbound, timeout=3)
    assert heard["peak"] > 5000
    callee.stop_record(inbound)
    callee.wait_for("recorded", lambda e: e["wav"] == str(recording))
    with wave.open(str(recording)) as w:
        assert w.getframerate() == 8000 and w.getnframes() / 8000 >= 1.5
    caller.hangup(cid)
    caller.wait_state("DISCONNECTED", cid)


def test_silence_is_not_heard(sipua: Callable[..., SipUA]) -> None:
    callee = sipua(name="callee", auto_answer=True)
    caller = sipua(name="caller")
    cid = caller.call(callee.contact)
    inbound = callee.wait_for("incoming")["call"]
    callee.wait_for("audio", lambda e: e["call"] == inbound and e["seconds"] >= 1.0, timeout=4)
    assert max(e["heard"] for e in callee.seen("audio")) == 0.0
    caller.hangup(cid)


def test_refusal_code_and_manual_answer(sipua: Callable[..., SipUA]) -> None:
    busy = sipua(name="busy", auto_answer=True, answer_code=486)
    phone = sipua(name="phone")
    caller = sipua(name="caller")
    refused = caller.call(busy.contact)
    assert caller.wait_state("DISCONNECTED", refused)["code"] == 486

    cid = caller.call(phone.contact)
    caller.wait_state("EARLY", cid)  # ringing until the script answers
    inbound = phone.wait_for("incoming")["call"]
    phone.answer(inbound)
    caller.wait_state("CONFIRMED", cid)
    phone.hangup(inbound)
    caller.wait_state("DISCONNECTED", cid)


def test_messages_both_ways(sipua: Callable[..., SipUA]) -> None:
    a = sipua(name="a")
    b = sipua(name="b")
    a.message(b.contact, '{"hello": 1}', "application/json")
    got = b.wait_for("message")
    assert (got["content_type"], got["body"]) == ("application/json", '{"hello": 1}')
    assert a.wait_for("message_status")["code"] == 200


def test_bad_commands_are_reported_not_fatal(sipua: Callable[..., SipUA]) -> None:
    ua = sipua(name="ua")
    ua.send("fly")
    assert "unknown command" in ua.wait_for("error")["message"]
    ua.hangup(call=99)
    assert "no such call" in ua.wait_for("error")["message"]
    assert ua.proc.stdin is not None
    ua.proc.stdin.write(b"not json\n")
    ua.proc.stdin.flush()
    ua.wait_for("error")
    assert ua.close() == 0
