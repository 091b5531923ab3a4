"""AT response framing (3GPP TS 27.007 / 27.005 and V.250), pure.

A modem interleaves unsolicited result codes (URCs: RING, +CMTI, +CREG,
vendor ``^`` noise...) with the lines answering a command. This module
decides, line by line, whether a line ends the command (a final result
code), belongs to its answer, or is a URC to hand to the event side.
The decision needs to know the command in flight: ``+CREG: 1`` answers
``AT+CREG?`` but is a URC at any other time, and ``NO CARRIER`` ends
``ATD`` but announces a hang-up otherwise.

Example:
    >>> final_result("+CMS ERROR: 500")
    Final(ok=False, kind='CMS', code=500, text='+CMS ERROR: 500')
    >>> is_urc("+CMTI: \\"SM\\",3", expect=("+CSQ",))
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: URC prefixes of TS 27.007/27.005 and of the Quectel, SIMCom and Huawei families.
URC_PREFIXES = (
    "+CLIP:",
    "+CRING:",
    "+CMTI:",
    "+CMT:",
    "+CDS:",
    "+CDSI:",
    "+CBM:",
    "+CREG:",
    "+CGREG:",
    "+CEREG:",
    "+C5GREG:",
    "+CUSD:",
    "+CLCC:",
    "+CCWA:",
    "+CSSI:",
    "+CSSU:",
    "+CIEV:",
    "+CTZV:",
    "+CTZE:",
    "+CTZEU:",
    "+NITZ:",
    "+CPIN:",
    "+CFUN:",
    "+QIND:",
    "+QUSIM:",
    "+QSIMSTAT:",
    "+CPINR:",
    "*PSUTTZ:",
    "DST:",
    "+PSNWID:",
    "+CGEV:",
    "+CMGS:",  # only a URC when it arrives after its command timed out
)

#: Whole-line URCs.
URC_WORDS = frozenset(
    {
        "RING",
        "RDY",
        "SMS DONE",
        "PB DONE",
        "SMS Ready",
        "Call Ready",
        "NO CARRIER",
        "BUSY",
        "NO ANSWER",
        "VOICE CALL: BEGIN",
        "^SYSSTART",
        "POWERED DOWN",
        "NORMAL POWER DOWN",
    }
)

#: URCs whose second line is a PDU (TS 27.005 §3.4.1).
TWO_LINE_URCS = ("+CMT:", "+CDS:", "+CBM:")

_CALL_ENDINGS = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"})
_OTHER_URCS = ("MISSED_CALL:", "VOICE CALL: END", "DST:")
_PREFIXED = re.compile(r"^[+*][A-Za-z][A-Za-z0-9_]*\s*:")


@dataclass(frozen=True)
class Final:
    """A final result code: the command is over."""

    ok: bool
    kind: str  # OK, ERROR, CME, CMS, NO CARRIER, BUSY, NO ANSWER, NO DIALTONE, CONNECT
    code: int | None
    text: str


_ERR = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$")


def final_result(line: str, *, dialing: bool = False) -> Final | None:
    """The final result code in ``line``, or None if the command goes on.

    Args:
        dialing: a call command (ATD, ATA) is in flight, so NO CARRIER,
            BUSY and NO ANSWER end it instead of being URCs.
    """
    text = line.strip()
    if text == "OK":
        return Final(True, "OK", None, text)
    if text in ("ERROR", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS"):
        return Final(False, "ERROR", None, text)
    m = _ERR.match(text)
    if m:
        detail = m[2].strip()
        code = int(detail) if detail.isdigit() else _CME_BY_TEXT.get(detail.lower())
        return Final(False, m[1], code, text)
    if dialing and text in _CALL_ENDINGS:
        return Final(False, text, None, text)
    if dialing and text.startswith("CONNECT"):
        return Final(True, "CONNECT", None, text)
    return None


def is_urc(line: str, expect: tuple[str, ...] = (), *, busy: bool = True, dialing: bool = False) -> bool:
    """Is ``line`` an unsolicited result code?

    Args:
        expect: prefixes the command in flight answers with (``"+CREG"``);
            such lines belong to the answer even if they can be URCs.
        busy: a command is in flight; when False every line is a URC.
        dialing: an ATD/ATA is in flight (call endings are its result).
    """
    text = line.strip()
    if not text:
        return False
    if not busy:
        return True
    if any(text.startswith(p) for p in expect):
        return False
    if text in URC_WORDS:
        return not (dialing and text in _CALL_ENDINGS)
    if final_result(text) is not None:
        return False
    if text.startswith("^"):
        return True  # Huawei ^RSSI, ^MODE, ^BOOT, ^CEND...
    if text.startswith(_OTHER_URCS) or text.startswith(URC_PREFIXES):
        return True
    # Any other "+NAME:" / "*NAME:" line that the command in flight does not
    # answer with is a URC this table does not know yet (firmware adds them).
    return bool(_PREFIXED.match(text))


def expected_prefixes(command: str) -> tuple[str, ...]:
    """Response prefixes of ``command``: ``AT+CSQ`` → ``("+CSQ",)``.

    ``AT+CGSN`` and friends answer with a bare line; that line is never a
    URC prefix, so an empty tuple is right for them.
    """
    m = re.match(r"^AT([+^*$#%][A-Z0-9]+)", command.strip().upper())
    if not m:
        return ()
    name = m[1]
    if name in ("+CMGL", "+CMGR"):
        return (name + ":",)
    return (name + ":", name + " :")


# -- error meanings -----------------------------------------------------------
CME_ERRORS = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    17: "SIM PIN2 required",
    18: "SIM PUK2 required",
    20: "memory full",
    21: "invalid index",
    22: "not found",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed - emergency calls only",
    100: "unknown error",
}

_CME_BY_TEXT = {text.lower(): code for code, text in CME_ERRORS.items()}
_CME_BY_TEXT.update({"incorrect password": 16, "sim not inserted": 10, "sim pin required": 11})

CMS_ERRORS = {
    1: "unassigned (unallocated) number",
    8: "operator determined barring",
    10: "call barred",
    21: "short message transfer rejected",
    27: "destination out of service",
    28: "unidentified subscriber",
    29: "facility rejected",
    30: "unknown subscriber",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    47: "resources unavailable",
    50: "requested facility not subscribed",
    69: "requested facility not implemented",
    96: "invalid short message transfer reference value",
    111: "protocol error",
    300: "ME failure",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    316: "SIM PUK required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    500: "unknown error",
}

#: +CMS ERROR codes after which re-sending the same SMS cannot succeed.
PERMANENT_CMS = frozenset({1, 8, 10, 21, 28, 29, 30, 50, 69, 96, 304, 305})


def describe(final: Final) -> str:
    """A readable meaning of an error result, for logs and error messages."""
    table = CME_ERRORS if final.kind == "CME" else CMS_ERRORS if final.kind == "CMS" else {}
    meaning = table.get(final.code or -1)
    return f"{final.text} ({meaning})" if meaning else final.text
