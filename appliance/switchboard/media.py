"""Media on the conference bridge: prompt playlists, music on hold, capture.

Every object here is created, connected and destroyed on the PJSUA2
thread. Callbacks (end of a prompt, a captured frame) only record and
queue; the owner destroys players later, never inside their own callback.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pjsua2 as pj

from appliance.switchboard.owned import LoopOwned

log = logging.getLogger(__name__)

FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono


class PromptPlayer(LoopOwned, pj.AudioMediaPlayer):  # type: ignore[misc]
    """Plays a list of WAV files once, then calls ``on_done`` (via the loop)."""

    def __init__(
        self, files: list[Path], on_done: Callable[[], None], soon: Callable[[Callable[[], None]], None]
    ) -> None:
        super().__init__()
        self._on_done = on_done
        self._soon = soon
        self.finished = False
        paths = [str(f) for f in files]
        if len(paths) == 1:
            self.createPlayer(paths[0], pj.PJMEDIA_FILE_NO_LOOP)
        else:
            self.createPlaylist(paths, "prompt", pj.PJMEDIA_FILE_NO_LOOP)

    def onEof2(self) -> None:
        if not self.finished:
            self.finished = True
            self._soon(self._on_done)


class MusicPlayer(LoopOwned, pj.AudioMediaPlayer):  # type: ignore[misc]
    """Loops a WAV for callers on hold or waiting in a queue."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.createPlayer(str(path), 0)


class FrameCapture(LoopOwned, pj.AudioMediaPort):  # type: ignore[misc]
    """Receives the bridge's mix for this port as 8 kHz PCM and hands it on
    in chunks (``sink(bytes)``), so nothing is written in clear to disk."""

    def __init__(self, name: str, sink: Callable[[bytes], None], chunk_bytes: int = 16000) -> None:
        super().__init__()
        self._sink = sink
        self._buf = bytearray()
        self._chunk = chunk_bytes
        self.bytes = 0
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = 8000
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = 20000
        self.createPort(name, fmt)

    def onFrameReceived(self, frame: Any) -> None:
        data = bytes(frame.buf)
        if not data:
            return
        self._buf += data
        self.bytes += len(data)
        if len(self._buf) >= self._chunk:
            chunk, self._buf = bytes(self._buf), bytearray()
            self._sink(chunk)

    def onFrameRequested(self, frame: Any) -> None:
        frame.type = pj.PJMEDIA_FRAME_TYPE_NONE

    def flush(self) -> None:
        if self._buf:
            chunk, self._buf = bytes(self._buf), bytearray()
            self._sink(chunk)

    @property
    def seconds(self) -> float:
        return self.bytes / 16000.0


def _write_wav(path: Path, tones: list[tuple[float, float, float]]) -> Path:
    """Write (frequency, seconds, level) tones as an 8 kHz 16-bit mono WAV, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 8000
    frames = bytearray()
    for freq, seconds, level in tones:
        count = int(rate * seconds)
        for i in range(count):
            env = min(1.0, i / 200, (count - i) / 200)
            sample = level * env * math.sin(2 * math.pi * freq * i / rate) if freq else 0.0
            frames += struct.pack("<h", int(sample * 32767))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    tmp.replace(path)
    return path


def write_music(path: Path) -> Path:
    """The built-in music on hold: a calm, repeating three-note phrase."""
    if path.exists():
        return path
    phrase = [(523.25, 0.6, 0.18), (659.25, 0.6, 0.18), (783.99, 0.9, 0.18), (0.0, 0.9, 0.0)]
    return _write_wav(path, phrase * 2)


def write_beep(path: Path) -> Path:
    """The beep before a voicemail recording."""
    if path.exists():
        return path
    return _write_wav(path, [(1000.0, 0.4, 0.3)])


def wav_header(pcm_bytes: int, rate: int = 8000) -> bytes:
    """A 44-byte PCM WAV header for ``pcm_bytes`` of 16-bit mono audio."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + pcm_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", pcm_bytes)
    )
