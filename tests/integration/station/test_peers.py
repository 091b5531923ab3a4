"""The real-peer harness itself: kamailio, SIPp, baresip and sipvicious fixtures work.

Each test proves one helper against a sipua (or a station), so a failure in
a switchboard test that uses them points at the switchboard, not the harness.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from appliance.station import protocol
from tests.integration.sip.peers import (
    Baresip,
    Kamailio,
    SippScenario,
    SipUA,
    StationProc,
    options_ping,
    svmap,
    svwar,
    uac_xml,
    uas_xml,
)


def test_kamailio_registers_with_digest_auth_and_routes_a_call(kamailio: Kamailio, sipua: Callable[..., SipUA]) -> None:
    assert options_ping(kamailio.port)
    trunk = sipua(name="trunk", registrar=kamailio.uri, user="trunk1", password="secret", auto_answer=True)
    assert trunk.wait_for("reg", timeout=5)["code"] == 200
    intruder = sipua(name="intruder", registrar=kamailio.uri, user="trunk1", password="guess")
    assert intruder.wait_for("reg", timeout=5)["code"] in (401, 403)
    caller = sipua(name="caller", registrar=kamailio.uri, user="caller", password="callerpw")
    caller.wait_for("reg", lambda e: e["code"] == 200, timeout=5)
    cid = caller.call(f"sip:trunk1@127.0.0.1:{kamailio.port}", from_user="caller")  # authenticated by the proxy
    caller.wait_state("CONFIRMED", cid)
    incoming = trunk.wait_for("incoming")
    assert incoming["caller"] == "caller" and incoming["src"] == f"127.0.0.1:{kamailio.port}"
    caller.hangup(cid)
    trunk.wait_state("DISCONNECTED", incoming["call"])
    assert "REQ INVITE sip:trunk1@" in kamailio.log_text()


def test_kamailio_sends_calls_for_unregistered_numbers_to_the_pstn(peer_dir: Path, sipua: Callable[..., SipUA]) -> None:
    pstn = sipua(name="pstn", auto_answer=True)
    with Kamailio(peer_dir / "kam-pstn", pstn_port=pstn.port) as kam:
        trunk = sipua(name="trunk", registrar=kam.uri, user="trunk1", password="secret")
        trunk.wait_for("reg", lambda e: e["code"] == 200, timeout=5)
        cid = trunk.call(f"sip:+12125550199@127.0.0.1:{kam.port}", from_user="trunk1")
        trunk.wait_state("CONFIRMED", cid)
        incoming = pstn.wait_for("incoming")
        assert "+12125550199@" in incoming["to"] and incoming["src"] == f"127.0.0.1:{kam.port}"
        trunk.hangup(cid)
        trunk.wait_state("DISCONNECTED", cid)


def test_sipp_calls_with_caller_id_speech_and_rfc4733_digits(
    sipp: Callable[..., SippScenario], sipua: Callable[..., SipUA]
) -> None:
    callee = sipua(name="callee", auto_answer=True)
    xml = uac_xml(caller="+12125550142", headers={"X-Scenario": "ivr"}, steps=[("audio", 1.2), ("dtmf", "2#")])
    result = sipp(xml, target=f"127.0.0.1:{callee.port}").wait(15)
    assert (result.returncode, result.successful, result.failed) == (0, 1, 0), result.log
    incoming = callee.wait_for("incoming")
    assert incoming["caller"] == "+12125550142" and incoming["headers"] == {"X-Scenario": "ivr"}
    digits = [callee.wait_for("dtmf", lambda e: e["call"] == incoming["call"])["digit"] for _ in range(2)]
    assert digits == ["2", "#"]
    assert max(e["heard"] for e in callee.seen("audio")) > 0  # sip-tester's speech pcap was heard


def test_sipp_as_callee(sipp: Callable[..., SippScenario], sipua: Callable[..., SipUA]) -> None:
    callee = sipp(uas_xml(ring_ms=200, steps=[("audio", 1.0)], hangup=True))
    caller = sipua(name="caller")
    cid = caller.call(callee.uri)
    caller.wait_state("EARLY", cid)
    caller.wait_state("CONFIRMED", cid)
    caller.wait_heard(0.05, cid, timeout=3)
    caller.wait_state("DISCONNECTED", cid, timeout=5)  # SIPp hung up
    result = callee.wait(10)
    assert (result.returncode, result.successful) == (0, 1), result.log


def test_sipp_without_a_token_is_refused_by_a_station(
    sipp: Callable[..., SippScenario],
    sipua: Callable[..., SipUA],
    station_config: Callable[..., Path],
    station_proc: Callable[..., StationProc],
) -> None:
    core = sipua(name="core")
    station = station_proc(station_config({"desk1": {"password": "pw1"}}), station="desk1", core=core.contact)
    port = int(station.contact.rsplit(":", 1)[1])
    result = sipp(uac_xml(expect=403), target=f"127.0.0.1:{port}", service="desk1").wait(10)
    assert (result.returncode, result.successful) == (0, 1), result.log
    assert station.count("answering call") == 0


def test_baresip_calls_a_sipua_with_digits_and_audio(
    baresip: Callable[..., Baresip], sipua: Callable[..., SipUA]
) -> None:
    callee = sipua(name="callee", auto_answer=True)
    bs = baresip()
    bs.dial(callee.contact)
    bs.wait_event("CALL_ESTABLISHED")
    inbound = callee.wait_for("incoming")["call"]
    callee.wait_state("CONFIRMED", inbound)
    callee.wait_heard(0.5, inbound, timeout=4)  # baresip's WAV reached us
    bs.send_digits("31")
    assert [callee.wait_for("dtmf", lambda e: e["call"] == inbound)["digit"] for _ in range(2)] == ["3", "1"]
    bs.hangup()
    bs.wait_event("CALL_CLOSED")
    callee.wait_state("DISCONNECTED", inbound)


def test_baresip_answers_a_sipua(baresip: Callable[..., Baresip], sipua: Callable[..., SipUA]) -> None:
    bs = baresip(auto_answer=True)
    caller = sipua(name="caller")
    cid = caller.call(bs.uri)
    caller.wait_state("CONFIRMED", cid)
    bs.wait_event("CALL_ESTABLISHED")
    caller.wait_heard(0.5, cid, timeout=4)
    caller.hangup(cid)
    bs.wait_event("CALL_CLOSED")


def test_sipvicious_finds_a_sipua_but_cannot_call_through_a_station(
    scanner_home: Path,
    sipua: Callable[..., SipUA],
    station_config: Callable[..., Path],
    station_proc: Callable[..., StationProc],
) -> None:
    ua = sipua(name="target", auto_answer=True)
    found = svmap(ua.port, scanner_home)
    assert found.rows and found.rows[0][0] == f"127.0.0.1:{ua.port}", found.output

    core = sipua(name="core")
    station = station_proc(station_config({"desk1": {"password": "pw1"}}), station="desk1", core=core.contact)
    port = int(station.contact.rsplit(":", 1)[1])
    scan = svwar(port, scanner_home, extensions="100-102", method="INVITE")
    assert scan.rows == [], scan.output  # every INVITE got the same 403: nothing to enumerate
    station.wait_log("refused a call")
    forced = svwar(port, scanner_home, extensions="100-102", method="INVITE", force=True)
    assert forced.returncode == 0
    station.wait_log("refused a call", count=3)  # each scan's random probe, then the forced ones
    assert station.count("answering call") == 0
    assert station.proc.poll() is None  # still up, still heartbeating
    assert protocol.AUTH_HEADER not in station.text()
