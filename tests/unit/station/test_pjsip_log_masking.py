"""Phone numbers in PJSIP's own log lines (the station's endpoint log) are masked."""

from __future__ import annotations

from appliance.privacy import mask_digits


def test_mask_digits_hides_numbers_in_pjsip_lines() -> None:
    line = "Call 0: INVITE sip:+48601234567@1.2.3.4 from 12125550123, port 5060"
    masked = mask_digits(line)
    assert "601234" not in masked and "2125550" not in masked
    assert masked.endswith("port 5060")  # short numbers are not phone numbers
