"""STOP, START and HELP in six languages: whole messages only, and the confirmations."""

from __future__ import annotations

import pytest

from appliance.contact import answer, keyword
from appliance.contact.keywords import ANSWERS

KEYWORDS = [
    ("STOP", "stop"),
    (" Stop! ", "stop"),
    ("UNSUBSCRIBE", "stop"),
    ("Stop SMS", "stop"),
    ("baja", "stop"),
    ("WYPISZ", "stop"),
    ("Nie wysyłaj", "stop"),
    ("DURDUR", "stop"),
    ("abonelikten çık", "stop"),
    ("수신거부", "stop"),
    ("중지", "stop"),
    ("退订", "stop"),
    ("TD", "stop"),
    ("START", "start"),
    ("unstop", "start"),
    ("Wznów", "start"),
    ("başlat", "start"),
    ("시작", "start"),
    ("开始", "start"),
    ("HELP", "help"),
    ("ayuda", "help"),
    ("Pomoc", "help"),
    ("YARDIM", "help"),
    ("도움말", "help"),
    ("帮助", "help"),
    ("ＳＴＯＰ", "stop"),  # full-width, as some phones type it
    # Not keywords: a sentence with the word in it is for a person.
    ("don't stop the reminders", None),
    ("stop calling me please I will come", None),
    ("Yes", None),
    ("cancel", None),  # cancels a visit, not the messages
    ("", None),
]


@pytest.mark.parametrize(("text", "meaning"), KEYWORDS)
def test_keyword(text: str, meaning: str | None) -> None:
    assert keyword(text) == meaning


@pytest.mark.parametrize("language", ["en", "es", "pl", "tr", "ko", "zh"])
def test_every_confirmation_names_the_clinic_and_the_way_back(language: str) -> None:
    stop = answer("stop", language, "Klinika Sol", "+48 22 123 45 67")
    assert "Klinika Sol" in stop and "START" in stop
    start = answer("start", language, "Klinika Sol")
    assert "Klinika Sol" in start and "STOP" in start
    help_ = answer("help", language, "Klinika Sol", "22 123 45 67")
    assert "Klinika Sol" in help_ and "STOP" in help_ and "22 123 45 67" in help_


def test_an_unknown_language_answers_in_english() -> None:
    assert answer("stop", "de", "Clinic") == ANSWERS["stop"]["en"].format(clinic="Clinic", phone="")
