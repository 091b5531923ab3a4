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
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import region_code_for_country_code

from appliance.errors import ValidationError

_JUNK = re.compile(r"[\s().\-/]")


def normalize(raw: str, region: str) -> str:
    """Return the E.164 form of ``raw`` or raise ValidationError (without echoing it)."""
    return _normalize(raw or "", region)


@lru_cache(maxsize=4096)
def _normalize(raw: str, region: str) -> str:
    # Cached: a feed message's numbers are checked when it is mapped and again when the
    # patient is validated, and a sender re-sends the same patients; libphonenumber's
    # parse is the dearest step of either (a refusal raises and is not cached).
    text = _JUNK.sub("", raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text:
        raise ValidationError("phone number is empty")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("not a phone number (check the digits and country code)") from exc
    if not _valid(parsed):
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


@lru_cache(maxsize=512)
def _general_pattern(country_code: int) -> tuple[re.Pattern[str], frozenset[int]] | None:
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    if metadata is None or metadata.general_desc is None or not metadata.general_desc.national_number_pattern:
        return None
    desc = metadata.general_desc
    return re.compile(str(desc.national_number_pattern)), frozenset(desc.possible_length or ())


def _valid(parsed: phonenumbers.PhoneNumber) -> bool:
    """``is_valid_number``, with a fast path for the common case.

    libphonenumber's general description of a country's numbers is the
    union of its number types, so a match there is a valid number; only
    the rest (e.g. +1 numbers outside the US) take the full, slower check
    that tries every type of every region sharing the country code.
    """
    general = _general_pattern(parsed.country_code)
    if general is not None:
        nsn = phonenumbers.national_significant_number(parsed)
        pattern, lengths = general
        if (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn):
            return True
    return bool(phonenumbers.is_valid_number(parsed))
