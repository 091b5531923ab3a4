"""Station audio really flows through ALSA: the built engine, a real core, a caller.

There is no sound card here (and no kernel module), so the station's headset
is made of ALSA's own userspace plugins in a private ``asound.conf``
(``ALSA_CONFIG_PATH``, given to the station process only): ``pcm.default``
is a ``plug`` (8 kHz mono S16_LE, converting as a headset's plughw device
would) over an ``asym`` whose playback is a ``file`` plugin writing into a
pipe (the agent's ear) and whose capture is a ``file`` plugin reading its
``infile`` from another pipe (the agent's mouth), both over ``null``.
PJMEDIA's ALSA backend finds it through ``snd_device_name_hint("pcm")``
(hence its ``hint``), and the station, with ``simulate = false`` and no
``audio_device``, takes it as a front-desk PC's default device.

``null`` keeps no time (it takes and gives frames as fast as asked) while
PJMEDIA's conference bridge runs on the sound device's clock, so the test
is the sound card's clock: every 20 ms :class:`VirtualHeadset` takes a
frame of what the station plays and gives it a frame of microphone signal,
and the station's ALSA threads block on the pipes in between, as they
would on a real card.

The proof is measured audio, not log lines: the station's answer tone and
then a 1 kHz tone the caller plays come out of the headset's speaker at the
card's pace, 600 Hz "syllables" spoken into the headset's microphone reach
the caller's recording, and the core's view of the station's heartbeat says
its audio works.
"""

from __future__ import annotations

import array
import fcntl
import math
import os
import threading
import time
import tomllib
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.station.media import BEEP
from tests.integration.sip.peers import SipUA, StationProc
from tests.integration.sip.peers.common import write_tone_wav
from tests.integration.switchboard.box import Box
from tests.integration.switchboard.conftest import box  # noqa: F401  (fixture)

RATE = 8000
FRAME_S = 0.02
FRAME_BYTES = int(RATE * FRAME_S) * 2  # 20 ms of 16-bit mono
PAGE = 4096
PIPE_FRAMES = 3  # slots (packets) in each pipe: 60 ms of audio on the way

PATIENT = "+12125550001"  # a demo patient
DESK = {"name": "Desk 2", "queues": ["front-desk"], "answer_mode": "auto"}
CALLER_TONE_HZ = 1000.0  # the caller says this; the agent must hear it
MIC_TONE_HZ = 600.0  # the agent says this; the caller must hear it

ASOUND_CONF = """\
# A headset with no hardware: ALSA's userspace plugins only (plug, asym, file, null).
# The file plugins write to and read from descriptors the station inherits.
pcm.!default {{
    type plug
    slave {{
        pcm {{
            type asym
            playback.pcm {{
                type file
                slave.pcm "null"
                file {speaker_fd}
                format "raw"
            }}
            capture.pcm {{
                type file
                slave.pcm "null"
                file "/dev/null"
                infile {mic_fd}
                format "raw"
            }}
        }}
        format S16_LE
        rate {rate}
        channels 1
    }}
    hint {{
        show on
        description "ClinicBox test headset (file plugins over null)"
    }}
}}
pcm.null {{
    type null
}}
"""


