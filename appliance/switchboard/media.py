"""Media on the conference bridge: prompt playlists, music on hold, capture.

Every object here is created, connected and destroyed on the PJSUA2
thread. Callbacks (end of a prompt, a captured frame) only record and
queue; the owner destroys players later, never inside their own callback.

Any: 2, both pjsua2 media frames.
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

from appliance.station.media import destroy_port
from appliance.switchboard.owned import LoopOwned

log = logging.getLogger(__name__)

FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono


class PromptPlayer(LoopOwned, pj.AudioMediaPlayer):  # type: ignore[misc]
    """Plays a list of WAV files once, then calls ``on_done`` (via the loop).

    A player holds one of PJSUA's few player slots and a bridge port, so its
    owner lets go of it as soon as it ends or is stopped: :meth:`detach`
    drops the callback (which refers back to the owner), leaving nothing but
    the owner's reference, and the player is freed when that goes.
    """

    live = 0  # prompt players in existence (the media budget's gauge)

    def __init__(
        self, files: list[Path], on_done: Callable[[], None], soon: Callable[[Callable[[], None]], None]
    ) -> None:
        super().__init__()
        self._on_done: Callable[[], None] | None = on_done
        self._soon = soon
        self.finished = False
        paths = [str(f) for f in files]
        if len(paths) == 1:
            self.createPlayer(paths[0], pj.PJMEDIA_FILE_NO_LOOP)
        else:
            self.createPlaylist(paths, "prompt", pj.PJMEDIA_FILE_NO_LOOP)
        PromptPlayer.live += 1
        self._counted = True

    def onEof2(self) -> None:
        if not self.finished and self._on_done is not None:
            self.finished = True
            self._soon(self._on_done)

    def detach(self) -> None:
        self._on_done = None

    def __del__(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            PromptPlayer.live -= 1
        super().__del__()


class MusicPlayer(LoopOwned, pj.AudioMediaPlayer):  # type: ignore[misc]
    """Loops a WAV for callers on hold or waiting in a queue."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.createPlayer(str(path), 0)


class MusicBank:
    """One looping player per music source, shared by every caller who hears it.

    The conference bridge fans one port out to any number of listeners, so
    100 callers waiting in one queue cost one player, not 100. A player
    with no listener costs nothing (the bridge skips it); the bank keeps
    each for the life of the switchboard and :meth:`close` frees them all
    (PJSUA2 thread, before the endpoint goes).
    """

    def __init__(self) -> None:
        self._players: dict[Path, MusicPlayer] = {}

    def player(self, path: Path) -> MusicPlayer:
        player = self._players.get(path)
        if player is None:
            player = self._players[path] = MusicPlayer(path)
        return player

    def __len__(self) -> int:
        return len(self._players)

    def close(self) -> None:
        self._players.clear()


class FrameCapture(LoopOwned, pj.AudioMediaPort):  # type: ignore[misc]
    """Receives the bridge's mix for this port as 8 kHz PCM and hands it on
    in chunks (``sink(bytes)``), so nothing is written in clear to disk."""

    def __init__(self, name: str, sink: Callable[[bytes], None], chunk_bytes: int = 16000) -> None:
        super().__init__()
        self._closed = False
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
        # PJMEDIA's clock thread: only buffer, and hand full chunks to the sink (a queue).
        data = frame.pcm()
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

    def close(self) -> None:
        """Leave the bridge now (loop thread), while this object is whole.

        Dropping the last reference instead runs the C++ destructor after
        Python has already torn the object down, and that destructor releases
        the GIL while it waits for the bridge: PJMEDIA's clock thread could
        then call :meth:`onFrameReceived` on a freed object. The core crashed
        that way (SIGSEGV after "voicemail kept" when a caller hung up during
        the recording; seen under the image's slow emulation and once in CI).
        Destroyed explicitly first, the last reference is harmless."""
        if not self._closed:
            self._closed = True
            destroy_port(self)


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


def write_silence(path: Path) -> Path:
    """A tenth of a second of silence (the player probe's file)."""
    if path.exists():
        return path
    return _write_wav(path, [(0.0, 0.1, 0.0)])


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
