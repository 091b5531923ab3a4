"""The visit's day and time, as a patient would say and read them.

Babel supplies the month and weekday names of each language; the
patterns here put them in the order people speak ("martes 3 de marzo",
"3월 3일 화요일", "3月3日星期二") and say times the way a listener expects:
"9:30 AM" in English, "14:00" in Spanish, Polish and Turkish, "오후 2시
30분" in Korean, "下午2点30分" in Mandarin. Spoken texts go to TTS (or a
clinic's recordings); written ones go into SMS. Times are shown in the
clinic's time zone, never the box's.

Example:
    >>> from datetime import datetime, UTC
    >>> spoken(datetime(2026, 3, 3, 13, 0, tzinfo=UTC), "pl", "Europe/Warsaw", "PL")
    ('wtorek, 3 marca', '14:00')
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

#: (date pattern, time pattern, time pattern on the hour) to be spoken.
SPOKEN = {
    "en": ("EEEE, MMMM d", "h:mm a", "h a"),
    "es": ("EEEE d 'de' MMMM", "H:mm", "H:mm"),
    "pl": ("EEEE, d MMMM", "H:mm", "H:mm"),
    "tr": ("d MMMM EEEE", "HH:mm", "HH:mm"),
    "ko": ("MMMM d일 EEEE", "aaaa h시 m분", "aaaa h시"),
    "zh": ("MMMd日EEEE", "aaaah点m分", "aaaah点"),
}
#: (date pattern, time pattern) to be read in an SMS.
WRITTEN = {
    "en": ("EEE, MMM d", "h:mm a"),
    "es": ("EEE d 'de' MMMM", "H:mm"),
    "pl": ("EEE, d MMMM", "H:mm"),
    "tr": ("d MMMM EEE", "HH:mm"),
    "ko": ("M월 d일 (E)", "aaaa h:mm"),
    "zh": ("M月d日EEEE", "HH:mm"),
}


@lru_cache(maxsize=64)
def locale_for(language: str, country: str) -> Locale:
    """The Babel locale for a language as used in the clinic's country."""
    base = "zh_Hans" if language == "zh" else language
    for name in (f"{base}_{country}", base):
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _format(moment: datetime, pattern: str, locale: Locale) -> str:
    return str(format_datetime(moment, pattern, locale=locale)).strip()


def spoken(moment: datetime, language: str, timezone: str, country: str) -> tuple[str, str]:
    """(day, time) of ``moment`` as spoken in ``language``, in the clinic's time zone."""
    local = moment.astimezone(_zone(timezone))
    date_p, time_p, hour_p = SPOKEN.get(language, SPOKEN["en"])
    locale = locale_for(language if language in SPOKEN else "en", country)
    return _format(local, date_p, locale), _format(local, hour_p if local.minute == 0 else time_p, locale)


def written(moment: datetime, language: str, timezone: str, country: str) -> tuple[str, str]:
    """(day, time) of ``moment`` as written in an SMS in ``language``."""
    local = moment.astimezone(_zone(timezone))
    date_p, time_p = WRITTEN.get(language, WRITTEN["en"])
    locale = locale_for(language if language in WRITTEN else "en", country)
    return _format(local, date_p, locale), _format(local, time_p, locale)


def digits_spoken(number: str) -> str:
    """A phone number read digit by digit ("+1 212..." → "1 2 1 2 ...")."""
    return " ".join(ch for ch in number if ch.isdigit())
