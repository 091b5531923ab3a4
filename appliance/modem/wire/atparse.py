"""Parsers for the information lines of AT answers and URCs (pure).

Each function takes the line(s) exactly as the modem sent them and returns
a small value object, or raises :class:`AtParseError` naming what it could
not read. Tables of real Quectel, SIMCom and Huawei lines live in
``tests/unit/modem/test_atparse.py``.

Example:
    >>> csq("+CSQ: 21,99").dbm
    -71
    >>> clip('+CLIP: "+48601234567",145,"",0,"",0').number
    '+48601234567'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from appliance.errors import ModemError

Value = str | int | None


class AtParseError(ModemError):
    """A modem line did not have the expected shape."""


def params(line: str) -> list[Value]:
    """Split the parameters after ``+XXX:``; quoted → str, digits → int, empty → None."""
    _, _, rest = line.partition(":") if re.match(r"^[+^*$#%]?[A-Za-z0-9_ ]+:", line) else ("", "", line)
    out: list[Value] = []
    i, n = 0, len(rest)
    while True:
        while i < n and rest[i] == " ":
            i += 1
        if i < n and rest[i] == '"':
            end = rest.find('"', i + 1)
            if end < 0:
                raise AtParseError(f"unterminated quote in {line!r}")
            out.append(rest[i + 1 : end])
            i = rest.find(",", end)
            i = n if i < 0 else i
        else:
            end = rest.find(",", i)
            end = n if end < 0 else end
            token = rest[i:end].strip()
            out.append(int(token) if re.fullmatch(r"-?\d+", token) else (token or None))
            i = end
        if i >= n:
            return out
        i += 1  # skip the comma


def _int(values: list[Value], index: int, line: str, name: str) -> int:
    try:
        value = values[index]
    except IndexError as exc:
        raise AtParseError(f"{name} missing in {line!r}") from exc
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise AtParseError(f"{name} is not a number in {line!r}")


def _str(values: list[Value], index: int) -> str:
    value = values[index] if index < len(values) else None
    return "" if value is None else str(value)


# -- signal, operator, registration --------------------------------------------------
@dataclass(frozen=True)
class Signal:
    rssi: int  # 0-31, 99 = unknown
    ber: int

    @property
    def known(self) -> bool:
        return self.rssi != 99 and 0 <= self.rssi <= 31

    @property
    def dbm(self) -> int | None:
        return -113 + 2 * self.rssi if self.known else None

    @property
    def bars(self) -> int:
        """0-5, like a phone's display."""
        if not self.known:
            return 0
        return min(5, (self.rssi + 1) // 6) if self.rssi > 1 else 0


def csq(line: str) -> Signal:
    values = params(line)
    return Signal(_int(values, 0, line, "rssi"), _int(values, 1, line, "ber") if len(values) > 1 else 99)


@dataclass(frozen=True)
class Operator:
    mode: int
    name: str
    act: int | None  # access technology: 0 GSM, 2 UTRAN, 7 E-UTRAN (LTE)


def cops(line: str) -> Operator:
    values = params(line)
    mode = _int(values, 0, line, "mode")
    name = _str(values, 2)
    act = values[3] if len(values) > 3 and isinstance(values[3], int) else None
    return Operator(mode, name, act)


#: +CREG/+CEREG <stat> values that allow SMS (1 home, 5 roaming, 6/7 SMS only, 9/10 CSFB not preferred).
_REGISTERED = frozenset({1, 5, 6, 7, 9, 10})
_VOICE = frozenset({1, 5, 9, 10})
REG_NAMES = {
    0: "not registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
    6: "home, SMS only",
    7: "roaming, SMS only",
    8: "emergency only",
    9: "home, CSFB not preferred",
    10: "roaming, CSFB not preferred",
}


@dataclass(frozen=True)
class Registration:
    stat: int
    lac: str = ""
    cell: str = ""
    act: int | None = None

    @property
    def registered(self) -> bool:
        return self.stat in _REGISTERED

    @property
    def voice(self) -> bool:
        return self.stat in _VOICE

    @property
    def name(self) -> str:
        return REG_NAMES.get(self.stat, f"state {self.stat}")


def registration(line: str, *, urc: bool) -> Registration:
    """``+CREG``/``+CGREG``/``+CEREG``: the answer to ``?`` starts with <n>, a URC does not."""
    values = params(line)
    offset = 0 if urc else 1
    if not urc and len(values) == 1:
        offset = 0  # some firmware answers "+CREG: 1" without <n>
    stat = _int(values, offset, line, "stat")
    act = values[offset + 3] if len(values) > offset + 3 else None
    return Registration(stat, _str(values, offset + 1), _str(values, offset + 2), act if isinstance(act, int) else None)


# -- calls ---------------------------------------------------------------------
CALL_STATES = {0: "active", 1: "held", 2: "dialing", 3: "alerting", 4: "incoming", 5: "waiting", 6: "disconnected"}


@dataclass(frozen=True)
class CallInfo:
    index: int
    outgoing: bool
    state: str
    voice: bool
    number: str


def clcc(lines: list[str]) -> list[CallInfo]:
    """The ``+CLCC:`` lines of an ``AT+CLCC`` answer (none = no call)."""
    calls = []
    for line in lines:
        if not line.startswith("+CLCC:"):
            continue
        v = params(line)
        stat = _int(v, 2, line, "stat")
        calls.append(
            CallInfo(
                index=_int(v, 0, line, "index"),
                outgoing=_int(v, 1, line, "dir") == 0,
                state=CALL_STATES.get(stat, f"state {stat}"),
                voice=_int(v, 3, line, "mode") == 0,
                number=_number(_str(v, 5), v[6] if len(v) > 6 else None),
            )
        )
    return calls


def _number(raw: str, ton: Value) -> str:
    if raw and ton == 145 and not raw.startswith("+"):
        return "+" + raw
    return raw


@dataclass(frozen=True)
class CallerId:
    number: str  # "" when withheld or unavailable
    withheld: bool


def _caller(line: str, validity_at: int) -> CallerId:
    """Number, type of number, and the CLI validity field at ``validity_at`` (1, 2 = withheld)."""
    v = params(line)
    raw = _str(v, 0)
    validity = v[validity_at] if len(v) > validity_at and isinstance(v[validity_at], int) else 0
    withheld = validity in (1, 2) or not raw
    return CallerId("" if withheld else _number(raw, v[1] if len(v) > 1 else None), withheld)


def clip(line: str) -> CallerId:
    """``+CLIP: "+48601234567",145,"",0,"",0``: the ringing caller."""
    return _caller(line, 5)


def ccwa(line: str) -> CallerId:
    """``+CCWA: "+48601234567",145,1,,0``: a second call waiting (class 1 = voice)."""
    return _caller(line, 4)


# -- SMS ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredRef:
    storage: str
    index: int


def cmti(line: str) -> StoredRef:
    """``+CMTI: "SM",3`` (also ``+CDSI``): a message stored at that index."""
    v = params(line)
    return StoredRef(_str(v, 0), _int(v, 1, line, "index"))


def pdu_header_length(line: str) -> int:
    """The TPDU length in ``+CMT: ,<len>``, ``+CDS: <len>``, ``+CMGR: <stat>,,<len>``."""
    v = params(line)
    return _int(v, len(v) - 1, line, "length")


def cmgs(line: str) -> int:
    """The message reference the network gave a sent SMS (0-255)."""
    return _int(params(line), 0, line, "message reference")


@dataclass(frozen=True)
class StoredPdu:
    index: int
    stat: int  # 0 unread, 1 read, 2 stored unsent, 3 stored sent
    length: int
    pdu: str


def cmgl(lines: list[str]) -> list[StoredPdu]:
    """The ``AT+CMGL=4`` answer: header lines each followed by a PDU line."""
    out = []
    it = iter(lines)
    for line in it:
        if not line.startswith("+CMGL:"):
            continue
        v = params(line)
        pdu = next(it, "").strip()
        out.append(
            StoredPdu(_int(v, 0, line, "index"), _int(v, 1, line, "stat"), _int(v, len(v) - 1, line, "length"), pdu)
        )
    return out


def cmgr(index: int, lines: list[str]) -> StoredPdu:
    """The ``AT+CMGR=<index>`` answer.

    Raises:
        AtParseError: the slot is empty (the answer is just OK).
    """
    for i, line in enumerate(lines):
        if line.startswith("+CMGR:") and i + 1 < len(lines):
            v = params(line)
            return StoredPdu(index, _int(v, 0, line, "stat"), _int(v, len(v) - 1, line, "length"), lines[i + 1].strip())
    raise AtParseError(f"SMS storage slot {index} is empty")


@dataclass(frozen=True)
class Ussd:
    status: int
    text: str


def cusd(line: str) -> Ussd:
    v = params(line)
    text = _str(v, 1)
    dcs = v[2] if len(v) > 2 and isinstance(v[2], int) else 15
    ucs2 = dcs == 0x11 or ((dcs >> 6) == 1 and (dcs & 0x0C) == 0x08)  # TS 23.038 §5
    if ucs2:  # sent as hex by most modems
        try:
            text = bytes.fromhex(text).decode("utf-16-be")
        except ValueError:
            pass
    return Ussd(_int(v, 0, line, "status"), text)


# -- identity, SIM, clock ---------------------------------------------------------
def cpin(line: str) -> str:
    """``+CPIN: READY`` → ``READY``; also ``SIM PIN``, ``SIM PUK``, ``NOT INSERTED``."""
    return line.partition(":")[2].strip().strip('"').upper()


def imei(lines: list[str]) -> str:
    """The IMEI in an ``AT+CGSN`` answer: a bare line, or ``+CGSN: "..."``."""
    for line in lines:
        m = re.search(r"(\d{14,17})", line)
        if m:
            return m[1]
    raise AtParseError("no IMEI in the answer to AT+CGSN")


def first_text(lines: list[str]) -> str:
    """The first information line of a bare answer (ATI, AT+CGMM...)."""
    for line in lines:
        text = line.strip()
        if text:
            return text.partition(":")[2].strip().strip('"') if text.startswith("+") else text
    return ""


_CCLK = re.compile(r'"?(\d{2}|\d{4})/(\d{2})/(\d{2}),(\d{2}):(\d{2}):(\d{2})([+-]\d{1,2})?(?:,\d)?"?')


def cclk(line: str) -> datetime:
    """``+CCLK: "26/03/02,10:00:00+04"`` (local time, zone in quarter hours) → UTC.

    Raises:
        AtParseError: no time in the line, an impossible date, or no zone
            (a time without a zone cannot be trusted for patient calls).
    """
    m = _CCLK.search(line.partition(":")[2])
    if not m:
        raise AtParseError(f"no time in {line!r}")
    if m[7] is None:
        raise AtParseError(f"the modem's clock has no time zone ({line!r})")
    year = int(m[1])
    if len(m[1]) == 2:  # an unset modem clock reads 80/01/06 (1980), not 2080
        year += 2000 if year < 70 else 1900
    try:
        zone = timezone(timedelta(minutes=15 * int(m[7])))
        local = datetime(year, int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=zone)
    except ValueError as exc:
        raise AtParseError(f"impossible time in {line!r}") from exc
    return local.astimezone(UTC)
