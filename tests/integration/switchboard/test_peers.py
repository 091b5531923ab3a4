"""The switchboard against third-party SIP software: SIPp, baresip, kamailio
as the provider, sipvicious as an attacker; capacity and timeouts."""

from __future__ import annotations

import time

from tests.integration.sip.peers import svmap, svwar, write_tone_wav
from tests.integration.sip.peers.sipp import uac_xml
from tests.integration.switchboard.conftest import DESKS

A = "+12125550001"


def test_sipp_caller_with_rfc4733_digits_reaches_a_station(box, sipp, station_proc) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 8.0)]),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    result = run.wait(40)
    assert result.successful == 1, result.log
    rec = b.call_record(lambda r: r.caller == A)
    assert rec.disposition == "answered" and rec.agent == "desk2" and "key:0" in rec.ivr_path


def test_baresip_caller_with_a_real_media_stack(box, baresip, station_proc, peer_dir) -> None:
    b = box(stations={"desk2": DESKS["desk2"]})
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    speech = write_tone_wav(peer_dir / "long.wav", seconds=30.0)  # baresip hangs up at the file's end
    phone = baresip(wav=speech)
    phone.dial(f"sip:+12125550100@127.0.0.1:{b.sip_port}")
    phone.wait_event("CALL_ESTABLISHED", timeout=10)
    phone.send_digits("1")  # appointments
    b.wait(
        lambda s: any(c["queue"] == "appointments" and c["agent"] == "desk2" for c in s["calls"]),
        timeout=25,
        what="baresip's call at desk2",
    )
    phone.hangup()
    rec = b.call_record(lambda r: r.queue == "appointments")
    assert rec.disposition == "answered" and "key:1" in rec.ivr_path


def test_the_box_registers_to_kamailio_and_takes_a_call_routed_by_it(box, kamailio, sipua) -> None:
    b = box(
        overlay={
            "trunk": {
                "enabled": True,
                "register": True,
                "registrar": kamailio.uri,
                "username": "trunk1",
                "password": "secret",
                "provider_networks": [],
                "keepalive_interval_s": 5,
            }
        },
        stations={},
    )
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=15, what="registration to kamailio")
    caller = sipua(name="pstn-caller", registrar=kamailio.uri, user="caller", password="callerpw")
    caller.wait_for("reg", lambda e: e.get("active"), timeout=10)
    cid = caller.call(f"sip:trunk1@127.0.0.1:{kamailio.port}", from_user="caller")
    caller.wait_state("CONFIRMED", cid, timeout=10)
    caller.wait_heard(1.0, cid, timeout=10)  # the IVR answers through the provider
    caller.hangup(cid)
    rec = b.call_record()
    assert rec.route == "trunk" and rec.disposition == "ivr"


def test_wrong_trunk_password_shows_the_trunk_down(box, kamailio) -> None:
    b = box(
        overlay={
            "trunk": {
                "enabled": True,
                "register": True,
                "registrar": kamailio.uri,
                "username": "trunk1",
                "password": "wrong",
                "provider_networks": [],
            }
        },
        stations={},
    )
    status = b.wait(lambda s: s["trunk"]["state"] == "down", timeout=15, what="the failed registration")
    assert "registration failed" in status["trunk"]["detail"] and "40" in status["trunk"]["detail"]


def test_a_fifth_caller_gets_busy_at_the_line_cap(box, sipp) -> None:
    b = box(overlay={"sip": {"max_calls": 4}}, stations={})  # no agent line to keep free: all 4 for callers
    assert b.status()["capacity"]["allowed"] == 4
    assert b.status()["capacity"]["build"]["media_ports"] >= 8  # read from the bridge, not assumed
    run = sipp(
        uac_xml(caller=A, steps=[("audio", 4.0)]),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
        calls=5,
        concurrent=5,
        rate=20,
    )
    result = run.wait(40)
    assert (result.successful, result.failed) == (4, 1), result.log
    busy = b.query("SELECT count(*) FROM calls WHERE disposition = 'busy' AND sip_code = 486")
    assert busy == [(1,)]
    # A caller who got busy is a missed call: on the callback list, not lost.
    assert b.query("SELECT number, source, status FROM callbacks") == [(A, "busy", "open")]
    assert b.proc.poll() is None  # and nothing crashed


def test_calls_from_an_unknown_address_are_refused(box, sipua) -> None:
    b = box(
        overlay={"trunk": {"provider_networks": ["127.0.0.2/32"]}, "sip": {"trusted_networks": ["127.0.0.3/32"]}},
        stations={},
    )
    stranger = sipua(name="stranger")  # on 127.0.0.1: neither provider nor trusted
    cid = stranger.call(b.uri, from_user=A)
    event = stranger.wait_state("DISCONNECTED", cid, timeout=10)
    assert event["code"] == 403
    rec = b.call_record()
    assert rec.disposition == "refused" and rec.sip_code == 403


def test_a_scanner_learns_nothing_and_places_no_call(box, scanner_home) -> None:
    b = box(
        overlay={"trunk": {"provider_networks": ["127.0.0.2/32"]}, "sip": {"trusted_networks": ["127.0.0.3/32"]}},
        stations={},
    )
    found = svmap(b.sip_port, scanner_home)
    assert found.rows, found.output  # it is a SIP device...
    agent = " ".join(ua for _, ua in found.rows)
    assert "PJSUA" not in agent and "ClinicBox" not in agent and "2.15" not in agent  # ...but names nothing
    scan = svwar(b.sip_port, scanner_home, method="INVITE", extensions="100-140", force=True)
    assert scan.rows == [] or all("403" in auth or "reqauth" not in auth.lower() for _, auth in scan.rows), scan.output
    time.sleep(1.0)
    answered = b.query("SELECT count(*) FROM calls WHERE answered_at IS NOT NULL")
    assert answered == [(0,)]
    logged = b.query("SELECT count(*) FROM calls WHERE disposition = 'refused'")[0][0]
    assert logged <= 10  # rate-limited: 41 INVITEs, at most untrusted_limit_per_min logged
    assert b.proc.poll() is None


def test_silent_calls_are_hung_up_and_no_call_outlasts_the_limit(box, sipp) -> None:
    b = box(overlay={"sip": {"rtp_timeout_s": 5, "max_call_duration_s": 12}}, stations={})
    silent = sipp(
        uac_xml(caller=A, steps=[("pause", 20000)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    talking = sipp(
        uac_xml(caller="+12125550002", steps=[("audio", 9.0), ("audio", 9.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    rec1 = b.call_record(lambda r: r.caller == A, timeout=25)
    assert rec1.hangup_by == "rtp-timeout"
    rec2 = b.call_record(lambda r: r.caller == "+12125550002", timeout=30)
    assert rec2.hangup_by == "timeout"
    silent.close()
    talking.close()


def test_sip_over_tls_listens_when_asked(box) -> None:
    import socket

    from tests.conftest import free_port

    port = free_port(socket.SOCK_STREAM)
    b = box(overlay={"sip": {"tls": True, "tls_port": port}}, stations={})
    assert b.status()["capacity"]["build"]["tls"] is True
    with socket.create_connection(("127.0.0.1", port), timeout=3):
        pass  # the TLS listener accepts connections


def test_a_tls_trunk_without_sip_tls_is_refused_by_the_config(tmp_path) -> None:
    import pytest

    from appliance.config import load_config
    from appliance.errors import ConfigError

    with pytest.raises(ConfigError, match="trunk.transport: TLS to the provider needs sip.tls = true"):
        load_config(overrides={"trunk": {"transport": "tls"}}, use_secrets=False, use_overlay=False)
