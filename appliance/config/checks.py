"""Small value checks shared by config sections (return a message or None)."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import date
from typing import Any

LANGUAGES = ("en", "es", "pl", "tr", "ko", "zh")
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "pl": "Polski",
    "tr": "Türkçe",
    "ko": "한국어",
    "zh": "中文",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def timezone(value: Any) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}; use an IANA name such as 'Europe/Warsaw'"
    return None


def country(value: Any) -> str | None:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        return f"unknown country code {value!r}; use ISO 3166 alpha-2 such as 'PL', 'US', 'TR'"
    return None


def spans(value: Any) -> str | None:
    """Opening hours: a list of 'HH:MM-HH:MM' with start before end."""
    for span in value:
        m = _SPAN.match(span)
        if not m:
            return f"{span!r} is not a time span; write it like '08:00-16:30'"
        start = int(m[1]) * 60 + int(m[2])
        end = int(m[3]) * 60 + int(m[4])
        if end <= start or end > 24 * 60:
            return f"{span!r} ends before it starts"
    return None


def hhmm(value: Any) -> str | None:
    if not _HHMM.match(value):
        return f"{value!r} is not a time of day; write it like '18:30'"
    return None


def holidays(value: Any) -> str | None:
    """Dates 'YYYY-MM-DD' (one day) or 'MM-DD' (every year)."""
    for item in value:
        try:
            if len(item) == 5:
                date.fromisoformat(f"2024-{item}")  # a leap year accepts 02-29
            else:
                date.fromisoformat(item)
        except ValueError:
            return f"{item!r} is not a date; write 'YYYY-MM-DD' or 'MM-DD' for every year"
    return None


def networks(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (e.g. '192.168.1.0/24')"
    return None


def sip_uri(value: Any) -> str | None:
    if value and not re.match(r"^sips?:[^\s]+$", value):
        return f"{value!r} is not a SIP URI; write it like 'sip:provider.example.com'"
    return None


def log_level(value: Any) -> str | None:
    if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return f"{value!r} is not a log level; choose DEBUG, INFO, WARNING or ERROR"
    return None


def e164_or_empty(value: Any) -> str | None:
    if value and not re.match(r"^\+[1-9]\d{6,14}$", value):
        return f"{value!r} is not an international number; write it like '+48221234567'"
    return None


def caller_id(value: Any) -> str | None:
    """The number presented on outgoing calls: a real, complete E.164 number (or empty)."""
    import phonenumbers

    if not value:
        return None
    problem = f"{value!r} is not a valid international (E.164) number; write the clinic's number like '+48221234567'"
    if not re.match(r"^\+[1-9]\d{6,14}$", value):
        return problem
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        valid = False
    return None if valid else problem


def dial_string(value: Any) -> str | None:
    if value and not re.match(r"^\+?[0-9*#]{2,20}$", value):
        return f"{value!r} is not a phone number (digits, optional leading +)"
    return None


def identifier(value: Any) -> str | None:
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,31}$", value):
        return f"{value!r} must be lowercase letters, digits, '-' or '_' (max 32)"
    return None
