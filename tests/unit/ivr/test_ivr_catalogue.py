"""Prompt texts: every prompt in every language, placeholders filled right."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.config.checks import LANGUAGES
from appliance.errors import PromptError
from appliance.ivr.catalogue import (
    MINUTES_MAX,
    POSITION_MAX,
    QUEUE_KEYS,
    PromptCatalogue,
    placeholders,
    position_prompt,
    wait_prompt,
)
from appliance.ivr.prompts import PromptRef
from appliance.ivr.texts import TEXTS

REQUIRED = {
    "greeting",
    "emergency",
    "main_menu",
    "closed",
    "leave_message",
    "invalid",
    "goodbye",
    "language_option",
    *QUEUE_KEYS,
}


def test_every_required_prompt_exists_in_all_six_languages() -> None:
    assert set(TEXTS) >= REQUIRED
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_placeholders_agree_across_languages(key: str) -> None:
    used = {lang: placeholders(text) for lang, text in TEXTS[key].items()}
    assert len({frozenset(v) for v in used.values()}) == 1, used


@pytest.mark.parametrize(
    ("ref", "lang", "expected"),
    [
        (PromptRef("greeting"), "en", "Thank you for calling Clínica Sol."),
        (PromptRef("greeting"), "ko", "Clínica Sol에 전화해 주셔서 감사합니다."),
        (PromptRef("emergency"), "en", "If this is a medical emergency, hang up and dial 1 1 2."),
        (PromptRef("emergency"), "zh", "如遇紧急医疗情况，请挂断电话并拨打1 1 2。"),
        (PromptRef.of("queue_position", position=3), "pl", "Miejsce w kolejce: 3."),
        (PromptRef.of("queue_position", position=3), "zh", "您目前排在第3位。"),
        (PromptRef.of("queue_wait", minutes=5), "tr", "Tahmini bekleme süresi 5 dakikadır."),
        (
            PromptRef.of("callback_offer", key="1"),
            "ko",
            "기다리지 않고 다시 전화를 받으시려면 1번을 눌러 주십시오. 대기 순서는 그대로 유지됩니다.",
        ),
        (
            PromptRef.of("callback_offer", key="*"),
            "en",
            "To be called back instead of waiting, press star. You keep your place in line.",
        ),
        (
            PromptRef.of("callback_offer", key="#"),
            "ko",
            "기다리지 않고 다시 전화를 받으시려면 우물 정자를 눌러 주십시오. 대기 순서는 그대로 유지됩니다.",
        ),
        # The reference's own language wins over the call's (language menus).
        (PromptRef.of("language_option", language="es", key="2"), "pl", "Para español, oprima 2."),
    ],
)
def test_texts_are_filled(ref: PromptRef, lang: str, expected: str) -> None:
    assert PromptCatalogue("Clínica Sol", "112").text(ref, lang) == expected


def test_clinic_override_wins_and_may_add_new_keys() -> None:
    cat = PromptCatalogue(
        "Przychodnia", "112", {"pl": {"greeting": "Witamy w {clinic}!", "flu": "Szczepienia od października."}}
    )
    assert cat.text(PromptRef("greeting"), "pl") == "Witamy w Przychodnia!"
    assert cat.text(PromptRef("greeting"), "en") == "Thank you for calling Przychodnia."
    assert cat.text(PromptRef("flu"), "pl") == "Szczepienia od października."
    assert "flu" in cat.known_keys()
    with pytest.raises(PromptError, match=r"'flu' has no 'en' text; add it under \[prompts.texts.en\]"):
        cat.text(PromptRef("flu"), "en")


def test_missing_parameter_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match="needs the parameter 'position'"):
        PromptCatalogue("X", "911").text(PromptRef("queue_position"), "en")


def test_bad_override_is_refused() -> None:
    with pytest.raises(PromptError, match="unknown placeholder"):
        PromptCatalogue("X", "911", {"en": {"greeting": "Hi {name}"}})


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, PromptRef.of("queue_position", position=1)),
        (POSITION_MAX, PromptRef.of("queue_position", position=POSITION_MAX)),
        (POSITION_MAX + 1, PromptRef("queue_position_many")),
    ],
)
def test_position_prompt_caps(position: int, expected: PromptRef) -> None:
    assert position_prompt(position) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, PromptRef.of("queue_wait", minutes=1)),
        (7, PromptRef.of("queue_wait", minutes=7)),
        (MINUTES_MAX + 1, PromptRef("queue_wait_long")),
    ],
)
def test_wait_prompt_caps(minutes: int, expected: PromptRef) -> None:
    assert wait_prompt(minutes) == expected


def test_default_config_emergency_number_by_country() -> None:
    assert PromptCatalogue.from_config(load_config()).text(PromptRef("emergency"), "en").endswith("dial 9 1 1.")
    kr = load_config(overrides={"clinic": {"country": "KR", "languages": ["ko"], "default_language": "ko"}})
    assert "1 1 9번으로" in PromptCatalogue.from_config(kr).text(PromptRef("emergency"), "ko")
