"""The scriptable PJSUA2 user agent (``appliance.demo.sipua``) as a test peer."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.sip.peers.common import REPO, child_env, tail

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


class SipUA:
    """One ``appliance.demo.sipua`` process, scripted over its JSON lines.

    Example:
        >>> with SipUA(tmp_path, auto_answer=True) as callee, SipUA(tmp_path) as caller:  # doctest: +SKIP
        ...     cid = caller.call(callee.contact, headers={"X-Test": "1"})
        ...     caller.wait_state("CONFIRMED", cid)
    """

    def __init__(
        self,
        logdir: Path,
        *,
        name: str = "ua",
        port: int = 0,
        auto_answer: bool = False,
        answer_code: int = 200,
        id_uri: str = "",
        registrar: str = "",
        user: str = "",
        password: str = "",
        ready_timeout: float = 10.0,
    ) -> None:
        args = ["--port", str(port), "--bind", "127.0.0.1"]
        if auto_answer:
            args += ["--auto-answer", "--answer-code", str(answer_code)]
        if id_uri:
            args += ["--id-uri", id_uri]
        if registrar:
            args += ["--registrar", registrar, "--user", user, "--password", password]
        self.name = name
        self.log = Path(logdir) / f"{name}-{os.getpid()}-{id(self)}.log"
        self._logfh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.demo.sipua", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._logfh,
            env=child_env(),
            cwd=REPO,
        )
        self.queue: queue.Queue[Event] = queue.Queue()
        self.events: list[Event] = []
        self._taken: set[int] = set()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self.wait_for("ready", timeout=ready_timeout)
        self.uri: str = ready["uri"]
        self.host: str = ready["host"]
        self.port: int = int(ready["port"])

    @property
    def contact(self) -> str:
        """Where to call this UA: ``sip:ua@127.0.0.1:PORT``."""
        return f"sip:ua@{self.host}:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.queue.put(json.loads(raw))
            except json.JSONDecodeError:
                continue
        self.queue.put({"event": "exit"})

    # -- commands ------------------------------------------------------------------
    def send(self, cmd: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        self.proc.stdin.flush()

    def call(self, uri: str, headers: dict[str, str] | None = None, from_user: str = "", timeout: float = 5.0) -> int:
        """Place a call; returns its id (for the other commands and events)."""
        tag = f"t{time.monotonic_ns()}"
        self.send("call", uri=uri, headers=headers or {}, from_user=from_user, tag=tag)
        return int(self.wait_for("calling", lambda e: e.get("tag") == tag, timeout)["call"])

    def answer(self, call: int | None = None, code: int = 200) -> None:
        self.send("answer", code=code, **({"call": call} if call is not None else {}))

    def hangup(self, call: int | None = None, code: int = 0) -> None:
        self.send("hangup", code=code, **({"call": call} if call is not None else {}))

    def dtmf(self, digits: str, call: int | None = None) -> None:
        """RFC 4733 digits."""
        self.send("dtmf", digits=digits, **({"call": call} if call is not None else {}))

    def dtmf_info(self, digits: str, call: int | None = None) -> None:
        """SIP INFO digits (application/dtmf-relay)."""
        self.send("dtmf_info", digits=digits, **({"call": call} if call is not None else {}))

    def play(self, wav: Path | str, call: int | None = None, loop: bool = False) -> None:
        self.send("play", wav=str(wav), loop=loop, **({"call": call} if call is not None else {}))

    def record(self, wav: Path | str, call: int | None = None) -> None:
        self.send("record", wav=str(wav), **({"call": call} if call is not None else {}))

    def stop_record(self, call: int | None = None) -> None:
        self.send("stop_record", **({"call": call} if call is not None else {}))

    def message(self, uri: str, body: str, content_type: str = "text/plain") -> None:
        self.send("message", uri=uri, body=body, content_type=content_type)

    # -- events --------------------------------------------------------------------
    def wait_for(self, event: str, predicate: Predicate | None = None, timeout: float = 5.0) -> Event:
        """The first event named ``event`` matching ``predicate`` not yet returned by a wait.

        Events that arrived earlier (skipped by waits for other events) count:
        waiting for "media" after "CONFIRMED" finds the media event that came
        between. Each event is returned at most once.

        Raises:
            AssertionError: none in time, or the process ended (with its log tail).
        """

        def matches(item: Event) -> bool:
            return item.get("event") == event and (predicate is None or predicate(item))

        for i, item in enumerate(self.events):
            if i not in self._taken and matches(item):
                self._taken.add(i)
                return item
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.queue.get(timeout=left) if left > 0 else self.queue.get_nowait()
            except queue.Empty:
                raise AssertionError(self._explain(f"no {event!r} event within {timeout} s")) from None
            self.events.append(item)
            if matches(item):
                self._taken.add(len(self.events) - 1)
                return item
            if item.get("event") == "exit" and event != "exit":
                raise AssertionError(self._explain(f"{self.name} exited while waiting for {event!r}"))

    def wait_state(self, state: str, call: int | None = None, timeout: float = 5.0) -> Event:
        return self.wait_for(
            "state", lambda e: e["state"] == state and (call is None or e["call"] == call), timeout=timeout
        )

    def wait_heard(self, seconds: float, call: int | None = None, timeout: float = 5.0) -> Event:
        """Wait until the call has carried ``seconds`` of non-silent audio to this UA."""
        return self.wait_for(
            "audio", lambda e: e["heard"] >= seconds and (call is None or e["call"] == call), timeout=timeout
        )

    def seen(self, event: str, predicate: Predicate | None = None) -> list[Event]:
        """Events already received (drains what is queued first)."""
        while True:
            try:
                self.events.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return [e for e in self.events if e.get("event") == event and (predicate is None or predicate(e))]

    def _explain(self, what: str) -> str:
        got = [json.dumps(e)[:200] for e in self.events[-15:]]
        return f"{what}\nlast events:\n  " + "\n  ".join(got) + f"\n{self.name} log:\n{tail(self.log)}"

    # -- end -----------------------------------------------------------------------
    def close(self, timeout: float = 5.0) -> int:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._logfh.close()
        return int(self.proc.returncode)

    def __enter__(self) -> SipUA:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
