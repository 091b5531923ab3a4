"""A scripted GSM/LTE modem, for tests, the demo and technicians' dry runs.

:class:`ModemSimulator` is the modem's firmware: bytes in (AT commands),
bytes out (answers and URCs). It behaves like the Quectel EC25 or SIMCom
SIM7600 families (``profile``): echo until ``ATE0``, ``RDY`` and SIM
URCs at power-on, URCs landing in the middle of answers, and it plays
the mobile network too (SMS delivery with reports, incoming SMS and calls).
Faults are switched on by tests or the demo: slow or missing answers, no
SIM, no network, ``+CMS ERROR`` on the next send, and a hang that only a
power cycle (USB reset) clears. :mod:`appliance.modem.sim.ptydevice` puts it on a
pty so the real driver, or gammu, talks to it over a serial line.

Example:
    >>> sim = ModemSimulator()
    >>> out = []
    >>> sim.attach(out.append)
    >>> sim.feed(b"ATE0\\r")
    >>> b"".join(out)
    b'ATE0\\r\\r\\nOK\\r\\n'
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.modem.sim import audio, commands, smsc, voice
from appliance.modem.sim.state import SILENT, CmdError, Mode, SimState

log = logging.getLogger(__name__)

Output = Callable[[bytes], None]


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class ModemSimulator:
    """The simulated modem; thread-safe (the pty thread and tests both call it).

    Args:
        profile: ``"ec25"``, ``"sim7600"``, ``"e173"`` (Huawei) or ``"le910"`` (a
            modem with no known voice path): identity strings, boot URCs, voice path.
        imei: reported by ``AT+CGSN``.
        pin: the SIM's PIN; empty = no PIN lock.
    """

    def __init__(self, profile: str = "ec25", imei: str = "866758041234567", pin: str = "") -> None:
        self.state = SimState(
            profile=profile, imei=imei, pin=pin, report_store="SR" if profile in ("sim7600", "e173") else ""
        )
        self._lock = threading.RLock()
        self._out: Output | None = None
        self._buf = b""
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._pending_interleave: list[str] = []
        self.on_power_cycle: Callable[[], None] | None = None

    # -- wiring ----------------------------------------------------------------
    def attach(self, output: Output) -> None:
        """Where the modem's bytes go (the pty master)."""
        with self._lock:
            self._out = output

    def detach(self) -> None:
        with self._lock:
            self._out = None

    def emit(self, *lines: str) -> None:
        """Send lines the V.250 way: ``\\r\\n<line>\\r\\n``."""
        self.write("".join(f"\r\n{line}\r\n" for line in lines).encode())

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._out is not None and not self.state.hung:
                self._out(data)

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` seconds (from :meth:`tick`)."""
        with self._lock:
            heapq.heappush(self._timers, _Timer(time.monotonic() + delay, next(self._seq), action))

    def tick(self) -> float:
        """Run due timers; returns seconds until the next one (the pty loop's wait)."""
        while True:
            with self._lock:
                if not self._timers or self._timers[0].due > time.monotonic():
                    return max(0.0, self._timers[0].due - time.monotonic()) if self._timers else 0.2
                timer = heapq.heappop(self._timers)
            try:
                with self._lock:
                    timer.action()
            except Exception:
                log.exception("simulated modem timer failed")

    # -- power -------------------------------------------------------------------
    def power_on(self) -> None:
        """Boot: settings back to defaults, boot URCs, registration after a moment."""
        with self._lock:
            self.state.power_on()
            self._timers = [t for t in self._timers if getattr(t.action, "survives_reset", False)]
            heapq.heapify(self._timers)
            self._buf = b""
            self.later(0.05, self._boot_urcs)
            commands.schedule_registration(self)

    def _boot_urcs(self) -> None:
        st = self.state
        self.emit("RDY")
        self.emit(f"+CPIN: {st.cpin_text()}" if st.sim != "absent" else "+CPIN: NOT INSERTED")
        if st.sim == "ready":
            self.emit("+QIND: SMS DONE" if st.profile == "ec25" else "SMS DONE")
            self.emit("+QIND: PB DONE" if st.profile == "ec25" else "PB DONE")

    def power_cycle(self) -> None:
        """What a USB reset or ``AT+CFUN=1,1`` does: the port goes away and
        comes back (the pty runner re-enumerates), then the modem boots."""
        with self._lock:
            self.state.hung = self.state.wedged
            self.state.calls.clear()
        if self.on_power_cycle is not None:
            self.on_power_cycle()
        else:
            self.power_on()

    # -- input ---------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Bytes from the host."""
        with self._lock:
            st = self.state
            if st.hung or st.sending_late:
                return
            if st.echo:
                self.write(data)
            self._buf += data
            while self._buf:
                if st.mode is Mode.PDU_INPUT:
                    if not self._take_pdu_input():
                        return
                    continue
                cut = self._buf.find(b"\r")
                if cut < 0:
                    if len(self._buf) > 4096:
                        self._buf = b""
                    return
                raw, self._buf = self._buf[:cut], self._buf[cut + 1 :]
                line = raw.replace(b"\n", b"").replace(b"\x1b", b"").decode("latin-1").strip()
                if line:
                    self._command_line(line)

    def _take_pdu_input(self) -> bool:
        """Collect what follows the ``>`` prompt until Ctrl-Z (send) or ESC (cancel)."""
        for i, byte in enumerate(self._buf):
            if byte in (0x1A, 0x1B):
                body = self._buf[:i].decode("latin-1").replace("\r", "").replace("\n", "").strip()
                self._buf = self._buf[i + 1 :]
                self.state.mode = Mode.COMMAND
                if byte == 0x1A:
                    result = smsc.finish_send(self, body)
                    late = self.state.late_sms.pop(0) if self.state.late_sms else 0.0
                    if late is None:
                        pass  # taken by the network, never answered
                    elif late > 0:
                        self.state.sending_late = True  # busy with this send: deaf until it answers
                        self.later(late, functools.partial(self._answer_late, result))
                    else:
                        self._respond(result)
                else:
                    self._respond(([], None))
                return True
        return False

    def _command_line(self, line: str) -> None:
        st = self.state
        if not line.upper().startswith("AT"):
            return  # noise (a stray ESC or a partial line), silently ignored as real modems do
        if st.drop_answers > 0:
            st.drop_answers -= 1
            return
        lines: list[str] = []
        error: CmdError | None = None
        for name, arg in split_commands(line[2:]):
            try:
                result = self.dispatch(name, arg)
            except CmdError as exc:
                error = exc
                break
            if result is SILENT:
                return  # no answer at all: the host's command times out
            if result is smsc.PROMPT:
                st.mode = Mode.PDU_INPUT
                self.write(b"\r\n> ")
                return
            lines.extend(result)  # type: ignore[arg-type]
        self._respond((lines, error))

    def dispatch(self, name: str, arg: str) -> list[str] | object:
        handler = smsc.HANDLERS.get(name) or commands.HANDLERS.get(name)
        if handler is None:
            raise CmdError("ERROR")
        return handler(self, name, arg)

    def _respond(self, result: tuple[list[str], CmdError | None]) -> None:
        lines, error = result
        if self._pending_interleave:
            cut = len(lines) // 2
            lines = [*lines[:cut], *self._pending_interleave, *lines[cut:]]
            self._pending_interleave = []
        final = self._final(error)
        payload = "".join(f"\r\n{x}\r\n" for x in lines) + f"\r\n{final}\r\n"
        if self.state.slow_s > 0:
            self.later(self.state.slow_s, lambda: self.write(payload.encode()))
        else:
            self.write(payload.encode())

    def _final(self, error: CmdError | None) -> str:
        if error is None:
            return "OK"
        cmee = self.state.cmee
        if error.kind == "ERROR" or cmee == 0:
            return "ERROR"
        if cmee == 2 and error.kind == "CME":
            return f"+CME ERROR: {commands.CME_TEXT.get(error.code, str(error.code))}"
        return f"+{error.kind} ERROR: {error.code}"

    # -- faults and network events (tests, demo) ------------------------------------------
    def hang(self, *, deep: bool = False) -> None:
        """Stop answering anything until a power cycle (USB reset); ``deep``:
        until its power is cut (firmware wedged so that re-enumerating does not help)."""
        with self._lock:
            self.state.hung = True
            self.state.wedged = deep

    def cold_boot(self) -> None:
        """Power came back after a cut: nothing of the old firmware state is left."""
        with self._lock:
            self.state.wedged = False

    def slow(self, seconds: float) -> None:
        with self._lock:
            self.state.slow_s = seconds

    def drop_answers(self, count: int) -> None:
        with self._lock:
            self.state.drop_answers = count

    def fail_next_sms(self, code: int, count: int = 1, after: int = 0) -> None:
        """Let ``after`` sends through, then answer ``count`` with ``+CMS ERROR: code``."""
        with self._lock:
            self.state.sms_errors.extend([0] * after + [code] * count)

    def _answer_late(self, result: tuple[list[str], CmdError | None]) -> None:
        with self._lock:
            self.state.sending_late = False
            self._respond(result)

    def answer_sms_late(self, *delays: float | None) -> None:
        """The next sends go out, but their ``+CMGS`` comes after these many
        seconds (``None``: never), as a modem stuck behind a slow network does."""
        with self._lock:
            self.state.late_sms.extend(delays)

    def interleave(self, *urcs: str) -> None:
        """Put these URC lines in the middle of the next answer."""
        with self._lock:
            self._pending_interleave.extend(urcs)

    def set_network(self, available: bool, *, sticky: bool = False) -> None:
        """Network coverage. ``sticky``: it stays lost until the modem is reset."""
        with self._lock:
            self.state.network = available
            self.state.network_sticky_loss = sticky and not available
            commands.update_registration(self)

    def set_signal(self, rssi: int) -> None:
        with self._lock:
            self.state.rssi = rssi

    def remove_sim(self) -> None:
        with self._lock:
            self.state.sim = "absent"
            commands.update_registration(self)

    def inject_sms(self, sender: str, text: str, **options: object) -> int:
        """A message from ``sender`` arrives (see :func:`smsc.deliver`); returns parts sent."""
        with self._lock:
            return smsc.deliver(self, sender, text, **options)  # type: ignore[arg-type]

    def inject_call(self, number: str, *, withheld: bool = False) -> None:
        with self._lock:
            voice.incoming_call(self, number, withheld)

    def remote_hangup(self) -> None:
        with self._lock:
            voice.remote_hangup(self)

    def voice_route(self) -> str:
        """Where a call's voice goes now ("uac", "serial", ""): see :mod:`.audio`."""
        with self._lock:
            audio.call_over(self.state)
            return audio.voice_route(self.state)

    @property
    def sent(self) -> list[smsc.SentSms]:
        """Every SMS the host sent, as the network saw it."""
        with self._lock:
            return list(self.state.sent)


_BASIC = re.compile(r"^(&[A-Z]|S\d+[=?]?\d*|[A-CE-Z])(\d*)", re.IGNORECASE)


def split_commands(body: str) -> list[tuple[str, str]]:
    """``E0V1+CMEE=1;+CREG?`` → [("E", "0"), ("V", "1"), ("+CMEE", "=1"), ("+CREG", "?")].

    ``D`` swallows the rest of the line (the dial string, ending in ``;``).
    """
    out: list[tuple[str, str]] = []
    rest = body.strip()
    while rest:
        if rest[0] in "+^*$#%":
            m = re.match(r"^([+^*$#%][A-Za-z0-9]+)", rest)
            if not m:
                break
            name = m[1].upper()
            end = rest.find(";", m.end())
            if name == "+CUSD" or '"' in rest[m.end() : (end if end >= 0 else len(rest))]:
                end = _find_unquoted(rest, ";", m.end())
            arg = rest[m.end() : end if end >= 0 else len(rest)]
            out.append((name, arg))
            rest = rest[end + 1 :].lstrip() if end >= 0 else ""
            continue
        if rest[0] in "Dd":
            out.append(("D", rest[1:]))
            break
        m = _BASIC.match(rest)
        if not m:
            break
        out.append((m[1].upper(), m[2]))
        rest = rest[m.end() :].lstrip(";")
    return out


def _find_unquoted(text: str, char: str, start: int) -> int:
    quoted = False
    for i in range(start, len(text)):
        if text[i] == '"':
            quoted = not quoted
        elif text[i] == char and not quoted:
            return i
    return -1
