"""The AT wire trace: every line to and from the modem, with patient data masked.

Off by default (``logging.at_trace``). When on, lines go to the
``clinicbox.wire.at`` logger at DEBUG level. Phone numbers keep only their
country code and last digits, SMS PDUs are replaced by their size, USSD
text by its length, and a SIM PIN never appears.

Example:
    >>> mask_line('ATD+48601234567;')
    'ATD+48******567;'
    >>> mask_line('AT+CPIN="1234"')
    'AT+CPIN=<pin>'
"""

from __future__ import annotations

import logging
import re

from appliance.privacy import mask_phone, mask_text

WIRE = logging.getLogger("clinicbox.wire.at")

_PHONE = re.compile(r"\+?\d{7,}")
_PDU = re.compile(r"^(?:> ?)?[0-9A-Fa-f]{16,}\x1a?$")
_SECRET = re.compile(r"^(AT\+(?:CPIN|CPWD|CLCK)=)(.*)$", re.IGNORECASE)
_CUSD = re.compile(r'^(\+CUSD:\s*\d+\s*,\s*)"([^"]*)"(.*)$')


def mask_line(line: str) -> str:
    """A trace-safe rendering of one AT line."""
    text = line.strip()
    if _PDU.match(text):
        return f"<PDU {len(text.lstrip('> ').rstrip(chr(26))) // 2} octets>"
    m = _SECRET.match(text)
    if m:
        return f"{m[1]}<pin>" if m[1].upper().startswith("AT+CPIN") else f"{m[1]}<secret>"
    m = _CUSD.match(text)
    if m:
        return f'{m[1]}"{mask_text(m[2])}"{m[3]}'
    return _PHONE.sub(lambda found: mask_phone(found[0]), text)


class WireTrace:
    """Writes masked lines to ``clinicbox.wire.at`` when enabled."""

    def __init__(self, enabled: bool, label: str = "modem") -> None:
        self.enabled = enabled
        self.label = label
        if enabled:
            WIRE.setLevel(logging.DEBUG)

    def sent(self, line: str) -> None:
        if self.enabled:
            WIRE.debug("%s <- %s", self.label, mask_line(line))

    def received(self, line: str) -> None:
        if self.enabled:
            WIRE.debug("%s -> %s", self.label, mask_line(line))
