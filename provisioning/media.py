"""Checks of the files a bundle installs: recorded prompts (WAV) and the web UI's TLS pair.

A prompt PJSUA2 cannot play is a silent phone line, and a certificate
that does not match its key stops nginx: both are refused before anything
on the box changes.
"""

from __future__ import annotations

import re
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from appliance.config import LANGUAGES
from appliance.errors import ProvisioningError

RATES = (8000, 16000)
MAX_PROMPT_S = 600
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class PromptFile:
    name: str  # bundle name, e.g. prompts/en/greeting.wav
    language: str
    stem: str
    seconds: float


def check_wav(path: Path, name: str) -> float:
    """Mono 16-bit PCM at 8 or 16 kHz, at most 10 minutes; returns its length in seconds.

    Raises:
        ProvisioningError: naming the file and what to convert it to.
    """
    fix = "convert it with: sox IN.wav -r 8000 -c 1 -b 16 -e signed-integer OUT.wav"
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            comp = wav.getcomptype()
    except (wave.Error, EOFError, OSError) as exc:
        raise ProvisioningError(f"{name} is not a PCM WAV file ({exc}); {fix}") from exc
    if comp != "NONE":
        raise ProvisioningError(f"{name} is compressed ({comp}); {fix}")
    if channels != 1:
        raise ProvisioningError(f"{name} has {channels} channels; prompts must be mono; {fix}")
    if width != 2:
        raise ProvisioningError(f"{name} has {8 * width}-bit samples; prompts must be 16-bit; {fix}")
    if rate not in RATES:
        raise ProvisioningError(f"{name} is sampled at {rate} Hz; prompts must be 8000 or 16000 Hz; {fix}")
    expected = frames * channels * width
    actual = path.stat().st_size
    if actual < expected:
        raise ProvisioningError(f"{name} is truncated (header promises more audio than the file holds)")
    seconds = frames / rate
    if seconds == 0:
        raise ProvisioningError(f"{name} holds no audio")
    if seconds > MAX_PROMPT_S:
        raise ProvisioningError(f"{name} lasts {seconds:.0f} s; a prompt may last at most {MAX_PROMPT_S} s")
    return seconds


def prompt_target(name: str, prompts_dir: str, languages: list[str]) -> tuple[str, str]:
    """``prompts/<language>/<stem>.wav`` -> (language, stem).

    Raises:
        ProvisioningError: a file in the wrong place or for a language the clinic does not offer.
    """
    rel = name[len(prompts_dir) + 1 :]
    parts = rel.split("/")
    if len(parts) != 2 or not parts[1].lower().endswith(".wav"):
        raise ProvisioningError(
            f"{name}: prompts go in {prompts_dir}/<language>/<prompt>.wav (e.g. {prompts_dir}/en/greeting.wav)"
        )
    language, filename = parts
    if language not in LANGUAGES:
        raise ProvisioningError(f"{name}: unknown language folder {language!r}; use one of {', '.join(LANGUAGES)}")
    if language not in languages:
        raise ProvisioningError(
            f"{name}: the clinic does not offer {language!r} (clinic.languages = {', '.join(languages)})"
        )
    stem = filename[:-4]
    if not _STEM.match(stem):
        raise ProvisioningError(f"{name}: a prompt name has letters, digits, '_' and '-' only")
    return language, stem


@dataclass(frozen=True)
class TlsInfo:
    subject: str
    not_after: datetime
    warnings: tuple[str, ...]


def check_tls(cert_path: Path, key_path: Path, now: datetime | None = None) -> TlsInfo:
    """The certificate and key load, match each other, and the key has no passphrase.

    Raises:
        ProvisioningError: unreadable, mismatched, or a passphrase-protected key.
    """
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise ProvisioningError(f"the TLS certificate is not a PEM certificate ({exc})") from exc
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except TypeError as exc:
        raise ProvisioningError(
            "the TLS key is passphrase-protected; nginx cannot start unattended with it: give the unencrypted key"
        ) from exc
    except ValueError as exc:
        raise ProvisioningError(f"the TLS key is not a PEM private key ({exc})") from exc
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise ProvisioningError("the TLS certificate and key do not belong together; give the matching pair")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = str(names[0].value) if names else cert.subject.rfc4514_string()
    now = now or datetime.now(UTC)
    warnings = []
    if cert.not_valid_after_utc < now:
        warnings.append(f"the TLS certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}; browsers will warn")
    elif cert.not_valid_before_utc > now:
        warnings.append(
            f"the TLS certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d} (is the box's clock right?)"
        )
    return TlsInfo(subject, cert.not_valid_after_utc, tuple(warnings))
