"""The control socket's wire format (version 1): JSON lines over a Unix socket.

Request (one line)::

    {"v": 1, "id": 7, "cmd": "call.answer", "args": {"station": "desk1"}}

Reply (one line, same id)::

    {"v": 1, "id": 7, "ok": true, "result": {...}}
    {"v": 1, "id": 7, "ok": false, "error": {"code": "not-ringing", "message": "..."}}

After ``{"cmd": "subscribe"}`` the connection streams pushes, one per line::

    {"v": 1, "event": "snapshot", "data": {...}}       # full state, first and on change
    {"v": 1, "event": "agent.ringing", "data": {...}}  # individual events

Commands are listed in :data:`COMMANDS` with their arguments; the README's
"Control socket" section documents them for scripts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
MAX_LINE = 64 * 1024

#: command -> (required args, optional args)
COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ping": ((), ()),
    "status": ((), ()),
    "subscribe": ((), ("topics",)),
    "agent.login": (("station",), ()),
    "agent.logout": (("station",), ()),
    "agent.pause": (("station",), ("reason",)),
    "agent.unpause": (("station",), ()),
    "call.answer": (("station",), ()),
    "call.hold": (("station",), ()),
    "call.unhold": (("station",), ()),
    "call.transfer": (("station",), ("to_station", "to_queue", "to_number")),
    "call.hangup": (("station",), ()),
    "call.wrapup_done": (("station",), ("note",)),
    "call.note": (("call_id", "note"), ()),
    "callback.originate": (("callback_id", "station"), ()),
    "callback.close": (("callback_id", "outcome"), ("actor",)),
    "call.originate": (("station", "number"), ()),
    "night_mode.set": (("on",), ()),
    "reminders.pause": ((), ()),
    "reminders.resume": ((), ()),
    "config.reload": ((), ()),
    "store.unlock": (("passphrase",), ()),
    "store.backup": ((), ("to", "if_present")),
    "store.backup_passphrase": (("passphrase",), ()),
    "store.retention": ((), ("actor",)),
    "secrets.set": (("name", "value"), ()),
    "secrets.status": ((), ()),
    "core.restart_when_idle": ((), ("actor", "deadline_min")),
    "core.restart_status": ((), ()),
    "core.restart_cancel": ((), ("actor",)),
    "feeds.status": ((), ()),
    "feeds.reprocess": (("id",), ("actor",)),
    "edge.status": ((), ()),
    "waitlist.wake": ((), ()),
    "waitlist.status": ((), ()),
}


class ProtocolError(Exception):
    """A malformed or unknown request; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Request:
    id: int | str | None
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


def parse_request(line: bytes) -> Request:
    """Parse and validate one request line.

    Raises:
        ProtocolError: with codes bad-json, bad-version, unknown-command, bad-args.
    """
    if len(line) > MAX_LINE:
        raise ProtocolError("too-long", f"request longer than {MAX_LINE} bytes")
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError("bad-json", f"not a JSON line: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad-json", "a request is a JSON object")
    if data.get("v", VERSION) != VERSION:
        raise ProtocolError("bad-version", f"this box speaks control protocol v{VERSION}")
    cmd = data.get("cmd")
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        raise ProtocolError("unknown-command", f"unknown command {cmd!r}; known: {', '.join(sorted(COMMANDS))}")
    args = data.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError("bad-args", "args must be an object")
    required, optional = COMMANDS[cmd]
    missing = [a for a in required if a not in args]
    if missing:
        raise ProtocolError("bad-args", f"{cmd} needs {', '.join(missing)}")
    extra = set(args) - set(required) - set(optional)
    if extra:
        raise ProtocolError("bad-args", f"{cmd} does not take {', '.join(sorted(extra))}")
    rid = data.get("id")
    if rid is not None and not isinstance(rid, int | str):
        raise ProtocolError("bad-json", "id must be a number or a string")
    return Request(rid, cmd, args)


def encode(message: dict[str, Any]) -> bytes:
    return (
        json.dumps({"v": VERSION, **message}, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"
    )


def reply_ok(rid: int | str | None, result: Any) -> bytes:
    return encode({"id": rid, "ok": True, "result": result})


def reply_error(rid: int | str | None, code: str, message: str) -> bytes:
    return encode({"id": rid, "ok": False, "error": {"code": code, "message": message}})


def push(event: str, data: Any) -> bytes:
    return encode({"event": event, "data": data})
