"""What kind of line a number is (pure, phonenumbers): only mobiles get texts.

``line_type`` answers ``mobile``, ``landline``, ``withheld``, ``short-code``
or ``emergency``. Countries whose plan cannot tell a mobile from a landline
(the US and Canada: phonenumbers says FIXED_LINE_OR_MOBILE) count as mobile
when ``ambiguous_is_mobile`` is on (``contact.text_ambiguous_numbers``), else
as landlines. Pagers, premium, shared-cost, VoIP and toll-free numbers count
as landlines: they cannot receive an SMS reliably or should not.

Example:
    >>> line_type("+48601234567", "PL"), line_type("+48221234567", "PL"), line_type("", "PL")
    ('mobile', 'landline', 'withheld')
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

_WITHHELD = frozenset({"", "anonymous", "unknown", "private", "restricted", "withheld", "unavailable"})


def line_type(number: str, region: str, *, ambiguous_is_mobile: bool = True) -> str:
    raw = (number or "").strip()
    if raw.lower() in _WITHHELD or not re.search(r"\d", raw):
        return "withheld"
    digits = re.sub(r"[^\d+]", "", raw)
    try:
        if shortnumberinfo.is_emergency_number(digits, region):
            return "emergency"
    except Exception:  # an unknown region: judged as a number below
        pass
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return "withheld"
    if not phonenumbers.is_valid_number(parsed):
        if len(str(parsed.national_number)) <= 6:
            return "short-code"
        return "landline"
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.MOBILE:
        return "mobile"
    if kind == PhoneNumberType.FIXED_LINE_OR_MOBILE and ambiguous_is_mobile:
        return "mobile"
    return "landline"
