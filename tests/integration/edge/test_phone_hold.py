"""A desk phone's hold key: its re-INVITE (sendonly) puts the caller on the box's
music on hold and the console shows the call held; its resume key brings the
phone's voice back. The caller is a PJSUA2 UA that records what it hears: the
phone "speaks" a 350 Hz tone, the built-in music is 523/659/784 Hz notes."""

from __future__ import annotations

import array
import math
import time
import wave
from pathlib import Path

from tests.integration.edge.conftest import DESK, station_password, wait_registered, wait_rtp
from tests.integration.edge.test_desk_phones import invites_seen

RATE = 8000
PHONE_HZ = 350.0  # baresip's test voice (tests/integration/sip/peers/baresip.py)
MUSIC_HZ = (523.25, 659.25, 783.99)  # appliance.switchboard.media.write_music


def _share(block: array.array[int], freq: float) -> float:
    """Goertzel: how much of ``block``'s energy sits at ``freq``."""
    n = len(block)
    coeff = 2 * math.cos(2 * math.pi * round(freq * n / RATE) / n)
    s1 = s2 = energy = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
        energy += x * x
    return 0.0 if energy == 0 else (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * n / 2)


def heard(path: Path) -> dict[str, int]:
    """Per 100 ms of a recording: how many blocks were mostly the phone, mostly music, audible.
    (On a loaded machine the conference bridge drops frames: thresholds count blocks, not all.)"""
    with wave.open(str(path)) as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    counts = {"phone": 0, "music": 0, "audible": 0, "blocks": 0}
    for start in range(0, len(samples) - 800 + 1, 800):
        block = samples[start : start + 800]
        counts["blocks"] += 1
        if math.sqrt(sum(x * x for x in block) / len(block)) < 300:
            continue
        counts["audible"] += 1
        if _share(block, PHONE_HZ) > 0.5:
            counts["phone"] += 1
        elif max(_share(block, f) for f in MUSIC_HZ) > 0.5:
            counts["music"] += 1
    return counts


def _record(caller, cid: int, path: Path, seconds: float) -> dict[str, int]:
    caller.record(path, cid)
    time.sleep(seconds)
    caller.stop_record(cid)
    caller.wait_for("recorded", lambda e: e["wav"] == str(path))
    return heard(path)


def _call_state(b) -> str:
    return next((c["state"] for c in b.status()["calls"] if c["agent"] == "desk1"), "")


def test_the_desk_phones_hold_key_plays_music_to_the_caller(edge_box, baresip, sipua, peer_dir) -> None:
    b, edge = edge_box()
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    caller = sipua(name="caller")
    cid = caller.call(f"sip:+12125550100@127.0.0.1:{b.sip_port}", from_user="+12125550001")
    caller.wait_state("CONFIRMED", cid, timeout=10)
    time.sleep(1.0)
    caller.dtmf("0", cid)  # to the front desk
    phone.wait_event("CALL_INCOMING", timeout=20)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)
    b.wait(lambda s: _call_state(b) == "talking", timeout=5, what="the caller bridged to desk1")
    time.sleep(0.5)
    talking = _record(caller, cid, peer_dir / "talking.wav", 2.0)
    assert talking["phone"] >= 5 and talking["music"] == 0, talking  # the caller hears the phone

    phone.command("hold")  # the phone's own key: re-INVITE a=sendonly through the edge
    b.wait(lambda s: _call_state(b) == "held", timeout=5, what="the console showing the call held")
    time.sleep(0.3)
    held = _record(caller, cid, peer_dir / "held.wav", 3.0)
    assert held["phone"] == 0 and held["music"] >= 10, held  # music on hold, not the phone

    phone.command("resume")
    b.wait(lambda s: _call_state(b) == "talking", timeout=5, what="the call back to talking")
    time.sleep(0.3)
    resumed = _record(caller, cid, peer_dir / "resumed.wav", 2.0)
    assert resumed["phone"] >= 5 and resumed["music"] == 0, resumed  # the phone's voice is back

    phone.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    rec = b.call_record(lambda r: r.agent == "desk1")
    assert rec.disposition == "answered" and rec.hold_seconds >= 3.0, rec


def _queue_call_at_desk1(b, edge, baresip, sipua):
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    caller = sipua(name="caller")
    cid = caller.call(f"sip:+12125550100@127.0.0.1:{b.sip_port}", from_user="+12125550001")
    caller.wait_state("CONFIRMED", cid, timeout=10)
    time.sleep(1.0)
    caller.dtmf("0", cid)  # to the front desk
    phone.wait_event("CALL_INCOMING", timeout=20)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    b.wait(lambda s: _call_state(b) == "talking", timeout=5, what="the caller bridged to desk1")
    assert "ESTABLISHED" in str(phone.command("listcalls")["data"])  # (what _wait_phone_off_the_call reads)
    return phone, caller, cid


def _wait_phone_off_the_call(phone, timeout: float = 5.0) -> None:
    """The phone's own list of calls shows no established call (a new one may be ringing)."""
    deadline = time.monotonic() + timeout
    while "ESTABLISHED" in (listed := str(phone.command("listcalls")["data"])):
        assert time.monotonic() < deadline, listed
        time.sleep(0.2)


