"""What a station lets through: only the core's signed INVITEs and commands."""

from __future__ import annotations

import pytest

from appliance.clock import FakeClock
from appliance.errors import StationError
from appliance.station import protocol
from appliance.station.guard import RING_MAX_S, Ringer, StationGuard

SECRET = "pw-desk1"


@pytest.fixture
def guard(clock: FakeClock) -> StationGuard:
    return StationGuard("desk1", SECRET, clock)


def now(clock: FakeClock) -> float:
    return clock.now().timestamp()


def invite(token: str | None, answer: str | None = None, caller: str = "+12125550123") -> str:
    lines = ["INVITE sip:desk1@127.0.0.1:5071 SIP/2.0", f"From: <sip:{caller}@127.0.0.1:5060>;tag=1"]
    if token is not None:
        lines.append(f"{protocol.AUTH_HEADER}: {token}")
    if answer is not None:
        lines.append(f"{protocol.ANSWER_HEADER}: {answer}")
    return "\r\n".join([*lines, "Content-Length: 0", "", ""])


def test_a_valid_token_is_answered(guard: StationGuard, clock: FakeClock) -> None:
    d = guard.check_invite(invite(protocol.invite_token("desk1", SECRET, now=now(clock)), "auto"))
    assert (d.accept, d.code, d.mode, d.caller) == (True, 200, "auto", "+12125550123")


@pytest.mark.parametrize(
    ("header", "mode"), [("auto", "auto"), ("AUTO", "auto"), ("accepted", "accepted"), (None, "accepted")]
)
def test_answer_mode_from_the_core(guard: StationGuard, clock: FakeClock, header: str | None, mode: str) -> None:
    assert guard.check_invite(invite(protocol.invite_token("desk1", SECRET, now=now(clock)), header)).mode == mode


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda t: None, "no station token"),
        (lambda t: "", "no station token"),
        (lambda t: "garbage", "malformed"),
        (lambda t: protocol.invite_token("desk1", "wrong-password", now=t), "bad station token"),
        (lambda t: protocol.invite_token("desk2", SECRET, now=t), "bad station token"),  # minted for another station
        (lambda t: protocol.invite_token("desk1", SECRET, now=t - 31), "stale"),
        (lambda t: protocol.invite_token("desk1", SECRET, now=t + 31), "stale"),
    ],
)
def test_everything_else_is_refused_with_403(guard: StationGuard, clock: FakeClock, make_token, reason: str) -> None:  # type: ignore[no-untyped-def]
    d = guard.check_invite(invite(make_token(now(clock))))
    assert (d.accept, d.code) == (False, 403)
    assert reason in d.reason


def test_a_replayed_token_is_refused(guard: StationGuard, clock: FakeClock) -> None:
    msg = invite(protocol.invite_token("desk1", SECRET, now=now(clock)))
    assert guard.check_invite(msg).accept
    clock.advance(1)
    replay = guard.check_invite(msg)
    assert (replay.accept, replay.code) == (False, 403)
    assert "replayed" in replay.reason


def test_busy_station_says_486_only_to_the_core(guard: StationGuard, clock: FakeClock) -> None:
    assert guard.check_invite(invite(protocol.invite_token("desk1", SECRET, now=now(clock))), busy=True).code == 486
    assert guard.check_invite(invite("garbage"), busy=True).code == 403  # a stranger learns nothing


def test_the_gateway_always_answers_without_a_tone(clock: FakeClock) -> None:
    gsm = StationGuard("gsm", "pw-gsm", clock, gateway=True)
    d = gsm.check_invite(invite(protocol.invite_token("gsm", "pw-gsm", now=now(clock)), "auto"))
    assert (d.accept, d.mode) == (True, "gateway")


def test_no_password_no_station(clock: FakeClock) -> None:
    with pytest.raises(StationError, match=r"stations\.desk1\.password"):
        StationGuard("desk1", "", clock)


def test_signed_commands(guard: StationGuard, clock: FakeClock) -> None:
    body = protocol.command("desk1", SECRET, "ring", "call-7", now=now(clock))
    cmd = guard.check_command(body, protocol.CONTENT_TYPE)
    assert (cmd.cmd, cmd.call_id) == ("ring", "call-7")
    assert (
        guard.check_command(
            protocol.command("desk1", SECRET, "stop-ring", now=now(clock)), protocol.CONTENT_TYPE + "; charset=utf-8"
        ).cmd
        == "stop-ring"
    )


@pytest.mark.parametrize(
    ("make_body", "content_type", "reason"),
    [
        (lambda t: protocol.command("desk1", SECRET, "ring", now=t), "text/plain", "Content-Type"),
        (lambda t: protocol.command("desk1", "wrong", "ring", now=t), protocol.CONTENT_TYPE, "bad signature"),
        (lambda t: protocol.command("desk2", SECRET, "ring", now=t), protocol.CONTENT_TYPE, "unknown station"),
        (lambda t: protocol.command("desk1", SECRET, "ring", now=t - 60), protocol.CONTENT_TYPE, "stale"),
        (lambda t: protocol.command("desk1", SECRET, "format-disk", now=t), protocol.CONTENT_TYPE, "unknown command"),
        (lambda t: protocol.heartbeat("desk1", SECRET, "sip:x", True, now=t), protocol.CONTENT_TYPE, "not a command"),
        (lambda t: "ring", protocol.CONTENT_TYPE, "not JSON"),
        (lambda t: "{}", protocol.CONTENT_TYPE, "not a ClinicBox station message"),
    ],
)
def test_unsigned_or_odd_commands_are_refused(
    guard: StationGuard, clock: FakeClock, make_body, content_type: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(protocol.StationAuthError, match=reason):
        guard.check_command(make_body(now(clock)), content_type)


def test_a_replayed_command_is_refused(guard: StationGuard, clock: FakeClock) -> None:
    body = protocol.command("desk1", SECRET, "ring", now=now(clock))
    guard.check_command(body, protocol.CONTENT_TYPE)
    with pytest.raises(protocol.StationAuthError, match="replayed"):
        guard.check_command(body, protocol.CONTENT_TYPE)


def test_heartbeats_verify_at_the_core(guard: StationGuard, clock: FakeClock) -> None:
    body = guard.heartbeat("sip:desk1@127.0.0.1:5071", False, "up", "no sound device in this PJSUA2 build")
    data = protocol.verify_message(body, {"desk1": SECRET}, now=now(clock) + 2)
    assert data["kind"] == "heartbeat"
    assert (data["contact"], data["audio"], data["state"]) == ("sip:desk1@127.0.0.1:5071", False, "up")
    assert data["detail"] == "no sound device in this PJSUA2 build"
    assert data["ts"] == now(clock)  # time from the injected clock


def test_ringer(clock: FakeClock) -> None:
    ringer = Ringer(clock)
    assert ringer.ring("c1") and ringer.ringing
    assert not ringer.ring("c1")  # already ringing: the tone is not restarted
    assert not ringer.stop("c2")  # a stop for another call does not silence this one
    assert ringer.stop("c1") and not ringer.ringing
    assert not ringer.stop()


def test_a_ring_never_stopped_falls_silent(clock: FakeClock) -> None:
    ringer = Ringer(clock)
    ringer.ring("c1")
    clock.advance(RING_MAX_S - 1)
    assert not ringer.expired()
    clock.advance(2)
    assert ringer.expired() and not ringer.ringing
    assert not ringer.expired()  # reported once
