"""baresip 1.0 (Debian's baresip-core) as a test peer, driven through ``ctrl_tcp``.

baresip is an independent SIP stack with its own media code, so a call
that works with it is not an artefact of PJSUA2 talking to PJSUA2. It has
no sound card here: it "speaks" an 8 kHz WAV (``aufile``; the call's audio
ends when the file does, so give it a long one) and plays into a null
bridge. Its control socket speaks netstrings of JSON: commands
``{"command": "dial", "params": URI, "token": N}`` get
``{"response": true, "ok": ..., "token": N}``; events arrive as
``{"event": true, "type": "CALL_ESTABLISHED", ...}``.
"""

from __future__ import annotations

import json
import queue
import random
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.integration.sip.peers.common import free_port, stop, tail, write_tone_wav

MODULES = ("g711.so", "aufile.so", "aubridge.so")
APP_MODULES = ("account.so", "menu.so", "ctrl_tcp.so")


def _netstring(data: bytes) -> bytes:
    return str(len(data)).encode() + b":" + data + b","


class Baresip:
    """One baresip process with its own config folder.

    Args:
        workdir: where its config, accounts and log go.
        auto_answer: answer incoming calls at once (``answermode=auto``).
        wav: what it sends as audio (default: a 30 s 8 kHz tone).
        user: the user part of its SIP address.
        sip_trace: log every SIP message it sends and receives (``-s``): what the phone saw.

    Example:
        >>> with Baresip(tmp_path / "bs") as bs:                      # doctest: +SKIP
        ...     bs.dial(callee.contact)
        ...     bs.wait_event("CALL_ESTABLISHED")
    """

    def __init__(
        self,
        workdir: Path,
        *,
        auto_answer: bool = False,
        wav: Path | None = None,
        user: str = "baresip",
        registrar: str = "",
        password: str = "",
        sip_trace: bool = False,
        transport: str = "",
        cafile: Path | None = None,
    ) -> None:
        """``transport``: "tls" registers over TLS (``cafile``: the certificate it trusts)."""
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port, self.ctrl_port = free_port(), free_port(socket.SOCK_STREAM)
        self.wav = wav or write_tone_wav(self.dir / "speech.wav", seconds=30.0, freq=350.0)
        rtp = random.randrange(41000, 59000, 2)
        modules = "\n".join(f"module {m}" for m in MODULES)
        app_modules = "\n".join(f"module_app {m}" for m in APP_MODULES)
        cafile_line = f"sip_cafile\t\t{cafile}" if cafile else ""
        (self.dir / "config").write_text(
            f"""poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{self.sip_port}
audio_player\t\taubridge,null
audio_source\t\taufile,{self.wav}
audio_alert\t\taubridge,null
audio_srate\t\t8000
audio_channels\t\t1
rtp_ports\t\t{rtp}-{rtp + 40}
module_path\t\t/usr/lib/baresip/modules
{modules}
{app_modules}
ctrl_tcp_listen\t\t127.0.0.1:{self.ctrl_port}
{cafile_line}
""",
            encoding="utf-8",
        )
        answer = "auto" if auto_answer else "manual"
        if registrar:  # a desk phone: registers as user@registrar with digest credentials
            host = registrar.removeprefix("sip:") + (f";transport={transport}" if transport else "")
            account = f"<sip:{user}@{host}>;auth_pass={password};regint=120;answermode={answer};audio_codecs=PCMA,PCMU"
        else:
            account = f"<sip:{user}@127.0.0.1:{self.sip_port}>;regint=0;answermode={answer};audio_codecs=PCMA,PCMU"
        (self.dir / "accounts").write_text(account + "\n", encoding="utf-8")
        (self.dir / "contacts").write_text("", encoding="utf-8")
        self.log = self.dir / "baresip.log"
        self._logfh = self.log.open("wb")
        self.proc = subprocess.Popen(
            ["baresip", "-f", str(self.dir), "-n", "127.0.0.1", *(["-s"] if sip_trace else [])],
            stdin=subprocess.DEVNULL,
            stdout=self._logfh,
            stderr=subprocess.STDOUT,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.history: list[dict[str, Any]] = []
        self._responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self._token = 0
        self.sock = self._connect()
        threading.Thread(target=self._read, daemon=True).start()
        self.uri = f"sip:{user}@127.0.0.1:{self.sip_port}"

    def _connect(self, timeout: float = 10.0) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=2)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"baresip did not open its control port:\n{tail(self.log)}") from None
                time.sleep(0.05)

    def _read(self) -> None:
        buf = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b":" in buf:
                size, _, rest = buf.partition(b":")
                if not size.isdigit() or len(rest) < int(size) + 1:
                    break
                body, buf = rest[: int(size)], rest[int(size) + 1 :]
                msg = json.loads(body)
                if msg.get("response"):
                    self._responses.put(msg)
                else:
                    self.events.put(msg)

    def command(self, command: str, params: str = "", timeout: float = 5.0) -> dict[str, Any]:
        """Run one ctrl_tcp command; its response.

        Raises:
            AssertionError: no response in time or the command failed.
        """
        self._token += 1
        token = str(self._token)
        self.sock.sendall(_netstring(json.dumps({"command": command, "params": params, "token": token}).encode()))
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._responses.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"baresip did not answer {command!r}:\n{tail(self.log)}") from None
            if str(msg.get("token")) == token:
                if not msg.get("ok"):
                    raise AssertionError(f"baresip refused {command} {params}: {msg.get('data')}")
                return msg

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def accept(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def send_digits(self, digits: str, gap_s: float = 0.25) -> None:
        """RFC 4733 digits, one ``sndcode`` each."""
        for digit in digits:
            self.command("sndcode", digit)
            time.sleep(gap_s)

    def wait_event(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next event of type ``kind`` (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED...)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.events.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                got = ", ".join(str(e.get("type")) for e in self.history[-10:])
                raise AssertionError(f"no baresip {kind} within {timeout} s (got {got}):\n{tail(self.log)}") from None
            self.history.append(msg)
            if msg.get("type") == kind:
                return msg

    def close(self) -> None:
        try:
            self.sock.sendall(_netstring(json.dumps({"command": "quit", "token": "quit"}).encode()))
        except OSError:
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        self.sock.close()
        self._logfh.close()

    def __enter__(self) -> Baresip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
