"""Sounds the station plays into its headset, and a meter of what a call carries.

Both are conference-bridge ports owned by the PJSUA2 thread. The meter is
what lets a test (or the demo's traffic generator) prove that a caller
actually heard a prompt: it counts the seconds of received audio that are
not silence.
"""

from __future__ import annotations

import array
import threading
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

#: A frame whose peak stays below this (about -40 dBFS) counts as silence;
#: G.711 idle noise and comfort noise sit well below it.
SILENCE_PEAK = 330
FRAME_S = 0.02


@dataclass(frozen=True)
class Tone:
    freq1: int
    freq2: int
    on_ms: int
    off_ms: int


#: The ring cadence in the headset (manual answer): a soft 1 s double tone every 3 s.
RING = Tone(440, 480, 1000, 2000)
#: The short tone before an auto-answered call is connected.
BEEP = Tone(880, 0, 300, 0)


class TonePlayer:
    """One tone generator feeding one sink (the headset's playback device)."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self._gen = pj.ToneGenerator()
        self._gen.createToneGenerator(8000, 1)
        self._gen.startTransmit(sink)
        self.playing = ""

    def play(self, name: str, tone: Tone, loop: bool) -> None:
        desc = pj.ToneDesc()
        desc.freq1, desc.freq2 = tone.freq1, tone.freq2
        desc.on_msec, desc.off_msec = tone.on_ms, tone.off_ms
        desc.volume = 0
        tones = pj.ToneDescVector()
        tones.append(desc)
        self._gen.stop()
        self._gen.play(tones, loop)
        self.playing = name

    def stop(self) -> None:
        self._gen.stop()
        self.playing = ""

    def busy(self) -> bool:
        return bool(self._gen.isBusy())

    def close(self) -> None:
        self._gen.stop()
        self._gen.stopTransmit(self._sink)


def destroy_port(port: Any) -> None:
    """Destroy an ``AudioMediaPort`` subclass's C++ side now, on the PJSUA2 thread.

    The port leaves the conference bridge while its Python object is still
    whole. Freed by its last reference instead, the C++ destructor runs after
    Python has begun tearing the object down, and it releases the GIL while it
    waits for the bridge: PJMEDIA's clock thread can then call the object's
    frame callback mid-teardown, which crashes the process. Call it once.
    """
    pj.AudioMediaPort.__swig_destroy__(port)


class LevelMeter(pj.AudioMediaPort):  # type: ignore[misc]
    """Counts received audio that is not silence (8 kHz, 16-bit mono frames).

    ``onFrameReceived`` runs on PJMEDIA's clock thread, so it only updates
    numbers under a lock; the PJSUA2 thread reads them with :meth:`reading`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.frames = 0
        self.loud_frames = 0
        self.peak = 0
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
        self.createPort("level-meter", fmt)
        self._closed = False

    def onFrameReceived(self, frame: Any) -> None:
        data = frame.pcm()  # one copy (bytes(frame.buf) walks the vector byte by byte)
        peak = 0
        if data:
            samples = array.array("h", data[: len(data) - len(data) % 2])
            peak = max(max(samples), -min(samples)) if samples else 0
        with self._lock:
            self.frames += 1
            self.peak = max(self.peak, peak)
            if peak >= SILENCE_PEAK:
                self.loud_frames += 1

    def close(self) -> None:
        """Leave the bridge now (PJSUA2 thread), before the last reference goes (:func:`destroy_port`)."""
        if not self._closed:
            self._closed = True
            destroy_port(self)

    def reading(self) -> tuple[float, float, int]:
        """(seconds received, seconds of non-silent audio, peak sample so far)."""
        with self._lock:
            return self.frames * FRAME_S, self.loud_frames * FRAME_S, self.peak
