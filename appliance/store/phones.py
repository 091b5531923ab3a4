"""Phone numbers: everything a patient owns is stored as E.164.

Numbers arrive in every shape: a CSV with '601 234 567', a SIP From header
with '0048601234567' or '+48601234567', a modem's +CLIP with '601234567'
and type 129. :func:`normalize` is strict (imports, the UI: a wrong number
is an error the user must fix); :func:`normalize_caller` is lenient (caller
ID: anything unparseable is kept out of lookups, never an exception).

Example:
    >>> normalize("601 234 567", "PL")
    '+48601234567'
    >>> normalize_caller("anonymous", "PL") is None
    True
"""

from __future__ import annotations

import re

import phonenumbers

from appliance.errors import ValidationError

_JUNK = re.compile(r"[\s().\-/]")


def normalize(raw: str, region: str) -> str:
    """Return the E.164 form of ``raw`` or raise ValidationError (without echoing it)."""
    text = _JUNK.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text:
        raise ValidationError("phone number is empty")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("not a phone number (check the digits and country code)") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"not a valid phone number for region {region} (check the digits and country code)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_caller(raw: str | None, region: str) -> str | None:
    """Best-effort E.164 of a caller ID; ``None`` for anonymous or garbage."""
    if not raw:
        return None
    text = _JUNK.sub("", raw)
    if text.lower() in ("anonymous", "unknown", "restricted", "private"):
        return None
    if not re.fullmatch(r"\+?\d{3,20}", text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str, region: str) -> str:
    """How staff in ``region`` would write the number."""
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)
