"""The no-show follow-up's words: every shipped text fits the modem's SMS, names the clinic and the
missed visit's time, and names the reason for the visit only when the clinic allows it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.ivr import catalogue
from appliance.modem.wire.pdu import encode_sms
from appliance.reminders import followup_wording, messages
from tests.conftest import clinic_config

VISIT = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)  # 9:30 in Warsaw
LANGUAGES = ("en", "es", "pl", "tr", "ko", "zh")


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_shipped_text_names_the_clinic_and_time_and_fits_two_sms(tmp_path: Path, language: str) -> None:
    cfg = clinic_config(tmp_path)
    text = followup_wording.sms_text(cfg, language, VISIT, "knee pain")
    assert text.startswith("Test Clinic")
    assert "30" in text  # the visit's time, as the language writes it
    assert "knee" not in text  # contact.include_reason is off by default
    assert len(encode_sms("+48601000000", text).parts) <= 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_with_the_switch_on_the_reason_is_added_in_the_patients_language(tmp_path: Path, language: str) -> None:
    cfg = clinic_config(tmp_path, contact={"include_reason": True})
    text = followup_wording.sms_text(cfg, language, VISIT, "knee  pain\n")
    assert text.endswith(messages.reason_part(cfg, language, "knee pain"))
    assert "knee pain" in text
    reminder = messages.sms_text(cfg, "reminder", VISIT, language, "knee pain")
    assert "knee pain" in reminder
    assert "knee" not in messages.sms_text(cfg, "reminder", VISIT, language)  # no reason, nothing added


def test_the_clinics_own_text_wins_and_a_bad_placeholder_is_refused_naming_the_key(tmp_path: Path) -> None:
    cfg = clinic_config(tmp_path, followup={"texts": {"en": "{clinic}: missed you {date} {time}. Call us."}})
    assert followup_wording.sms_text(cfg, "en", VISIT, "").startswith("Test Clinic: missed you")
    assert followup_wording.sms_text(cfg, "pl", VISIT, "").startswith("Test Clinic: nie było")
    with pytest.raises(ConfigError, match=r"followup\.texts\.en.*\{clinic\}, \{date\} and \{time\}"):
        clinic_config(tmp_path, followup={"texts": {"en": "{clinic} {reason}"}})
    with pytest.raises(ConfigError, match=r"followup\.texts\.fr"):
        clinic_config(tmp_path, followup={"texts": {"fr": "{clinic}"}})


def test_the_call_prompts_are_in_the_catalogue_in_every_language() -> None:
    for key in followup_wording.TEXTS:
        for language in LANGUAGES:
            assert catalogue.all_texts(key)[language]
