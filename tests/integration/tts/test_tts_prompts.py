"""Real espeak-ng and sox: every language speaks, prompts are 8 kHz mono 16-bit, the cache holds."""

from __future__ import annotations

import array
import math
import subprocess
import wave
from pathlib import Path

import pytest

from appliance.config import Config, load_config
from appliance.config.checks import LANGUAGES
from appliance.errors import TtsError
from appliance.ivr.library import PromptLibrary
from appliance.ivr.prompts import PromptRef
from appliance.ivr.tts import EspeakSox, wav_info


def rms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return load_config(
        overrides={
            "clinic": {"name": "Sunrise Clinic", "languages": list(LANGUAGES), "default_language": "en"},
            "paths": {"state_dir": str(tmp_path / "state")},
        }
    )


def test_every_language_speaks_a_telephone_wav_and_the_cache_is_hit_the_second_time(cfg: Config) -> None:
    lib = PromptLibrary.from_config(cfg)
    refs = [PromptRef("greeting"), PromptRef.of("queue_position", position=3)]
    first = lib.warm(refs, LANGUAGES)
    assert first.ok, first.failed
    assert first.generated == 2 * len(LANGUAGES)
    durations = {}
    for lang in LANGUAGES:
        for ref in refs:
            path = lib.resolve(ref, lang)
            info = wav_info(path)
            assert (info.rate, info.channels, info.sample_width) == (8000, 1, 2), (lang, ref)
            assert 0.7 < info.seconds < 12, (lang, ref, info.seconds)
            assert rms(path) > 300, f"{lang} {ref} is silent"
            durations[lang, ref.key] = info.seconds
    stamps = {p: p.stat().st_mtime_ns for p in cfg.prompt_cache_dir.glob("*.wav")}
    again = PromptLibrary.from_config(cfg).warm(refs, LANGUAGES)
    assert (again.generated, again.cached) == (0, 2 * len(LANGUAGES))
    assert {p: p.stat().st_mtime_ns for p in cfg.prompt_cache_dir.glob("*.wav")} == stamps


def test_chinese_voice_reads_characters_as_mandarin(cfg: Config) -> None:
    """espeak-ng's ``cmn`` voice reads 汉字 as English phonemes; the default must not."""
    voice = cfg.prompts.tts_voices["zh"]
    phonemes = subprocess.run(
        ["espeak-ng", "-v", voice, "-q", "-x", "--stdin"], input="您好", capture_output=True, text=True, check=True
    ).stdout
    assert "(en)" not in phonemes, phonemes
    assert "35" in phonemes and "214" in phonemes, phonemes  # nín (tone 2), hǎo (tone 3)


def test_clinic_recording_at_44k_stereo_is_converted_to_telephone_format(cfg: Config) -> None:
    recording = cfg.custom_prompts_dir / "en" / "greeting.wav"
    recording.parent.mkdir(parents=True)
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(recording), "synth", "1.5", "sine", "440"], check=True
    )
    lib = PromptLibrary.from_config(cfg)
    report = lib.warm(["greeting"], ["en"])
    assert report.custom == 1
    path = lib.resolve(PromptRef("greeting"), "en")
    assert path != recording and wav_info(path).telephone_ready
    assert abs(wav_info(path).seconds - 1.5) < 0.05


def test_unknown_voice_fails_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="espeak-ng"):
        EspeakSox().synthesize("hello", "no-such-voice-xx", 150, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_program_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="apt-get install espeak-ng sox"):
        EspeakSox(espeak="espeak-ng-not-installed").synthesize("hello", "en-us", 150, tmp_path / "out.wav")
