"""AT commands over a transport: one at a time, each with its own timeout.

The reader thread feeds bytes in; :class:`AtChannel` cuts them into lines,
drops the echo, recognises the ``> `` prompt of ``AT+CMGS``, and sorts
each line into the answer of the command in flight or a URC (see
:mod:`appliance.modem.wire.at`). URCs go to ``on_urc`` on the reader thread:
the handler must only queue work, never send a command (that would wait
for itself). After a timeout the next command first waits for the line to
go quiet, so a late ``OK`` is never taken for the next command's answer.

Example (with the simulator on a pty)::

    channel = AtChannel(SerialTransport(path), on_urc=print)
    channel.open()
    channel.command("AT+CSQ").lines   # ['+CSQ: 21,99']
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import ModemCommandError, ModemError, ModemTimeoutError, SmsUnconfirmedError
from appliance.modem.trace import WireTrace
from appliance.modem.transport import SerialTransport
from appliance.modem.wire import at

log = logging.getLogger(__name__)

#: ``on_urc(line, pdu)``: ``pdu`` is the second line of +CMT/+CDS, else None.
UrcHandler = Callable[[str, str | None], None]


class ModemGoneError(ModemError):
    """The modem's port disappeared (USB reset, cable pulled)."""


@dataclass(frozen=True)
class Response:
    command: str
    lines: list[str]
    final: at.Final


