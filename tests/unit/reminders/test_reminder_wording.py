"""Reminder texts: six languages, dates said naturally, no PHI where a machine may listen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.config import LANGUAGES
from appliance.errors import ConfigError
from appliance.ivr import PromptCatalogue, PromptRef, config_refs
from appliance.ivr.catalogue import placeholders
from appliance.reminders import messages
from appliance.reminders.replies import CANCEL, CONFIRM, parse_reply
from appliance.reminders.when import spoken, written
from appliance.reminders.wording import SMS_TEXTS, TEXTS, machine_prompt
from tests.conftest import clinic_config

VISIT = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)  # Tuesday 09:30 in Warsaw


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_prompt_has_six_languages_with_the_same_placeholders(key: str) -> None:
    assert set(TEXTS[key]) == set(LANGUAGES)
    used = {lang: placeholders(text) for lang, text in TEXTS[key].items()}
    assert len({frozenset(v) for v in used.values()}) == 1, used


@pytest.mark.parametrize("key", ["reminder_hello", "reminder_machine", "reminder_machine_nonumber"])
def test_what_a_machine_may_record_names_only_the_clinic_and_its_number(key: str) -> None:
    for text in TEXTS[key].values():
        assert placeholders(text) <= {"clinic", "callback"}


@pytest.mark.parametrize(
    ("language", "country", "day", "hour"),
    [
        ("en", "US", "Tuesday, March 3", "9:30 AM"),
        ("es", "ES", "martes 3 de marzo", "9:30"),
        ("pl", "PL", "wtorek, 3 marca", "9:30"),
        ("tr", "TR", "3 Mart Salı", "09:30"),
        ("ko", "KR", "3월 3일 화요일", "오전 9시 30분"),
        ("zh", "CN", "3月3日星期二", "上午9点30分"),
    ],
)
def test_day_and_time_are_spoken_as_people_say_them(language: str, country: str, day: str, hour: str) -> None:
    assert spoken(VISIT, language, "Europe/Warsaw", country) == (day, hour)


def test_on_the_hour_no_minutes_are_spoken_and_the_clinic_time_zone_is_used() -> None:
    two_pm = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)  # 14:00 in New York (EDT)
    assert spoken(two_pm, "en", "America/New_York", "US")[1] == "2 PM"
    assert spoken(two_pm, "ko", "America/New_York", "US")[1] == "오후 2시"
    assert spoken(two_pm, "zh", "America/New_York", "US")[1] == "下午2点"
    assert written(two_pm, "en", "America/New_York", "US") == ("Wed, Jul 1", "2:00 PM")


SMS_REPLY_WORDS = {
    "en": ("YES", "NO"),
    "es": ("SÍ", "NO"),
    "pl": ("TAK", "ANULUJ"),
    "tr": ("EVET", "İPTAL"),
    "ko": ("예", "취소"),
    "zh": ("是", "取消"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sms_names_the_reply_words_the_parser_understands(tmp_path: Path, language: str) -> None:
    cfg = clinic_config(tmp_path, clinic={"phone_number": "+48221234567", "name": "Przychodnia Zdrowie"})
    text = messages.sms_text(cfg, "reminder", VISIT, language)
    yes, no = SMS_REPLY_WORDS[language]
    assert yes in text and no in text and "1" in text and "2" in text
    assert parse_reply(yes) == CONFIRM and parse_reply(no) == CANCEL
    assert "Przychodnia Zdrowie" in text and "22 123 45 67" in text
    assert written(VISIT, language, cfg.clinic.timezone, "PL")[0] in text


@pytest.mark.parametrize("kind", sorted(SMS_TEXTS))
def test_every_sms_text_has_six_languages(kind: str) -> None:
    assert set(SMS_TEXTS[kind]) == set(LANGUAGES)


def test_without_a_clinic_number_the_sms_and_machine_message_do_without(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path)
    assert "{" not in messages.sms_text(cfg, "reminder", VISIT, "en")
    assert machine_prompt(cfg) == PromptRef("reminder_machine_nonumber")


def test_reminder_prompts_join_the_catalogue_and_the_warm_list(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, clinic={"phone_number": "+48221234567"})
    catalogue = PromptCatalogue.from_config(cfg)
    when, _ = messages.voice_refs(cfg, VISIT, "pl", "dr Nowak")
    assert catalogue.text(when, "pl") == "Przypominamy o wizycie w Test Clinic: wtorek, 3 marca, godzina 9:30."
    assert catalogue.text(machine_prompt(cfg), "en").endswith("call us back at 2 2 1 2 3 4 5 6 7. Thank you.")
    refs = config_refs(cfg)
    assert PromptRef("reminder_hello") in refs and machine_prompt(cfg) in refs
    assert "reminder_menu" in catalogue.known_keys()


def test_a_clinic_may_reword_a_reminder_prompt_but_not_invent_placeholders(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, prompts={"texts": {"en": {"reminder_when": "See you {date} at {time}, {clinic}."}}})
    when, _ = messages.voice_refs(cfg, VISIT, "en", "")
    assert (
        PromptCatalogue.from_config(cfg).text(when, "en") == "See you Tuesday, March 3 at 9:30 am, Test Clinic."
    )  # English as written in Poland
    with pytest.raises(ConfigError, match=r"prompts\.texts\.en\.reminder_when: unknown placeholder \{diagnosis\}"):
        clinic_config(tmp_path, prompts={"texts": {"en": {"reminder_when": "{diagnosis} on {date}"}}})


def test_the_provider_is_spoken_only_when_the_clinic_allows_it(tmp_path: Path) -> None:
    quiet = clinic_config(tmp_path)
    assert messages.voice_refs(quiet, VISIT, "en", "Dr Nowak")[1] is None
    loud = clinic_config(tmp_path, reminders={"speak_provider": True})
    assert messages.voice_refs(loud, VISIT, "en", "Dr Nowak")[1] == PromptRef.of(
        "reminder_provider", provider="Dr Nowak"
    )
    assert messages.voice_refs(loud, VISIT, "en", "")[1] is None
