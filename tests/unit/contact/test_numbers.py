"""Only mobiles get texts: the line type of real number shapes."""

from __future__ import annotations

import pytest

from appliance.contact import line_type

NUMBERS = [
    ("+48601234567", "PL", "mobile"),
    ("601234567", "PL", "mobile"),
    ("+48221234567", "PL", "landline"),  # Warsaw fixed line
    ("+442079460000", "GB", "landline"),  # London fixed line
    ("+447700900123", "GB", "landline"),  # Ofcom drama range: not a valid number, never texted
    ("+905321234567", "TR", "mobile"),
    ("+821012345678", "KR", "mobile"),
    ("+8613812345678", "CN", "mobile"),
    ("+12125550001", "US", "mobile"),  # US: mobile or fixed, texted by default
    ("", "PL", "withheld"),
    ("anonymous", "PL", "withheld"),
    ("Restricted", "US", "withheld"),
    ("112", "PL", "emergency"),
    ("911", "US", "emergency"),
    ("80888", "PL", "short-code"),
]


@pytest.mark.parametrize(("number", "region", "kind"), NUMBERS)
def test_line_type(number: str, region: str, kind: str) -> None:
    assert line_type(number, region) == kind


def test_an_ambiguous_us_number_is_a_landline_when_the_clinic_says_so() -> None:
    assert line_type("+12125550001", "US", ambiguous_is_mobile=False) == "landline"
