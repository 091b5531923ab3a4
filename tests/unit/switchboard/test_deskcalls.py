"""A desk phone's dial plan: what a keyed-in string is, and refusals that never echo the digits."""

from __future__ import annotations

import pytest

from appliance.errors import ValidationError
from appliance.switchboard.deskcalls import classify

STATIONS = ["desk1", "desk2", "201"]


@pytest.mark.parametrize(
    ("dialled", "region", "expected"),
    [
        ("2125550123", "US", ("number", "+12125550123")),  # national, as the front desk keys it in
        ("(212) 555-0123", "US", ("number", "+12125550123")),
        ("+48601234567", "US", ("number", "+48601234567")),  # +E.164 abroad
        ("0048601234567", "US", ("number", "+48601234567")),
        ("601234567", "PL", ("number", "+48601234567")),
        ("911", "US", ("emergency", "911")),
        ("112", "DE", ("emergency", "112")),
        ("112", "PL", ("emergency", "112")),
        ("desk2", "US", ("station", "desk2")),
        ("201", "US", ("station", "201")),  # an extension wins over a short number
    ],
)
def test_what_a_desk_phone_dialled(dialled: str, region: str, expected: tuple[str, str]) -> None:
    assert classify(dialled, region, STATIONS) == expected


@pytest.mark.parametrize("dialled", ["", "12", "555", "desk9", "2125550123999999", "*21#"])
def test_anything_else_is_refused_without_repeating_the_digits(dialled: str) -> None:
    with pytest.raises(ValidationError) as info:
        classify(dialled, "US", STATIONS)
    if dialled:
        assert dialled not in str(info.value)