@dataclass
class _Command:
    text: str
    expect: tuple[str, ...]
    dialing: bool
    pdu: str = ""
    lines: list[str] = field(default_factory=list)
    final: at.Final | None = None
    prompt: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class AtChannel:
    """Serialized AT commands with per-command timeouts over one transport."""

    def __init__(self, transport: SerialTransport, on_urc: UrcHandler, *, trace: bool = False) -> None:
        self.transport = transport
        self.on_urc = on_urc
        self.trace = WireTrace(trace)
        self._lock = threading.Lock()  # one command at a time
        self._state = threading.Lock()  # guards the fields below
        self._buf = b""
        self._cmd: _Command | None = None
        self._urc_header: str | None = None
        self._last_rx = time.monotonic()
        self._dirty = False
        self._gone: Exception | None = None
        self._open = False

    # -- lifecycle -------------------------------------------------------------
    def open(self) -> None:
        self._gone = None
        self._buf = b""
        self._urc_header = None
        self.transport.open(self._on_data, self._on_closed)
        self._open = True

    def close(self) -> None:
        self._open = False
        self.transport.close()
        self._fail_pending(ModemGoneError("the modem port was closed"))

    @property
    def alive(self) -> bool:
        return self._open and self._gone is None and self.transport.is_open

    # -- commands ----------------------------------------------------------------
    def command(
        self,
        text: str,
        timeout: float = 5.0,
        *,
        expect: tuple[str, ...] | None = None,
        dialing: bool = False,
        check: bool = True,
    ) -> Response:
        """Send ``text`` and wait for its final result code.

        Raises:
            ModemTimeoutError: no final result within ``timeout`` seconds.
            ModemCommandError: ERROR / +CME ERROR / +CMS ERROR (unless ``check=False``).
            ModemGoneError: the port went away.
        """
        cmd = _Command(text, at.expected_prefixes(text) if expect is None else expect, dialing)
        with self._lock:
            self._begin(cmd)
            try:
                self._send(text + "\r")
                return self._finish(cmd, timeout, check)
            finally:
                with self._state:
                    self._cmd = None

    def send_pdu(self, length: int, pdu: str, timeout: float = 60.0, prompt_timeout: float = 5.0) -> Response:
        """``AT+CMGS=<length>``, wait for ``>``, send the PDU and Ctrl-Z.

        Raises:
            ModemTimeoutError: no prompt (the command is cancelled with ESC;
                nothing was sent).
            SmsUnconfirmedError: the PDU went out but no final result came
                within ``timeout`` or the port went away: the network may
                have taken the message.
            ModemCommandError: +CMS ERROR; ``code`` says why.
        """
        text = f"AT+CMGS={length}"
        cmd = _Command(text, ("+CMGS:",), False, pdu=pdu)
        with self._lock:
            self._begin(cmd)
            try:
                self._send(text + "\r")
                if not cmd.prompt.wait(prompt_timeout) and not cmd.done.is_set():
                    self._send("\x1b")
                    self._dirty = True
                    raise ModemTimeoutError(f"the modem gave no '>' prompt for {text} within {prompt_timeout:g} s")
                if cmd.done.is_set():  # a final answer instead of the prompt: nothing went out
                    if cmd.final is not None and cmd.final.ok:
                        # OK without a prompt is the late answer to an earlier send
                        # that timed out, not this one: its +CMGS belongs to that part.
                        for line in cmd.lines:
                            if line.startswith("+CMGS:"):
                                self._dispatch(line, None)
                        raise ModemTimeoutError("the modem was still busy with an earlier SMS; nothing was sent")
                    return self._finish(cmd, timeout, True)
                self._send(pdu + "\x1a", log_as=pdu)
                try:
                    return self._finish(cmd, timeout, True)
                except ModemCommandError:
                    raise
                except ModemError as exc:
                    raise SmsUnconfirmedError(f"{exc}; the message may have gone out") from exc
            finally:
                with self._state:
                    self._cmd = None

    def _begin(self, cmd: _Command) -> None:
        if self._gone is not None or not self._open:
            raise ModemGoneError(f"the modem port is gone ({self._gone}); it will be reopened")
        if self._dirty:
            self._settle()
        with self._state:
            self._cmd = cmd

    def _finish(self, cmd: _Command, timeout: float, check: bool) -> Response:
        if not cmd.done.wait(timeout):
            self._dirty = True
            if self._gone is not None:
                raise ModemGoneError(f"the modem port went away during {cmd.text.split('=')[0]}")
            raise ModemTimeoutError(f"the modem did not answer {_name(cmd.text)} within {timeout:g} s")
        final = cmd.final
        if final is None:  # woken by a failure of the port
            raise ModemGoneError(f"the modem port went away during {_name(cmd.text)}")
        if check and not final.ok:
            raise ModemCommandError(f"{_name(cmd.text)} failed: {at.describe(final)}", final.kind, final.code)
        return Response(cmd.text, cmd.lines, final)

    def _settle(self, quiet: float = 0.3, limit: float = 2.0) -> None:
        """After a timeout: let late answers arrive and be dropped as noise."""
        end = time.monotonic() + limit
        while time.monotonic() < end and time.monotonic() - self._last_rx < quiet:
            time.sleep(0.05)
        self._dirty = False

    def _send(self, text: str, log_as: str | None = None) -> None:
        self.trace.sent((log_as or text).rstrip("\r\x1a"))
        self.transport.write(text.encode("latin-1", "replace"))

    # -- reader side -------------------------------------------------------------
    def _on_data(self, data: bytes) -> None:
        self._last_rx = time.monotonic()
        self._buf += data
        while True:
            cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                break
            raw, self._buf = self._buf[:cut], self._buf[cut + 1 :]
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._on_line(line)
        if self._buf.strip() == b">":
            with self._state:
                cmd = self._cmd
            if cmd is not None and cmd.pdu:
                self._buf = b""
                self.trace.received(">")
                cmd.prompt.set()

    def _on_line(self, line: str) -> None:
        self.trace.received(line)
        if self._urc_header is not None:
            header, self._urc_header = self._urc_header, None
            self._dispatch(header, line)
            return
        with self._state:
            cmd = self._cmd
        if line.startswith(">"):
            if cmd is not None and cmd.pdu:
                cmd.prompt.set()
            line = line.lstrip("> ").strip()
            if not line:
                return
        if cmd is None and at.final_result(line) is not None:
            log.debug("dropped a late %s (its command had timed out)", line)
            return
        if cmd is not None and not cmd.lines and line == cmd.text:
            return  # echo of the command
        if cmd is not None and cmd.pdu and line.rstrip("\x1a") == cmd.pdu:
            return  # echo of the PDU
        if at.is_urc(line, cmd.expect if cmd else (), busy=cmd is not None, dialing=bool(cmd and cmd.dialing)):
            if line.startswith(at.TWO_LINE_URCS):
                self._urc_header = line
            else:
                self._dispatch(line, None)
            return
        assert cmd is not None
        final = at.final_result(line, dialing=cmd.dialing)
        if final is None:
            cmd.lines.append(line)
            return
        cmd.final = final
        cmd.prompt.set()
        cmd.done.set()

    def _dispatch(self, line: str, pdu: str | None) -> None:
        try:
            self.on_urc(line, pdu)
        except Exception:
            log.exception("URC handler failed on %s", line.split(":")[0])

    def _on_closed(self, error: Exception | None) -> None:
        self._gone = error or ModemGoneError("closed")
        self._fail_pending(ModemGoneError(f"the modem port went away: {error}"))

    def _fail_pending(self, _: Exception) -> None:
        with self._state:
            cmd = self._cmd
        if cmd is not None:
            cmd.prompt.set()
            cmd.done.set()


def _name(command: str) -> str:
    """The command without its arguments, safe to log (no numbers, no PIN)."""
    for sep in ("=", "?"):
        command = command.split(sep)[0]
    if command.upper().startswith("ATD"):
        return "ATD"
    return command
