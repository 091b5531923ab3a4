"""SIM PIN safety: a PIN goes to a SIM once, unless it unlocked it.

Three wrong PIN tries lock a SIM: it then needs its PUK (the letter from
the operator, or a trip to the shop) and the clinic has no GSM line until
someone comes. So the driver records a PIN *before* it sends it and
forgets it only when the SIM became READY after it. A wrong PIN, any other
error, no answer at all, or the box losing power in between: each leaves
the PIN recorded, and a recorded PIN is never sent to that SIM again, on
any reconnect, recovery or restart. A technician who corrects
``modem.pin`` (another PIN), puts in another SIM (another ICCID), or
deletes the record after checking the PIN gets one try.

Before sending, the driver asks the modem how many tries the SIM has left
(3GPP ``AT+CPINR``, Quectel ``AT+QPINC``, SIMCom ``AT+SPIC``, Huawei
``AT^CPIN``; a modem that knows none just answers ERROR) and never spends
the last one: that try is for a person with a phone.

Example:
    >>> tries_left(['+QPINC: "SC",2,10'])
    2
    >>> tries_left(["+CPINR: SIM PUK,10,10"]) is None
    True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: Where the core and ``clinicbox doctor`` keep the record, under ``paths.state_dir``.
STATE_FILE = "modem-pin.json"

#: Commands that tell the SIM PIN tries left, tried in this order.
TRIES_COMMANDS = ('AT+CPINR="SIM PIN"', 'AT+QPINC="SC"', "AT+SPIC", "AT^CPIN?")

_TRIES = (
    re.compile(r'^\+CPINR:\s*"?SIM PIN"?\s*,\s*(\d+)'),  # +CPINR: "SIM PIN",<left>,<max>
    re.compile(r'^\+QPINC:\s*"SC"\s*,\s*(\d+)'),  # +QPINC: "SC",<pin left>,<puk left>
    re.compile(r"^\+SPIC:\s*(\d+)\s*,"),  # +SPIC: <pin1>,<puk1>,<pin2>,<puk2>
    re.compile(r"^\^CPIN:\s*[^,]*,[^,]*,[^,]*,\s*(\d+)"),  # ^CPIN: <code>,[<times>],<puk>,<pin>,...
)


def tries_left(lines: Iterable[str]) -> int | None:
    """SIM PIN tries left, from the answer to one of :data:`TRIES_COMMANDS`
    (None when the answer does not tell)."""
    for line in lines:
        for pattern in _TRIES:
            m = pattern.match(line.strip())
            if m:
                return int(m[1])
    return None


class PinGuard:
    """Remembers every PIN sent to a SIM that did not unlock it, across restarts.

    Only a SHA-256 of the SIM's ICCID and the PIN is kept (never the PIN).
    A record that exists but cannot be read counts as refusing every PIN:
    sending one blind could be the third wrong try.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._rejected: set[str] = set()
        self.unreadable = ""  # why the record could not be read; "" when it could
        if path is not None and path.exists():
            try:
                entries = json.loads(path.read_text()).get("rejected", [])
                if not isinstance(entries, list) or not all(isinstance(x, str) for x in entries):
                    raise ValueError("'rejected' is not a list of digests")
                self._rejected = set(entries)
            except (OSError, ValueError, AttributeError) as exc:
                self.unreadable = f"{path} cannot be read ({exc})"
                log.error("the record of SIM PINs %s; no PIN is sent until it can be", self.unreadable)

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "the running process (no state file)"

    @staticmethod
    def _digest(pin: str, iccid: str) -> str:
        return hashlib.sha256(f"clinicbox-sim-pin:{iccid}:{pin}".encode()).hexdigest()

    def rejected(self, pin: str, iccid: str = "") -> bool:
        """Was this PIN sent to this SIM (by ICCID, when the modem tells it)
        without unlocking it, or can the record not be read?"""
        return bool(self.unreadable) or self._digest(pin, iccid) in self._rejected

    def reject(self, pin: str, iccid: str = "") -> None:
        """Record the PIN as refused (done *before* sending it).

        Raises:
            OSError: the record could not be written; the PIN must not be sent.
        """
        self._rejected.add(self._digest(pin, iccid))
        self._save()

    def forgive(self, pin: str, iccid: str = "") -> None:
        """The SIM became READY after this PIN: it may be sent again after a power cycle."""
        self._rejected.discard(self._digest(pin, iccid))
        try:
            self._save()
        except OSError:
            log.exception("cannot update %s; the right PIN stays recorded as refused", self.path)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"rejected": sorted(self._rejected)}, out)
            out.flush()
            os.fsync(out.fileno())  # the record must survive a power cut right after the PIN
        tmp.replace(self.path)


def _fix(guard: PinGuard) -> str:
    clear = (
        f"if modem.pin is right after all, delete {guard.path} and restart to allow one more try"
        if guard.path is not None
        else "restart to allow one more try"
    )
    return (
        f"Check the PIN (for example in a phone), correct modem.pin in the secrets file and restart ClinicBox; {clear}"
    )


def refused_before(guard: PinGuard) -> str:
    """Why the PIN is not sent now (the record says the SIM refused it, or cannot be read)."""
    if guard.unreadable:
        return (
            f"the record of PINs the SIM refused ({guard.unreadable}); no PIN is sent without it "
            f"(a third wrong try locks the SIM). Delete {guard.path} if modem.pin is right, and restart"
        )
    return "this SIM did not accept modem.pin before; it is not tried again (a third wrong try locks the SIM). " + _fix(
        guard
    )


def not_accepted(why: str, left: int | None, guard: PinGuard) -> str:
    """Why the PIN just sent did not unlock the SIM, and what to do."""
    tries = f"; the SIM has {left} tr{'y' if left == 1 else 'ies'} left" if left is not None else ""
    return (
        f"the SIM did not accept modem.pin ({why}); it is not tried again "
        f"(three wrong tries lock the SIM){tries}. " + _fix(guard)
    )


LAST_TRY = (
    "the SIM has only one PIN try left; ClinicBox never spends the last try (a wrong PIN would lock the SIM). "
    "Enter the PIN once in a phone (that resets the count), put the SIM back and restart ClinicBox"
)

NO_TRIES = "the SIM has no PIN tries left and needs its PUK; unlock it in a phone with the PUK, then set modem.pin"

PUK_NOW = (
    "the SIM refused modem.pin and is now locked (PUK needed); unlock it in a phone with the PUK, "
    "then correct modem.pin in the secrets file and restart ClinicBox"
)
