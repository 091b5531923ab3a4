"""Masking of patient data for logs, events and error messages.

Logs on an appliance are read by technicians and end up in support
tickets: they must never carry a patient's name, phone number or date of
birth. Every log line that mentions a number uses :func:`mask_phone`.

Example:
    >>> mask_phone("+48601234567")
    '+48******567'
    >>> mask_name("Zofia Wiśniewska")
    'Z*** W***'
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d{6,}")


def mask_phone(number: str | None) -> str:
    """Keep the country code and the last three digits, star the rest."""
    if not number:
        return "<none>"
    digits = number.strip()
    if len(digits) <= 5:
        return "*" * len(digits)
    head = 3 if digits.startswith("+") else 1
    return digits[:head] + "*" * (len(digits) - head - 3) + digits[-3:]


def mask_name(name: str | None) -> str:
    """Keep each word's first letter."""
    if not name:
        return "<none>"
    return " ".join(word[:1] + "***" for word in name.split())


def mask_text(text: str | None) -> str:
    """Replace message text (SMS bodies, notes) by its length."""
    if text is None:
        return "<none>"
    return f"<{len(text)} chars>"


def mask_digits(text: str) -> str:
    """Star every run of six or more digits (phone numbers in PJSIP's own log lines)."""
    return _DIGITS.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 5) + m.group(0)[-3:], text)