def syllables(freq: float, on_s: float = 0.4, off_s: float = 0.2, amplitude: int = 8000) -> bytes:
    """A tone in bursts, like speech: a steady tone is what a noise suppressor removes.

    The station's echo canceller runs Speex's preprocessor with denoise on
    (PJMEDIA_SPEEX_AEC_USE_DENOISE): it learns a steady tone as background
    noise and fades it out within a second, as it would a fan's hum.
    """
    on, off = int(on_s * RATE), int(off_s * RATE)
    ramp = int(0.01 * RATE)
    samples = array.array("h")
    for i in range(on):
        envelope = min(1.0, i / ramp, (on - 1 - i) / ramp)
        samples.append(int(amplitude * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    samples.extend([0] * off)
    return samples.tobytes()


class VirtualHeadset:
    """The sound card a test station opens: two pipes and a 20 ms clock.

    What the station plays collects in a buffer (8 kHz S16_LE, see
    :meth:`speaker_since`); ``mic`` loops into its capture, a frame for
    every frame it plays (one crystal clocks both ways on a real card, and
    the station's Speex echo canceller wants the two within two frames).

    The pipes are packet pipes (``O_DIRECT``) of :data:`PIPE_FRAMES` slots:
    every 20 ms frame the station writes is one packet, so its playback
    thread blocks frame by frame as on a real card's DMA. (A FIFO it opened
    by name would merge writes into 4 KiB pages and let it run in bursts of
    12 frames.) The station inherits :attr:`fds`; they stay open here until
    :meth:`close`, so its ALSA threads never see end-of-file: stop the
    station first.
    """

    def __init__(self, directory: Path, mic: bytes) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._spk_r, spk_w = os.pipe2(os.O_DIRECT)
        mic_r, self._mic_w = os.pipe2(os.O_DIRECT)
        for fd in (self._spk_r, self._mic_w):
            os.set_blocking(fd, False)  # this side only: the station's ends block
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_FRAMES * PAGE)
        self.fds = (spk_w, mic_r)
        self.conf = directory / "asound.conf"
        self.conf.write_text(ASOUND_CONF.format(speaker_fd=spk_w, mic_fd=mic_r, rate=RATE))
        self._mic = mic
        self._mic_pos = 0
        self._lock = threading.Lock()
        self._speaker = bytearray()
        self.mic_frames = 0  # 20 ms frames of microphone signal offered to the station
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._clock, name="virtual-headset", daemon=True)
        self._thread.start()

    def _clock(self) -> None:
        start = time.monotonic()
        done = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - start) / FRAME_S)
            frames = min(due - done, 5)  # catch up a late tick, never run away
            done = due
            if frames > 0:
                self._tick(frames)
            time.sleep(max(0.0, start + (done + 1) * FRAME_S - time.monotonic()))

    def _tick(self, frames: int) -> None:
        """One clock tick: take up to ``frames`` frames of playback, give as many of capture."""
        got = bytearray()
        for _ in range(frames):
            try:
                got += os.read(self._spk_r, FRAME_BYTES)  # one packet (a frame) per read
            except BlockingIOError:
                break  # the station's sound device is closed, or the station is late
        with self._lock:
            self._speaker += got
            owed = len(self._speaker) // FRAME_BYTES - self.mic_frames
        for _ in range(owed):
            chunk = self._mic[self._mic_pos : self._mic_pos + FRAME_BYTES]
            self._mic_pos = (self._mic_pos + FRAME_BYTES) % len(self._mic)
            self.mic_frames += 1
            try:
                os.write(self._mic_w, chunk)
            except BlockingIOError:
                pass  # an overrun: the station is not reading its microphone

    @property
    def played(self) -> int:
        """Bytes the station has played so far (a mark for :meth:`speaker_since`)."""
        with self._lock:
            return len(self._speaker)

    def speaker_since(self, mark: int) -> bytes:
        with self._lock:
            return bytes(self._speaker[mark:])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._spk_r, self._mic_w, *self.fds):
            os.close(fd)


def goertzel_share(block: array.array[int], freq: float) -> float:
    """How much of ``block``'s energy sits at ``freq`` (1.0 for a pure tone on that bin)."""
    n = len(block)
    coeff = 2 * math.cos(2 * math.pi * round(freq * n / RATE) / n)
    s1 = s2 = 0.0
    energy = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
        energy += x * x
    if energy == 0:
        return 0.0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / (energy * n / 2)


def tone_blocks(pcm: bytes, freq: float, block_s: float = 0.1, min_rms: float = 300.0) -> list[bool]:
    """Per 100 ms of 8 kHz S16_LE audio: is it audible and mostly ``freq``?"""
    samples = array.array("h", pcm[: len(pcm) - len(pcm) % 2])
    n = int(RATE * block_s)
    found = []
    for i in range(0, len(samples) - n + 1, n):
        block = samples[i : i + n]
        rms = math.sqrt(sum(x * x for x in block) / n)
        found.append(rms >= min_rms and goertzel_share(block, freq) >= 0.5)
    return found


def tone_seconds(pcm: bytes, freq: float) -> float:
    return sum(tone_blocks(pcm, freq)) * 0.1


def bursts(pcm: bytes, freq: float) -> int:
    """How many separate stretches of ``freq`` (syllables) the audio holds."""
    blocks = tone_blocks(pcm, freq)
    return sum(1 for i, hit in enumerate(blocks) if hit and (i == 0 or not blocks[i - 1]))


def wav_pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return w.readframes(w.getnframes())