def test_the_phones_transfer_key_hands_the_caller_to_another_desk_phone(edge_box, baresip, sipua, peer_dir) -> None:
    """desk1's transfer key (REFER to desk2): the box rings desk2 itself, desk1's leg ends,
    the caller talks to desk2; the call log shows the transfer like the console's."""
    b, edge = edge_box(stations={**DESK, "desk2": {"name": "Desk 2", "queues": ["appointments"]}})
    phone, caller, cid = _queue_call_at_desk1(b, edge, baresip, sipua)
    desk2 = baresip(user="desk2", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b, "desk2"))
    wait_registered(edge, "desk2")
    b.wait(lambda s: b.agent("desk2")["reachable"], timeout=10, what="desk2 reachable")
    phone.command("transfer", f"sip:desk2@127.0.0.1:{b.sip_port}")
    desk2.wait_event("CALL_INCOMING", timeout=10)
    desk2.accept()
    desk2.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(desk2)
    b.wait(
        lambda s: any(c["agent"] == "desk2" and c["state"] == "talking" for c in b.status()["calls"]),
        timeout=5,
        what="the caller bridged to desk2",
    )
    assert [c["agent"] for c in b.status()["calls"]] == ["desk2"]  # one call, desk1 no longer on it
    _wait_phone_off_the_call(phone)  # its leg ended (the box's BYE)
    time.sleep(0.5)
    talking = _record(caller, cid, peer_dir / "desk2.wav", 2.0)
    assert talking["phone"] >= 5 and talking["music"] == 0, talking  # the caller hears desk2
    desk2.hangup()
    caller.wait_state("DISCONNECTED", cid, timeout=10)
    rec = b.call_record(lambda r: r.direction == "inbound")  # as after the console's transfer:
    assert (rec.disposition, rec.agent) == ("answered", "desk1"), rec  # answered by desk1, handed on
    assert b.query("SELECT count(*) FROM calls") == [(1,)]  # the core placed no call of its own
    assert invites_seen(edge) == 3  # caller → core, core → desk1, core → desk2 (PJSUA's own call: a 4th)
    assert b.query("SELECT agent, data FROM queue_events WHERE event = 'transfer'") == [("desk1", '{"to": "desk2"}')]


def test_a_transfer_to_an_unknown_extension_puts_the_caller_back_in_the_queue(edge_box, baresip, sipua) -> None:
    """A REFER to nobody: the phone hears 404, and the caller is not lost: back in the queue."""
    from tests.integration.sip.peers.common import tail

    b, edge = edge_box()
    phone, caller, cid = _queue_call_at_desk1(b, edge, baresip, sipua)
    phone.command("transfer", f"sip:nobody@127.0.0.1:{b.sip_port}")
    deadline = time.monotonic() + 10
    while "transfer failed: 404" not in phone.log.read_text(errors="replace"):  # the phone got the refusal
        assert time.monotonic() < deadline, tail(phone.log)
        time.sleep(0.1)
    b.wait(
        lambda s: [c["state"] in ("queued", "ringing") and c["agent"] != "desk1" for c in s["calls"]] == [True],
        timeout=10,
        what="the caller back in the queue",
    )
    _wait_phone_off_the_call(phone)
    time.sleep(1.0)
    assert len(b.status()["calls"]) == 1  # the caller is still on the line, not dropped
    caller.hangup(cid)
    assert b.query("SELECT agent, queue FROM queue_events WHERE event = 'transfer'") == [("desk1", "front-desk")]


def test_the_phones_transfer_key_puts_the_caller_into_another_queue(edge_box, baresip, sipua) -> None:
    """A REFER naming a queue: the caller waits in that queue (music), desk1's leg ends."""
    b, edge = edge_box()
    phone, caller, cid = _queue_call_at_desk1(b, edge, baresip, sipua)
    phone.command("transfer", f"sip:appointments@127.0.0.1:{b.sip_port}")
    b.wait(
        lambda s: [(c["queue"], c["agent"] != "desk1") for c in s["calls"]] == [("appointments", True)],
        timeout=10,
        what="the caller waiting in the appointments queue",
    )
    assert b.query("SELECT agent, queue FROM queue_events WHERE event = 'transfer'") == [("desk1", "appointments")]
    _wait_phone_off_the_call(phone)
    assert len(b.status()["calls"]) == 1  # the caller is still on the line
    caller.hangup(cid)


def test_a_transfer_to_a_station_that_is_not_up_is_486_and_the_caller_goes_back(edge_box, baresip, sipua) -> None:
    """desk2 exists but its phone is not registered: the phone hears 486, the caller is back in the queue."""
    b, edge = edge_box(stations={**DESK, "desk2": {"name": "Desk 2", "queues": ["appointments"]}})
    phone, caller, cid = _queue_call_at_desk1(b, edge, baresip, sipua)
    phone.command("transfer", f"sip:desk2@127.0.0.1:{b.sip_port}")
    deadline = time.monotonic() + 10
    while "transfer failed: 486" not in phone.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, phone.log.read_text(errors="replace")[-2000:]
        time.sleep(0.1)
    b.wait(
        lambda s: [(c["queue"], c["agent"] != "desk1") for c in s["calls"]] == [("front-desk", True)],
        timeout=10,
        what="the caller back in the front-desk queue",
    )
    _wait_phone_off_the_call(phone)
    assert b.query("SELECT agent, queue FROM queue_events WHERE event = 'transfer'") == [("desk1", "front-desk")]
    caller.hangup(cid)
