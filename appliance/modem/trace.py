"""The AT wire trace: every line to and from the modem, with patient data masked.

Off by default (``logging.at_trace``). When on, lines go to the
``clinicbox.wire.at`` logger at DEBUG level. Traces end up in support
tickets, so nothing a patient could be recognised by may appear:

- phone numbers keep only their country code and last digits;
- quoted text fields are starred, same length, empty ones left empty (the
  caller's name in ``+CLIP``/``+CLCC``/``+CCWA``/``+CNAP``, phone book
  entries in ``+CPBR``/``+CPBF``/``AT+CPBW``, ``+CNUM``, the alpha field of
  text-mode SMS headers, names in hex UCS-2): every quoted field is treated
  as one that can carry a name, except in the few commands whose fields are
  known to be technical (operator, storage, character set, cell, ...);
- SMS bodies, in PDU mode (``<PDU n octets>``) and in text mode
  (``<n chars>``), both the ones the modem reports (the line after ``+CMT``,
  the lines after ``+CMGR``/``+CMGL``) and the ones the box sends (the line
  after ``AT+CMGS``/``AT+CMGW``); USSD text likewise;
- a SIM PIN or facility password never appears.

Example:
    >>> mask_line('ATD+48601234567;')
    'ATD+48******567;'
    >>> mask_line('AT+CPIN="1234"')
    'AT+CPIN=<pin>'
    >>> mask_line('+CLIP: "+48601234567",145,"",0,"Anna Kowalska",0')
    '+CLIP: "+48******567",145,"",0,"*************",0'
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
_PROMPT = re.compile(r"^>\s?(.+)$")
_QUOTED = re.compile(r'("[^"]*(?:"|$))')
_NAME = re.compile(r"^(?:AT)?([+^*$#%][A-Za-z0-9]+)", re.IGNORECASE)
_FINAL = re.compile(r"^(?:OK|ERROR|\+CM[ES] ERROR:.*)$")
# Quoted values that are numbers, times or codes: only their digit runs are masked.
_NUMERIC = re.compile(r"^[+\d*#/,:.\-]*$")

#: Commands and answers whose quoted fields are technical, never personal:
#: they are shown as they are (numbers in them are still masked).
TECHNICAL = frozenset(
    {
        "+COPS", "+CPMS", "+CSCS", "+CNMI", "+CREG", "+CEREG", "+CGREG", "+C5GREG", "+CMTI", "+CDSI",
        "+CPBS", "+CPINR", "+QPINC", "+SPIC", "^CPIN", "+CLCK", "+CGDCONT", "+CTZE", "+CTZU", "+QIND",
        "+QCFG", "+QNWINFO", "+QCSQ", "+QSPN", "+QENG", "+QURCCFG", "+QSIMSTAT", "+CPSI", "+CNSMOD",
    }
)  # fmt: skip

#: Values that are technical whatever line they are in (SMS status, memory names).
_TOKENS = frozenset({"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL", "SM", "ME", "MT", "SR", "BM"})


def mask_line(line: str) -> str:
    """A trace-safe rendering of one AT line, on its own (see :class:`WireMasker`
    for the SMS bodies that only the line before announces)."""
    text = line.strip()
    if _PDU.match(text):
        return _pdu(text)
    m = _SECRET.match(text)
    if m:
        return f"{m[1]}<pin>" if m[1].upper().startswith("AT+CPIN") else f"{m[1]}<secret>"
    m = _PROMPT.match(text)
    if m:
        return f"> {mask_body(m[1])}"
    m = _CUSD.match(text)
    if m:
        return f'{m[1]}"{mask_text(m[2])}"{m[3]}'
    name = _NAME.match(text)
    technical = name is not None and name[1].upper() in TECHNICAL
    parts = _QUOTED.split(text)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = _PHONE.sub(_phone, part)
        else:
            closed = len(part) > 1 and part.endswith('"')
            value = part[1:-1] if closed else part[1:]
            parts[i] = '"' + _field(value, technical) + ('"' if closed else "")
    return "".join(parts)


def mask_body(text: str) -> str:
    """An SMS body, as a PDU or as text: only its size shows."""
    body = text.strip().rstrip("\x1a")
    if _PDU.match(body):
        return _pdu(body)
    return mask_text(body)


def _pdu(text: str) -> str:
    return f"<PDU {len(text.lstrip('> ').rstrip(chr(26))) // 2} octets>"


def _phone(found: re.Match[str]) -> str:
    return mask_phone(found[0])


def _field(value: str, technical: bool) -> str:
    """One quoted value: kept when technical, digit runs masked when numeric, else starred."""
    if not value:
        return value
    if technical or value in _TOKENS:
        return _PHONE.sub(_phone, value)
    if _NUMERIC.match(value) and not (value.isdigit() and len(value) > 15):
        return _PHONE.sub(_phone, value)  # a number or a time; longer digit strings may be UCS-2 hex
    return "*" * len(value)


class WireMasker:
    """Masks one direction of the wire, line by line, remembering what the
    previous line announced (an SMS header is followed by its body).

    One instance per direction: the reader thread and the command thread
    never share one.
    """

    def __init__(self, direction: str) -> None:
        if direction not in ("sent", "received"):
            raise ValueError("direction is 'sent' or 'received'")
        self.direction = direction
        self._body = ""  # "", "next" (one line), "until-final" (+CMGR/+CMGL bodies)

    def mask(self, line: str) -> str:
        text = line.strip()
        if self._body == "next":
            self._body = ""
            return mask_body(text)
        if self._body == "until-final":
            if _FINAL.match(text):
                self._body = ""
            elif not text.startswith("+CMGL:"):
                return mask_body(text)
        masked = mask_line(text)
        self._body = self._announces(text) or self._body
        return masked

    def _announces(self, text: str) -> str:
        """Whether ``text`` is a header whose body follows on the next line(s)."""
        if self.direction == "sent":
            return "next" if re.match(r"^AT\+CMG[SW](?:=|$)", text, re.IGNORECASE) else ""
        if text.startswith(("+CMT:", "+CBM:")):
            return "next"
        if text.startswith("+CDS:"):  # PDU mode: "+CDS: <length>", then the PDU; text mode: one line
            return "next" if re.match(r"^\+CDS:\s*\d+\s*$", text) else ""
        if text.startswith(("+CMGR:", "+CMGL:")):
            return "until-final"
        return ""


class WireTrace:
    """Writes masked lines to ``clinicbox.wire.at`` when enabled."""

    def __init__(self, enabled: bool, label: str = "modem") -> None:
        self.enabled = enabled
        self.label = label
        self._sent = WireMasker("sent")
        self._received = WireMasker("received")
        if enabled:
            WIRE.setLevel(logging.DEBUG)

    def sent(self, line: str) -> None:
        if self.enabled:
            WIRE.debug("%s <- %s", self.label, self._sent.mask(line))

    def received(self, line: str) -> None:
        if self.enabled:
            WIRE.debug("%s -> %s", self.label, self._received.mask(line))
