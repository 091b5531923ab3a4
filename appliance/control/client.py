"""The typed control-socket client used by the web UI, doctor and scripts.

Example:
    >>> client = ControlClient(Path("/run/clinicbox/control.sock"))   # doctest: +SKIP
    >>> client.status()["capacity"]                                   # doctest: +SKIP
    {'requested': 32, 'allowed': 4, 'in_use': 0}
    >>> client.answer("desk1")                                        # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.control.protocol import VERSION
from appliance.errors import ControlError


class CommandRefused(ControlError):
    """The core refused the command; ``code`` says why (e.g. ``not-ringing``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ControlClient:
    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _connect(self, timeout: float | None) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.path))
        except FileNotFoundError:
            sock.close()
            raise ControlError(f"the ClinicBox core is not running (no control socket at {self.path})") from None
        except PermissionError:
            sock.close()
            raise ControlError(
                f"no permission to use {self.path}; the user must be in the control socket's group"
            ) from None
        except OSError as exc:
            sock.close()
            raise ControlError(f"cannot reach the ClinicBox core at {self.path}: {exc.strerror}") from None
        return sock

    def call(self, cmd: str, **args: Any) -> Any:
        """Send one command and return its result.

        Raises:
            ControlError: the core is not reachable or did not answer in time.
            CommandRefused: the core refused the command.
        """
        rid = next(self._ids)
        line = json.dumps({"v": VERSION, "id": rid, "cmd": cmd, "args": args}, ensure_ascii=False).encode() + b"\n"
        sock = self._connect(self.timeout)
        try:
            sock.sendall(line)
            reader = sock.makefile("rb")
            raw = reader.readline()
        except TimeoutError:
            raise ControlError(f"the core did not answer {cmd} within {self.timeout:.0f} s") from None
        except OSError as exc:
            raise ControlError(f"control socket failed during {cmd}: {exc}") from None
        finally:
            sock.close()
        if not raw:
            raise ControlError(f"the core closed the connection during {cmd}")
        reply = json.loads(raw)
        if reply.get("ok"):
            return reply.get("result")
        err = reply.get("error", {})
        raise CommandRefused(err.get("code", "refused"), err.get("message", "refused"))

    def subscribe(self) -> Iterator[tuple[str, Any]]:
        """Yield (event, data) pushes forever; the first is a ``snapshot``.

        The iterator ends (ControlError) when the core goes away; callers
        reconnect.
        """
        sock = self._connect(timeout=self.timeout)
        try:
            sock.sendall(json.dumps({"v": VERSION, "id": 0, "cmd": "subscribe"}).encode() + b"\n")
            sock.settimeout(None)
            reader = sock.makefile("rb")
            for raw in reader:
                msg = json.loads(raw)
                if "event" in msg:
                    yield msg["event"], msg.get("data")
            raise ControlError("the core closed the event stream")
        finally:
            sock.close()

    # -- typed helpers ------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.call("status")  # type: ignore[no-any-return]

    def login(self, station: str) -> Any:
        return self.call("agent.login", station=station)

    def logout(self, station: str) -> Any:
        return self.call("agent.logout", station=station)

    def pause(self, station: str, reason: str = "") -> Any:
        return self.call("agent.pause", station=station, reason=reason)

    def unpause(self, station: str) -> Any:
        return self.call("agent.unpause", station=station)

    def answer(self, station: str) -> Any:
        return self.call("call.answer", station=station)

    def hold(self, station: str) -> Any:
        return self.call("call.hold", station=station)

    def unhold(self, station: str) -> Any:
        return self.call("call.unhold", station=station)

    def hangup(self, station: str) -> Any:
        return self.call("call.hangup", station=station)

    def transfer(
        self, station: str, *, to_station: str | None = None, to_queue: str | None = None, to_number: str | None = None
    ) -> Any:
        args = {k: v for k, v in (("to_station", to_station), ("to_queue", to_queue), ("to_number", to_number)) if v}
        return self.call("call.transfer", station=station, **args)

    def wrapup_done(self, station: str, note: str = "") -> Any:
        return self.call("call.wrapup_done", station=station, note=note)

    def originate_callback(self, callback_id: int, station: str) -> Any:
        return self.call("callback.originate", callback_id=callback_id, station=station)

    def night_mode(self, on: bool) -> Any:
        return self.call("night_mode.set", on=on)
