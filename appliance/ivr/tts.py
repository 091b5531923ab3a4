"""Offline text-to-speech and audio conversion: espeak-ng piped through sox.

The switchboard's conference bridge runs at 8 kHz, so every prompt is
stored as 8 kHz mono 16-bit PCM WAV: generated speech and the clinic's own
recordings alike (a recording made at 44.1 kHz stereo is converted once).
Levels are normalised to -3 dBFS so generated and recorded prompts sound
equally loud. These functions run external programs and take tens of
milliseconds: call them from a worker thread, never the PJSUA2 thread.

Example:
    >>> tts = EspeakSox()                                            # doctest: +SKIP
    >>> tts.synthesize("Hello", "en-us", 150, Path("/tmp/hello.wav"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from appliance.errors import TtsError
from appliance.fsutil import fsync_dir

RATE = 8000
#: Part of every cache key: changing the audio pipeline regenerates the cache.
PIPELINE = "espeak-ng|sox:8000/1/16/gain-n-3"


class Synthesizer(Protocol):
    """Turns text into an 8 kHz mono 16-bit WAV, and converts recordings."""

    def synthesize(self, text: str, voice: str, speed: int, out: Path) -> None: ...

    def convert(self, src: Path, out: Path) -> None: ...


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    @property
    def telephone_ready(self) -> bool:
        """8 kHz mono 16-bit: what the conference bridge plays without conversion."""
        return self.rate == RATE and self.channels == 1 and self.sample_width == 2


def wav_info(path: Path) -> WavInfo:
    """Read a WAV header.

    Raises:
        TtsError: not a PCM WAV file.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            return WavInfo(wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise TtsError(f"{path} is not a readable PCM WAV file ({exc}); re-export it as WAV (PCM)") from exc


class EspeakSox:
    """The real synthesizer: ``espeak-ng`` then ``sox``.

    Args:
        espeak: the espeak-ng program.
        sox: the sox program.
        timeout_s: longest a single run may take.
    """

    def __init__(self, espeak: str = "espeak-ng", sox: str = "sox", timeout_s: float = 60.0) -> None:
        self.espeak = espeak
        self.sox = sox
        self.timeout_s = timeout_s
        self._voices: frozenset[str] | None = None

    def missing_programs(self) -> list[str]:
        """Programs not installed (for ``clinicbox doctor``)."""
        return [p for p in (self.espeak, self.sox) if shutil.which(p) is None]

    def voices(self) -> frozenset[str]:
        """Names espeak-ng accepts for ``-v`` (language codes, voice names, files), lower case.

        Raises:
            TtsError: espeak-ng is missing or failed.
        """
        if self._voices is None:
            listing = self._run([self.espeak, "--voices"], None)
            names: set[str] = set()
            for line in listing.splitlines()[1:]:
                cols = line.split()
                if len(cols) >= 5:
                    names.update(
                        {cols[1].lower(), cols[3].lower(), cols[4].lower(), cols[4].rsplit("/", 1)[-1].lower()}
                    )
            self._voices = frozenset(names)
        return self._voices

    def synthesize(self, text: str, voice: str, speed: int, out: Path) -> None:
        """Speak ``text`` with espeak-ng ``voice`` at ``speed`` words per minute into ``out``.

        espeak-ng silently speaks English for a voice it does not know, so the
        voice is checked against ``espeak-ng --voices`` first.

        Raises:
            TtsError: unknown voice, espeak-ng or sox missing or failed; nothing is left at ``out``.
        """
        if voice.lower() not in self.voices():
            raise TtsError(
                f"espeak-ng has no voice {voice!r}; pick one from `espeak-ng --voices` for prompts.tts_voices"
            )
        raw = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.raw.wav")
        try:
            # Text on stdin (-b 1: UTF-8) so a text starting with "-" is never an option.
            self._run([self.espeak, "-v", voice, "-s", str(speed), "-b", "1", "-w", str(raw), "--stdin"], text)
            if not raw.exists() or raw.stat().st_size <= 44:
                raise TtsError(f"espeak-ng produced no audio for voice {voice!r}; check prompts.tts_voices")
            self.convert(raw, out)
        finally:
            raw.unlink(missing_ok=True)

    def convert(self, src: Path, out: Path) -> None:
        """Convert any WAV sox reads to 8 kHz mono 16-bit, normalised; atomic.

        Raises:
            TtsError: sox is missing or cannot read ``src``.
        """
        tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp.wav")
        try:
            argv = [self.sox, "-q", str(src), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
            self._run([*argv, str(tmp), "gain", "-n", "-3"], None)
            # Durable before it is named: after a power cut the cache holds the whole file or none.
            with tmp.open("rb") as written:
                os.fsync(written.fileno())
            os.replace(tmp, out)
            fsync_dir(out.parent)
        finally:
            tmp.unlink(missing_ok=True)

    def _run(self, argv: list[str], stdin: str | None) -> str:
        try:
            proc = subprocess.run(
                argv,
                input=stdin.encode("utf-8") if stdin is not None else None,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise TtsError(
                f"{argv[0]} is not installed; install it (apt-get install espeak-ng sox libsox-fmt-base)"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise TtsError(f"{argv[0]} took longer than {self.timeout_s:.0f} s and was stopped") from exc
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise TtsError(f"{argv[0]} failed (exit {proc.returncode}): {detail[-1] if detail else 'no message'}")
        return proc.stdout.decode("utf-8", "replace")
