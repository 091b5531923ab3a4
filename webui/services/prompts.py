"""Clinic prompt recordings and text-to-speech previews.

Recordings a manager uploads (or records in the browser) are checked to be
what the phone system can play (mono 16-bit PCM WAV at a telephony or
studio rate, at most five minutes) and stored where the IVR's prompt
library looks for them, ``<state_dir>/prompts/custom/<lang>/<key>.wav``
(see :mod:`appliance.ivr.library`, which converts them to 8 kHz for the
phone line). Prompts are not patient data and are stored in clear.

A preview runs espeak-ng with the clinic's voice for the language and
returns the WAV without writing it anywhere.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config
from appliance.errors import ClinicBoxError, NotFoundError, ValidationError
from appliance.ivr.catalogue import PromptCatalogue

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
RATES = (8000, 16000, 22050, 32000, 44100, 48000)
MAX_SECONDS = 300
MAX_PREVIEW_CHARS = 600


@dataclass(frozen=True)
class CustomPrompt:
    name: str
    language: str
    seconds: float


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValidationError("prompt names are 1-48 lowercase letters, digits, '-' or '_'")
    return name


def _dir(cfg: Config, language: str) -> Path:
    if language not in cfg.clinic.languages:
        raise ValidationError(f"language must be one of {', '.join(cfg.clinic.languages)}")
    return cfg.custom_prompts_dir / language


def check_wav(data: bytes) -> float:
    """Seconds of audio, or ValidationError saying what is wrong with the file."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate, frames = (
                wav.getnchannels(),
                wav.getsampwidth(),
                wav.getframerate(),
                wav.getnframes(),
            )
    except (wave.Error, EOFError) as exc:
        raise ValidationError(f"not a PCM WAV file ({exc}); save it as WAV, 16-bit, mono") from None
    if channels not in (1, 2):
        raise ValidationError("the recording must be mono or stereo")
    if width not in (1, 2):
        raise ValidationError("the recording must be 8- or 16-bit PCM")
    if rate not in RATES:
        raise ValidationError(f"sample rate {rate} Hz is not supported; use 8000, 16000 or 48000 Hz")
    seconds = frames / rate
    if frames == 0:
        raise ValidationError("the recording is empty")
    if seconds > MAX_SECONDS:
        raise ValidationError(f"the recording is longer than {MAX_SECONDS // 60} minutes")
    return seconds


def save(cfg: Config, name: str, language: str, data: bytes) -> Path:
    check_name(name)
    check_wav(data)
    folder = _dir(cfg, language)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.wav"
    tmp = folder / f".{name}.{secrets.token_hex(4)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def path_of(cfg: Config, name: str, language: str) -> Path:
    """The file of a custom prompt (names are checked: no path tricks)."""
    check_name(name)
    target = _dir(cfg, language) / f"{name}.wav"
    if not target.is_file():
        raise NotFoundError(f"no recording named {name}")
    return target


def delete(cfg: Config, name: str, language: str) -> None:
    path_of(cfg, name, language).unlink()


def custom_prompts(cfg: Config) -> list[CustomPrompt]:
    out: list[CustomPrompt] = []
    root = cfg.custom_prompts_dir
    for language in cfg.clinic.languages:
        folder = root / language
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.wav")):
            if not NAME.match(path.stem):
                continue
            try:
                seconds = check_wav(path.read_bytes())
            except ValidationError:
                seconds = 0.0
            out.append(CustomPrompt(path.stem, language, seconds))
    return out


def keys_in_use(cfg: Config) -> list[str]:
    """Every prompt key: the built-in catalogue's, the call flow's, the clinic's texts."""
    keys = set(PromptCatalogue.from_config(cfg).known_keys())
    keys.update(node.prompt for node in cfg.ivr.nodes.values() if node.prompt)
    return sorted(k for k in keys if NAME.match(k))


def default_texts(cfg: Config) -> dict[str, dict[str, str]]:
    """The built-in text of each key per language (shown as a hint)."""
    builtin = PromptCatalogue(cfg.clinic.name, cfg.emergency_number)
    out: dict[str, dict[str, str]] = {}
    for lang in cfg.clinic.languages:
        for key in keys_in_use(cfg):
            if builtin.has_text(key, lang):
                out.setdefault(lang, {})[key] = builtin.template(key, lang)
    return out


def preview(cfg: Config, text: str, language: str) -> bytes:
    """Speak ``text`` with espeak-ng; returns WAV bytes (nothing is written to disk).

    Raises:
        ValidationError: empty or too long text, unknown language.
        ClinicBoxError: espeak-ng is missing or failed.
    """
    text = text.strip()
    if not text:
        raise ValidationError("write the text to hear")
    if len(text) > MAX_PREVIEW_CHARS:
        raise ValidationError(f"at most {MAX_PREVIEW_CHARS} characters per preview")
    voice = cfg.prompts.tts_voices.get(language)
    if not voice:
        raise ValidationError(f"no text-to-speech voice for language {language!r} (see prompts.tts_voices)")
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ClinicBoxError("espeak-ng is not installed; install the espeak-ng package")
    text = text.replace("{clinic}", cfg.clinic.name)
    try:
        done = subprocess.run(
            [exe, "-v", voice, "-s", str(cfg.prompts.tts_speed), "--stdout"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ClinicBoxError("espeak-ng took too long; try a shorter text") from None
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise ClinicBoxError(f"espeak-ng failed: {done.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return done.stdout
