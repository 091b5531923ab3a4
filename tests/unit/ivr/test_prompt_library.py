"""PromptLibrary: non-blocking resolve, warm-up, the SHA-256 cache, clinic recordings."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import PromptError, TtsError
from appliance.ivr.catalogue import POSITION_MAX, PromptCatalogue
from appliance.ivr.library import PromptLibrary, cache_key, config_refs
from appliance.ivr.prompts import PromptRef
from appliance.ivr.tts import wav_info


def write_wav(path: Path, rate: int = 8000, channels: int = 1, seconds: float = 0.2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x01\x00" * int(rate * seconds) * channels)


class FakeTts:
    """Writes silence instead of speech and remembers what it was asked."""

    def __init__(self, fail_voice: str = "") -> None:
        self.spoken: list[tuple[str, str]] = []
        self.converted: list[Path] = []
        self.fail_voice = fail_voice

    def synthesize(self, text: str, voice: str, speed: int, out: Path) -> None:
        if voice == self.fail_voice:
            raise TtsError(f"espeak-ng failed for {voice}")
        self.spoken.append((text, voice))
        write_wav(out)

    def convert(self, src: Path, out: Path) -> None:
        self.converted.append(src)
        write_wav(out)


def library(tmp_path: Path, tts: FakeTts, **kw: object) -> PromptLibrary:
    params: dict = {
        "cache_dir": tmp_path / "cache",
        "custom_dir": tmp_path / "custom",
        "voices": {"en": "en-us", "pl": "pl", "zh": "cmn-latn-pinyin"},
        "speed": 150,
        "languages": ["en", "pl"],
        "default_language": "en",
        "synthesizer": tts,
    }
    params.update(kw)
    return PromptLibrary(PromptCatalogue("Clinic", "112"), **params)


def test_resolve_before_warm_returns_the_fallback_tone_and_remembers_it(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts())
    path = lib.resolve(PromptRef("greeting"), "pl")
    assert path == lib.fallback and wav_info(path).telephone_ready
    assert (PromptRef("greeting"), "pl") in lib.missing
    report = lib.warm_missing()
    assert report.generated == 1 and not lib.missing
    assert lib.resolve(PromptRef("greeting"), "pl") != lib.fallback


def test_warm_generates_once_and_the_cache_survives_a_restart(tmp_path: Path) -> None:
    tts = FakeTts()
    lib = library(tmp_path, tts)
    first = lib.warm(["greeting", "goodbye"], ["en", "pl"])
    assert (first.generated, first.cached, first.ok) == (4, 0, True)
    again = lib.warm(["greeting", "goodbye"], ["en", "pl"])
    assert (again.generated, again.cached) == (0, 4)
    restarted = library(tmp_path, tts)
    report = restarted.warm(["greeting"], ["pl"])
    assert (report.generated, report.cached) == (0, 1)
    assert len(tts.spoken) == 4
    expected = tmp_path / "cache" / f"{cache_key('Dzień dobry, tu Clinic. Dziękujemy za telefon.', 'pl', 150)}.wav"
    assert restarted.resolve(PromptRef("greeting"), "pl") == expected


@pytest.mark.parametrize("left", [b"", b"RIFF\x24\x00\x00\x00WAVEfmt "], ids=["empty", "cut-short"])
def test_a_cached_prompt_a_power_cut_left_broken_is_made_again(tmp_path: Path, left: bytes) -> None:
    """Seen on the booted image: a power cut left a cached prompt that PJSUA2 refused
    ("Not a valid WAVE file"), and every reminder call after the boot was hung up at once."""
    tts = FakeTts()
    first = library(tmp_path, tts)
    first.warm(["greeting"], ["en"])
    cached = first.resolve(PromptRef("greeting"), "en")
    assert cached.parent == tmp_path / "cache"
    cached.write_bytes(left)
    report = library(tmp_path, tts).warm(["greeting"], ["en"])
    assert (report.generated, report.cached) == (1, 0)
    assert wav_info(cached).frames > 0 and len(tts.spoken) == 2


def test_changed_text_or_voice_makes_a_new_file(tmp_path: Path) -> None:
    assert cache_key("Hello", "en-us", 150) != cache_key("Hello.", "en-us", 150)
    assert cache_key("Hello", "en-us", 150) != cache_key("Hello", "en-gb", 150)
    assert cache_key("Hello", "en-us", 150) != cache_key("Hello", "en-us", 160)


def test_dynamic_key_warms_every_value_and_resolves_each(tmp_path: Path) -> None:
    tts = FakeTts()
    lib = library(tmp_path, tts)
    report = lib.warm(["queue_position"], ["en"])
    assert report.generated == POSITION_MAX
    three = lib.resolve(PromptRef.of("queue_position", position=3), "en")
    four = lib.resolve(PromptRef.of("queue_position", position=4), "en")
    assert three != four
    assert ("Your place in line: 3.", "en-us") in tts.spoken


def test_language_reference_is_prepared_in_its_own_language(tmp_path: Path) -> None:
    tts = FakeTts()
    lib = library(tmp_path, tts)
    ref = PromptRef.of("language_option", language="zh", key="2")
    lib.warm([ref], ["en", "pl"])
    assert tts.spoken == [("普通话服务请按2。", "cmn-latn-pinyin")]
    assert lib.resolve(ref, "pl") != lib.fallback


def test_clinic_recording_wins_and_is_used_as_is_when_telephone_ready(tmp_path: Path) -> None:
    tts = FakeTts()
    recording = tmp_path / "custom" / "pl" / "greeting.wav"
    write_wav(recording)
    lib = library(tmp_path, tts)
    report = lib.warm(["greeting"], ["pl", "en"])
    assert (report.custom, report.generated) == (1, 1)
    assert lib.resolve(PromptRef("greeting"), "pl") == recording
    assert lib.resolve(PromptRef("greeting"), "en").parent == tmp_path / "cache"


def test_clinic_recording_in_cd_quality_is_converted_once(tmp_path: Path) -> None:
    tts = FakeTts()
    write_wav(tmp_path / "custom" / "en" / "queue_position_3.wav", rate=44100, channels=2)
    lib = library(tmp_path, tts)
    lib.warm([PromptRef.of("queue_position", position=3)], ["en"])
    lib.warm([PromptRef.of("queue_position", position=3)], ["en"])
    path = lib.resolve(PromptRef.of("queue_position", position=3), "en")
    assert path.name.startswith("rec-") and wav_info(path).telephone_ready
    assert len(tts.converted) == 1 and tts.spoken == []


def test_missing_language_falls_back_to_default_language(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts())
    lib.warm(["goodbye"], ["en"])
    assert lib.resolve(PromptRef("goodbye"), "pl") == lib.resolve(PromptRef("goodbye"), "en")
    assert (PromptRef("goodbye"), "pl") in lib.missing


def test_failures_are_reported_and_do_not_stop_other_prompts(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts(fail_voice="pl"), voices={"en": "en-us", "pl": "pl"})
    report = lib.warm(["greeting", "nonexistent_recording"], ["en", "pl"])
    assert report.generated == 1
    assert not report.ok
    joined = "\n".join(report.failed)
    assert "greeting in pl: espeak-ng failed for pl" in joined
    assert "nonexistent_recording in en: prompt 'nonexistent_recording' has no 'en' text" in joined


def test_language_without_voice_is_reported(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts(), voices={"en": "en-us"})
    report = lib.warm(["greeting"], ["pl"])
    assert report.failed == ["greeting in pl: no espeak-ng voice for 'pl'; set prompts.tts_voices.pl"]


def test_unknown_prompt_raises(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts())
    with pytest.raises(PromptError, match="unknown prompt 'no_such_prompt'"):
        lib.resolve(PromptRef("no_such_prompt"), "en")


def test_prune_removes_files_no_prompt_uses(tmp_path: Path) -> None:
    lib = library(tmp_path, FakeTts())
    lib.warm(["greeting"], ["en"])
    stale = tmp_path / "cache" / "0123.wav"
    write_wav(stale)
    assert lib.prune() == 1 and not stale.exists()
    assert lib.resolve(PromptRef("greeting"), "en").exists() and lib.fallback.exists()


def test_unwritable_cache_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PromptError, match="cannot write the prompt cache"):
        library(tmp_path, FakeTts(), cache_dir=blocker / "cache")


def test_config_refs_cover_flow_and_queue_prompts() -> None:
    cfg = load_config()
    refs = set(config_refs(cfg))
    for key in ("greeting", "emergency", "main_menu", "closed", "leave_message", "invalid", "goodbye"):
        assert PromptRef(key) in refs
    assert PromptRef.of("callback_offer", key="1") in refs
    assert PromptRef.of("queue_wait", minutes=30) in refs
    assert PromptRef("queue_position_many") in refs


def test_from_config_warms_everything_the_flow_needs(tmp_path: Path) -> None:
    cfg = load_config(overrides={"paths": {"state_dir": str(tmp_path)}, "clinic": {"languages": ["en", "pl"]}})
    lib = PromptLibrary.from_config(cfg, synthesizer=FakeTts())
    report = lib.warm()
    assert report.ok, report.failed
    assert report.generated == len(config_refs(cfg)) * 2
    assert lib.resolve(PromptRef("main_menu"), "pl").parent == cfg.prompt_cache_dir
