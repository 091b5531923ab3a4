"""How the core and its stations trust each other (protocol v1). Pure.

PJSUA2 is a user agent, not a registrar, and cannot challenge a request
with digest auth, so stations are authenticated with a per-station shared
secret (``stations.<id>.password``) and HMAC-SHA256:

* **Heartbeat** (station → core): a SIP MESSAGE to the core's address,
  Content-Type :data:`CONTENT_TYPE`, body :func:`heartbeat` — the station's
  id, its SIP contact, whether its audio device works, ``state`` "up" (every
  :data:`HEARTBEAT_S` seconds) or "down" (when it stops: headset unplugged).
  The core marks a station unavailable after :data:`STALE_AFTER_S` without one.
* **Command** (core → station): a SIP MESSAGE to the station's contact,
  body :func:`command` — ``ring`` (manual mode: play the ring tone in the
  headset, the console rings) and ``stop-ring``.
* **INVITE** (core → station): header :data:`AUTH_HEADER` = :func:`invite_token`;
  the station answers only INVITEs whose token verifies (fresh, unused
  nonce, right MAC), and refuses everything else with 403.

Every signed message carries a timestamp; receivers reject anything older
than :data:`MAX_SKEW_S` and every nonce they have already seen.

Example:
    >>> body = heartbeat("desk1", "pw-desk1", "sip:desk1@127.0.0.1:5071", True, "up", now=1000.0)
    >>> verify_message(body, {"desk1": "pw-desk1"}, now=1001.0)["station"]
    'desk1'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from typing import Any

from appliance.errors import ClinicBoxError

VERSION = 1
CONTENT_TYPE = "application/x-clinicbox-station+json"
AUTH_HEADER = "X-ClinicBox-Auth"
ANSWER_HEADER = "X-ClinicBox-Answer"  # "auto" (short tone) or "accepted" (agent pressed answer)
HEARTBEAT_S = 5.0
STALE_AFTER_S = 3 * HEARTBEAT_S + 1
MAX_SKEW_S = 30.0
MAX_BODY = 4096


class StationAuthError(ClinicBoxError):
    """A station message or INVITE token failed verification."""


def _mac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in data.items() if k != "mac"}, sort_keys=True, separators=(",", ":")).encode()


def _sign(data: dict[str, Any], secret: str) -> str:
    data["mac"] = _mac(secret, _canonical(data))
    return json.dumps(data, separators=(",", ":"))


def heartbeat(
    station: str,
    secret: str,
    contact: str,
    audio_ok: bool,
    state: str = "up",
    detail: str = "",
    now: float | None = None,
) -> str:
    """The body of a station's heartbeat MESSAGE."""
    data: dict[str, Any] = {
        "v": VERSION,
        "kind": "heartbeat",
        "station": station,
        "contact": contact,
        "state": state,
        "audio": bool(audio_ok),
        "detail": detail[:200],
        "ts": now if now is not None else time.time(),
        "nonce": secrets.token_hex(8),
    }
    return _sign(data, secret)


def command(station: str, secret: str, cmd: str, call_id: str = "", now: float | None = None) -> str:
    """The body of a core → station command MESSAGE (``ring``, ``stop-ring``)."""
    data: dict[str, Any] = {
        "v": VERSION,
        "kind": "command",
        "station": station,
        "cmd": cmd,
        "call_id": call_id,
        "ts": now if now is not None else time.time(),
        "nonce": secrets.token_hex(8),
    }
    return _sign(data, secret)


class NonceCache:
    """Nonces seen within the skew window; a replayed message is refused."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size

    def check_and_add(self, nonce: str, ts: float) -> None:
        if nonce in self._seen:
            raise StationAuthError("replayed message (nonce already used)")
        self._seen[nonce] = ts
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)


def verify_message(
    body: str, secrets_by_station: dict[str, str], now: float | None = None, nonces: NonceCache | None = None
) -> dict[str, Any]:
    """Check a heartbeat or command body; return it as a dict.

    Raises:
        StationAuthError: malformed, unknown station, stale, replayed or bad MAC.
    """
    if len(body) > MAX_BODY:
        raise StationAuthError("message too large")
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise StationAuthError("message is not JSON") from None
    if not isinstance(data, dict) or data.get("v") != VERSION or not isinstance(data.get("mac"), str):
        raise StationAuthError("not a ClinicBox station message")
    station = data.get("station")
    secret = secrets_by_station.get(station) if isinstance(station, str) else None
    if not secret:
        raise StationAuthError("unknown station")
    if not hmac.compare_digest(_mac(secret, _canonical(data)), data["mac"]):
        raise StationAuthError("bad signature (wrong station password?)")
    ts = data.get("ts")
    current = now if now is not None else time.time()
    if not isinstance(ts, int | float) or abs(current - ts) > MAX_SKEW_S:
        raise StationAuthError("stale message (clocks differ by more than 30 s?)")
    if nonces is not None:
        nonces.check_and_add(str(data.get("nonce", "")), float(ts))
    return data


def invite_token(station: str, secret: str, now: float | None = None) -> str:
    """The :data:`AUTH_HEADER` value the core puts on INVITEs to ``station``."""
    ts = int(now if now is not None else time.time())
    nonce = secrets.token_hex(8)
    return f"v1:{ts}:{nonce}:{_mac(secret, f'invite|{station}|{ts}|{nonce}'.encode())}"


def verify_invite_token(
    token: str, station: str, secret: str, now: float | None = None, nonces: NonceCache | None = None
) -> None:
    """Raises StationAuthError unless ``token`` is a fresh, unused, valid token."""
    parts = token.strip().split(":")
    if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdigit():
        raise StationAuthError("malformed station token")
    ts, nonce, mac = int(parts[1]), parts[2], parts[3]
    expected = _mac(secret, f"invite|{station}|{ts}|{nonce}".encode())
    if not hmac.compare_digest(expected, mac):
        raise StationAuthError("bad station token")
    current = now if now is not None else time.time()
    if abs(current - ts) > MAX_SKEW_S:
        raise StationAuthError("stale station token")
    if nonces is not None:
        nonces.check_and_add(nonce, ts)
