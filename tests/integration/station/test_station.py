"""The real ``clinicbox station`` process against a PJSUA2 user agent playing the core.

The "core" here is a sipua process: it receives the station's heartbeat
MESSAGEs, sends it signed commands, and calls it with tokens built by
appliance.station.protocol, exactly as the switchboard will.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.station import protocol
from appliance.station.alsa import NO_DEVICES
from tests.integration.sip.peers import SipUA, StationProc
from tests.integration.sip.peers.common import REPO, child_env

PW = "pw-desk1-secret"
STATIONS: dict[str, dict[str, object]] = {"desk1": {"password": PW, "name": "Front desk 1"}}


def heartbeat(core: SipUA, state: str = "up", timeout: float = 5.0) -> dict[str, object]:
    """The next heartbeat of ``state``, verified as the core verifies it."""
    msg = core.wait_for(
        "message",
        lambda e: e["content_type"] == protocol.CONTENT_TYPE and f'"state":"{state}"' in e["body"],
        timeout=timeout,
    )
    return protocol.verify_message(msg["body"], {"desk1": PW, "gsm": "pw-gsm"})


@pytest.fixture
def core(sipua: Callable[..., SipUA]) -> SipUA:
    return sipua(name="core")


@pytest.fixture
def desk1(core: SipUA, station_config: Callable[..., Path], station_proc: Callable[..., StationProc]) -> StationProc:
    return station_proc(station_config(STATIONS), station="desk1", core=core.contact)


def call_station(core: SipUA, station: StationProc, token: str | None, answer: str = "auto") -> int:
    headers = {protocol.ANSWER_HEADER: answer}
    if token is not None:
        headers[protocol.AUTH_HEADER] = token
    return core.call(station.contact, headers=headers, from_user="+12125550123")


def test_heartbeats_verify_and_tell_the_core_audio_is_missing(
    core: SipUA, station_config: Callable[..., Path], station_proc: Callable[..., StationProc]
) -> None:
    station = station_proc(station_config(STATIONS, simulate=False), station="desk1", core=core.contact)
    first = heartbeat(core)
    assert first["station"] == "desk1"
    assert first["contact"] == station.contact
    assert first["audio"] is False and first["detail"] == NO_DEVICES
    second = heartbeat(core, timeout=protocol.HEARTBEAT_S + 2)
    assert protocol.HEARTBEAT_S - 0.5 <= float(second["ts"]) - float(first["ts"]) <= protocol.HEARTBEAT_S + 1  # type: ignore[arg-type]
    station.wait_log("core at .* accepts this station's heartbeats")


def test_answers_a_signed_invite_with_a_tone_then_connects_the_headset(core: SipUA, desk1: StationProc) -> None:
    cid = call_station(core, desk1, protocol.invite_token("desk1", PW), "auto")
    core.wait_state("CONFIRMED", cid)
    core.wait_for("media", lambda e: e["call"] == cid and e["active"])
    desk1.wait_log(r"answering call \d+ \(auto\) from caller \+12\*+123")  # the number is masked
    desk1.wait_log("headset microphone connected")
    desk1.wait_log("caller connected to the headset")  # after the 300 ms tone
    assert "+12125550123" not in desk1.text()
    core.hangup(cid)  # hang-up comes from the core
    core.wait_state("DISCONNECTED", cid)
    desk1.wait_log(r"call \d+ ended")


def test_refuses_every_invite_without_a_fresh_valid_token(core: SipUA, desk1: StationProc) -> None:
    good = protocol.invite_token("desk1", PW)
    cid = call_station(core, desk1, good)
    core.wait_state("CONFIRMED", cid)
    core.hangup(cid)
    core.wait_state("DISCONNECTED", cid)
    attempts = {
        "no token": None,
        "wrong password": protocol.invite_token("desk1", "not-the-password"),
        "another station's": protocol.invite_token("desk2", PW),
        "stale": protocol.invite_token("desk1", PW, now=time.time() - 120),
        "replayed": good,
        "garbage": "v1:1:2:3",
    }
    for what, token in attempts.items():
        refused = call_station(core, desk1, token)
        state = core.wait_state("DISCONNECTED", refused)
        assert state["code"] == 403, what
    assert desk1.count("answering call") == 1
    desk1.wait_log("refused a call", count=len(attempts))
    desk1.wait_log("replayed message")


def test_a_station_on_a_call_is_busy_for_the_next(core: SipUA, desk1: StationProc) -> None:
    first = call_station(core, desk1, protocol.invite_token("desk1", PW), "accepted")
    core.wait_state("CONFIRMED", first)
    second = call_station(core, desk1, protocol.invite_token("desk1", PW), "accepted")
    assert core.wait_state("DISCONNECTED", second)["code"] == 486
    core.hangup(first)
    core.wait_state("DISCONNECTED", first)


def test_ring_commands_only_when_signed(core: SipUA, desk1: StationProc) -> None:
    def send(body: str, content_type: str = protocol.CONTENT_TYPE) -> None:
        core.message(desk1.contact, body, content_type)
        core.wait_for("message_status", lambda e: e["code"] == 200)

    send(protocol.command("desk1", "wrong-password", "ring", "c1"))
    desk1.wait_log("ignored a message from .*: bad signature")
    send(protocol.command("desk1", PW, "ring", "c1"), "text/plain")
    desk1.wait_log("ignored a message from .*Content-Type text/plain")
    assert desk1.count("ringing the headset") == 0

    ring = protocol.command("desk1", PW, "ring", "c1")
    send(ring)
    desk1.wait_log(r"ringing the headset \(call c1\)")
    send(protocol.command("desk1", PW, "stop-ring", "c1"))
    desk1.wait_log(r"ring stopped \(call c1\)")
    send(ring)  # the same signed message again
    desk1.wait_log("ignored a message from .*replayed")
    assert desk1.count("ringing the headset") == 1

    # Manual answer: the headset rings until the core's INVITE arrives.
    send(protocol.command("desk1", PW, "ring", "c2"))
    desk1.wait_log(r"ringing the headset \(call c2\)")
    cid = call_station(core, desk1, protocol.invite_token("desk1", PW), "accepted")
    core.wait_state("CONFIRMED", cid)
    desk1.wait_log("ring stopped: call answered")
    desk1.wait_log("caller connected to the headset")


def test_sigterm_sends_a_final_down_heartbeat(core: SipUA, desk1: StationProc) -> None:
    heartbeat(core)
    assert desk1.stop(signal.SIGTERM) == 0
    down = heartbeat(core, "down", timeout=3)
    assert down["station"] == "desk1" and down["contact"] == desk1.contact
    assert str(down["detail"]).startswith("SIGTERM")


def _asound(root: Path) -> Path:
    root.mkdir()
    (root / "cards").write_text(
        " 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS\n"
        "                      GN Netcom A/S Jabra EVOLVE 20 MS at usb-1, full speed\n"
    )
    (root / "card1").mkdir()
    (root / "Headset").symlink_to("card1")
    return root


def test_udev_start_by_card_and_unplug(
    tmp_path: Path, core: SipUA, station_config: Callable[..., Path], station_proc: Callable[..., StationProc]
) -> None:
    root = _asound(tmp_path / "asound")
    cfg = station_config(
        {"desk1": {"password": PW, "audio_device": "Jabra*"}, "desk2": {"password": "pw2", "audio_device": "H340"}}
    )
    station = station_proc(cfg, card="Headset", core=core.contact, asound_root=root)
    assert station.contact.startswith("sip:desk1@127.0.0.1:")
    heartbeat(core)
    (root / "Headset").unlink()  # the headset is pulled out
    down = heartbeat(core, "down", timeout=protocol.HEARTBEAT_S + 3)
    assert str(down["detail"]).startswith("headset unplugged")
    assert station.proc.wait(timeout=5) == 0


def test_refuses_to_start_without_its_password(station_config: Callable[..., Path]) -> None:
    cfg = station_config({"desk1": {"password": PW}, "desk3": {"name": "no password"}})
    proc = subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(cfg), "station", "--station", "desk3"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=30,
    )
    assert proc.returncode == 78  # EX_CONFIG: the unit's RestartPreventExitStatus, no restart loop
    assert "stations.desk3.password: not set" in proc.stderr


def test_gsm_gateway_answers_at_once_and_reports_audio_unavailable(
    core: SipUA, station_config: Callable[..., Path], station_proc: Callable[..., StationProc]
) -> None:
    cfg = station_config({"gsm": {"password": "pw-gsm"}}, simulate=False)
    gateway = station_proc(cfg, gateway=True, core=core.contact)
    assert gateway.contact.startswith("sip:gsm@127.0.0.1:")
    beat = heartbeat(core)
    assert beat["station"] == "gsm" and beat["audio"] is False and beat["detail"] == NO_DEVICES
    cid = core.call(gateway.contact, headers={protocol.AUTH_HEADER: protocol.invite_token("gsm", "pw-gsm")})
    core.wait_state("CONFIRMED", cid)
    gateway.wait_log(r"answering call \d+ \(gateway\)")
    gateway.wait_log("caller connected to the headset")
    refused = core.call(gateway.contact)
    assert core.wait_state("DISCONNECTED", refused)["code"] == 403