@pytest.fixture
def headset(tmp_path: Path) -> Iterator[VirtualHeadset]:
    """A virtual headset whose agent says 600 Hz "syllables"."""
    vh = VirtualHeadset(tmp_path / "headset", syllables(MIC_TONE_HZ))
    yield vh
    vh.close()


def start_station_on(
    vh: VirtualHeadset,
    b: Box,
    station_config: Callable[..., Path],
    station_proc: Callable[..., StationProc],
) -> StationProc:
    """desk2 with real audio (simulate = false), seeing only the virtual headset's ALSA config."""
    password = tomllib.loads((b.dir / "secrets.toml").read_text())["stations"]["desk2"]["password"]
    cfg = station_config({"desk2": {"password": password}}, sip_port=b.sip_port, simulate=False)
    # This one child sees the headset's ALSA config and inherits its pipes.
    return station_proc(cfg, station="desk2", core=b.core, env={"ALSA_CONFIG_PATH": str(vh.conf)}, pass_fds=vh.fds)


@pytest.mark.slow
@pytest.mark.serial
def test_a_call_is_heard_in_the_alsa_headset_and_its_microphone_reaches_the_caller(
    box: Callable[..., Box],  # noqa: F811
    headset: VirtualHeadset,
    sipua: Callable[..., SipUA],
    station_config: Callable[..., Path],
    station_proc: Callable[..., StationProc],
    peer_dir: Path,
) -> None:
    b = box(stations={"desk2": DESK})
    station = start_station_on(headset, b, station_config, station_proc)
    try:
        station.wait_log(r"station desk2 at sip:\S+, core \S+, audio: default$")  # the ALSA PCM, not the null device
        b.wait(
            lambda s: any(a["station"] == "desk2" and a["state"] == "available" and a["audio"] for a in s["agents"]),
            timeout=15,
            what="desk2 available with working audio (its heartbeat)",
        )

        caller = sipua(name="patient")
        before_call = headset.played
        cid = caller.call(b.uri, from_user=PATIENT)
        caller.wait_state("CONFIRMED", cid)
        caller.dtmf("0", cid)  # the front desk
        b.wait_agent("desk2", "on-call", timeout=20)
        station.wait_log("caller connected to the headset", timeout=5)  # after the 300 ms answer tone

        heard = peer_dir / "caller-heard.wav"
        caller.record(heard, cid)
        mark, marked_at = headset.played, time.monotonic()
        caller.play(write_tone_wav(peer_dir / "caller-1khz.wav", seconds=2.0, freq=CALLER_TONE_HZ), cid)
        caller.wait_for("played", lambda e: e["call"] == cid, timeout=5)
        time.sleep(1.0)  # the tail through jitter buffers; more syllables from the agent
        caller.stop_record(cid)
        speaker, elapsed = headset.speaker_since(mark), time.monotonic() - marked_at
        whole_call = headset.speaker_since(before_call)
        caller.wait_for("recorded", lambda e: e["wav"] == str(heard))
        (peer_dir / "headset-speaker.raw").write_bytes(speaker)  # post-mortem: sox -r 8000 -e signed -b 16 -c 1
        caller.hangup(cid)
        caller.wait_state("DISCONNECTED", cid)

        # The agent's ear: the ALSA playback device ran at the card's pace and
        # played the answer tone, then the caller's 1 kHz.
        assert 0.8 * elapsed <= len(speaker) / (2 * RATE) <= 1.2 * elapsed
        assert tone_seconds(whole_call, BEEP.freq1) >= 0.2
        assert tone_seconds(speaker, CALLER_TONE_HZ) >= 1.5
        assert tone_seconds(speaker, MIC_TONE_HZ) == 0  # the agent's own voice is not fed back
        # The agent's mouth: the ALSA capture device's 600 Hz syllables reached the caller.
        said = wav_pcm(heard)
        assert tone_seconds(said, MIC_TONE_HZ) >= 1.0 and bursts(said, MIC_TONE_HZ) >= 3
        assert tone_seconds(said, CALLER_TONE_HZ) == 0  # no echo of the caller's own voice
        assert "cannot connect the headset" not in station.text()

        beat = b.agent("desk2")  # the station's last heartbeat, as the core saw it
        assert beat["reachable"] and beat["audio"]
    finally:
        code = station.stop()  # before the headset goes: its ALSA threads block on its pipes
    assert code == 0, station.text()
