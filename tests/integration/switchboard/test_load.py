"""The switchboard at a clinic's load, on the engine the box ships (clinicbox-pjsua2).

40 SIPp callers go through the IVR into the queue at once while 8 desk
phones (one SIPp UAS) answer, and three real user agents among them record
what they hear. The proof is what a patient and a manager would notice:
every call is set up, every caller's "0" reaches the front desk, the real
callers hear a spoken prompt and then the music (measured in the recorded
audio), every call leaves exactly one row in the call log, and the music
is one shared player however many callers wait.
"""

from __future__ import annotations

import math
import struct
import time
import wave
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.doctor import Context
from appliance.doctor import switchboard as doctor_switchboard
from appliance.store import calls
from tests.integration.sip.peers.sipp import SippScenario, desk_stations, uac_xml, uas_xml

pytestmark = [pytest.mark.slow, pytest.mark.serial]

CALLERS = 40
AGENTS = 8
LISTENERS = 3
HOLD_S = 16.0  # a SIPp caller stays this long after pressing 0
#: The built-in music's notes (appliance.switchboard.media.write_music).
MUSIC_HZ = (523.25, 659.25, 783.99)


def _samples(wav_path: Path, start_s: float, end_s: float) -> list[int]:
    with wave.open(str(wav_path), "rb") as w:
        rate = w.getframerate()
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        w.setpos(min(w.getnframes(), int(start_s * rate)))
        raw = w.readframes(max(0, int((end_s - start_s) * rate)))
    return list(struct.unpack(f"<{len(raw) // 2}h", raw))


def _rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def _tone_share(samples: list[int], freqs: tuple[float, ...], rate: int = 8000) -> float:
    """How much of the signal's power sits at ``freqs`` (Goertzel over 100 ms blocks)."""
    block = rate // 10
    at_tones = total = 0.0
    for i in range(0, len(samples) - block + 1, block):
        chunk = samples[i : i + block]
        total += sum(s * s for s in chunk) * block / 2
        for f in freqs:
            k = 2 * math.cos(2 * math.pi * f / rate)
            s1 = s2 = 0.0
            for x in chunk:
                s1, s2 = x + k * s1 - s2, s1
            at_tones += s1 * s1 + s2 * s2 - k * s1 * s2
    return at_tones / total if total else 0.0


def test_forty_callers_through_the_ivr_into_the_queue_while_eight_desks_answer(box, sipua, tmp_path: Path) -> None:
    uas = SippScenario(uas_xml(), tmp_path / "desks", calls=1000, concurrent=AGENTS * 2, timeout_s=300)
    try:
        stations = desk_stations(AGENTS, uas.port, "desk")
        b = box(
            stations=stations,
            overlay={"sip": {"max_calls": 64, "rtp_port_range": 1000}, "queues": {"front-desk": {"max_length": 60}}},
        )
        status = b.status()
        assert status["capacity"]["allowed"] == 64, status["capacity"]  # the engine, not the wheel's 4
        assert status["capacity"]["build"]["engine"].startswith("clinicbox-pjsua2 ")
        for i in range(AGENTS):
            b.wait_agent(f"desk{i}", "available", timeout=20)

        callers = SippScenario(
            uac_xml(caller="+12125550001", steps=[("audio", 2.0), ("dtmf", "0"), ("audio", HOLD_S)]),
            tmp_path / "callers",
            target=f"127.0.0.1:{b.sip_port}",
            service="+12125550100",
            calls=CALLERS,
            concurrent=CALLERS,
            rate=40,
            timeout_s=HOLD_S + 40,
        )
        listeners = [sipua(name=f"listener{n}") for n in range(LISTENERS)]
        wavs = [tmp_path / f"heard{n}.wav" for n in range(LISTENERS)]
        ids = []
        for n, ua in enumerate(listeners):
            cid = ua.call(b.uri, from_user=f"+1212555020{n}")
            ua.wait_state("CONFIRMED", cid, timeout=10)
            ua.record(wavs[n], cid)
            ids.append(cid)
        time.sleep(3.0)
        for ua, cid in zip(listeners, ids, strict=True):
            ua.dtmf("0", cid)
        # Everyone is in: 8 at the desks, the rest waiting with music.
        waiting = b.wait(
            lambda s: sum(len(q["waiting"]) for q in s["queues"]) >= CALLERS + LISTENERS - AGENTS,
            timeout=20,
            what="the queue to fill",
        )
        assert sum(1 for a in waiting["agents"] if a["state"] == "on-call") == AGENTS
        assert waiting["capacity"]["media"]["music_players"] == 1  # one shared player for 35 listeners
        time.sleep(6.0)  # the listeners hear the queue's music
        for ua, cid in zip(listeners, ids, strict=True):
            ua.stop_record(cid)
        for ua, cid in zip(listeners, ids, strict=True):
            ua.wait_for("recorded", lambda e, c=cid: e.get("call") == c, timeout=10)
            ua.hangup(cid)

        result = callers.wait(HOLD_S + 60)
        assert (result.successful, result.failed) == (CALLERS, 0), result.log

        for wav_path in wavs:
            prompt = _samples(wav_path, 0.2, 2.5)
            music = _samples(wav_path, 9.0, 11.0)
            assert _rms(prompt) > 300, f"{wav_path.name}: no spoken prompt (RMS {_rms(prompt):.0f})"
            assert _rms(music) > 300, f"{wav_path.name}: silence in the queue (RMS {_rms(music):.0f})"
            share = _tone_share(music, MUSIC_HZ)
            assert share > 0.5, f"{wav_path.name}: the queue audio is not the music ({share:.2f} at its notes)"

        def finished() -> list[calls.CallRecord]:
            return [r for r in calls.recent(b.store, 500) if r.direction == "inbound" and r.disposition]

        deadline = time.monotonic() + 20
        while len(finished()) < CALLERS + LISTENERS and time.monotonic() < deadline:
            time.sleep(0.2)
        rows = [r for r in calls.recent(b.store, 500) if r.direction == "inbound"]
        assert len(rows) == CALLERS + LISTENERS, f"{len(rows)} call-log rows for {CALLERS + LISTENERS} calls"
        assert all(r.disposition for r in rows)
        assert len({r.uuid for r in rows}) == len(rows)
        not_acted = [r.ivr_path for r in rows if "key:0" not in r.ivr_path or r.queue != "front-desk"]
        assert not not_acted, f"{len(not_acted)} callers' 0 did not reach the front desk: {not_acted[:3]}"
        assert sum(1 for r in rows if r.agent) >= AGENTS

        end = b.wait(lambda s: not s["calls"], timeout=20, what="every call to end")
        media = end["capacity"]["media"]
        assert media["errors"] == 0 and media["prompt_players"] == 0, media
        log = b.log.read_text(errors="replace")
        assert "Too many objects" not in log and "no media port" not in log

        # What the technician's doctor says of this core: its engine and the media budget, all OK.
        result = doctor_switchboard.capacity(Context(cfg=load_config(b.config)))
        assert result.status == "OK", result
        assert "engine clinicbox-pjsua2 2.12.1+deb." in result.detail
        assert "media budget 194 bridge ports and 65 players for 64 lines" in result.detail
    finally:
        uas.close()
