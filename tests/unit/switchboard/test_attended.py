"""The Call-ID an attended transfer's Refer-To names (``?Replaces=...``)."""

from __future__ import annotations

import pytest

from appliance.switchboard.attended import replaces_call_id


@pytest.mark.parametrize(
    ("refer_to", "call_id"),
    [
        ("<sip:desk2@127.0.0.1:5060?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>", "abc@host"),
        ("sip:desk2@box?Require=replaces&Replaces=x-1%3Bto-tag%3Da%3Bfrom-tag%3Db", "x-1"),
        ("<sip:desk2@box?replaces=Y;to-tag=a;from-tag=b>", "Y"),  # unescaped, lower-case name
        ("<sip:desk2@127.0.0.1:5060>", ""),  # a blind transfer
        ("<sip:desk2@box?Replaces=>", ""),  # empty: as blind, and the desk gets 404/486 from there
        ("not a uri at all", ""),
    ],
)
def test_the_replaced_call_id_is_read_from_the_refer_to(refer_to: str, call_id: str) -> None:
    assert replaces_call_id(refer_to) == call_id
