"""What a station accepts from the network, and its ring state. Pure.

A station answers calls without a human touching anything, so anything
that reaches its SIP port could put a caller into a headset. The guard lets
through only what the core signed (protocol v1): INVITEs carrying a fresh,
unused token for this station, and ``ring`` / ``stop-ring`` commands. Time
comes from an injected :class:`~appliance.clock.Clock`.

Example:
    >>> from appliance.clock import FakeClock
    >>> from appliance.station.protocol import invite_token
    >>> clock = FakeClock()
    >>> guard = StationGuard("desk1", "pw", clock)
    >>> token = invite_token("desk1", "pw", now=clock.now().timestamp())
    >>> msg = f"INVITE sip:desk1@h SIP/2.0\\r\\nX-ClinicBox-Auth: {token}\\r\\n\\r\\n"
    >>> guard.check_invite(msg).accept
    True
    >>> guard.check_invite(msg).code   # the same token again: a replay
    403
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.clock import Clock
from appliance.errors import StationError
from appliance.sip import header, uri_user
from appliance.station import protocol

COMMANDS = ("ring", "stop-ring")
#: A ring the core never stopped (core restarted mid-ring) falls silent after this.
RING_MAX_S = 90.0


@dataclass(frozen=True)
class InviteDecision:
    accept: bool
    code: int  # 200 to answer, else the refusal
    reason: str
    mode: str = ""  # "auto" (short tone first), "accepted", or "gateway"
    caller: str = ""  # the From user part (a phone number: log it masked)


@dataclass(frozen=True)
class Command:
    cmd: str
    call_id: str


class StationGuard:
    """Verifies the core's INVITEs and commands for one station.

    Args:
        station: this station's id.
        secret: its password (``stations.<id>.password``).
        clock: the time source for freshness checks.
        gateway: the GSM gateway always answers at once, without a tone.
    """

    def __init__(self, station: str, secret: str, clock: Clock, *, gateway: bool = False) -> None:
        if not secret:
            raise StationError(f"station {station!r} has no password; set stations.{station}.password")
        self.station = station
        self._secret = secret
        self._clock = clock
        self._gateway = gateway
        self._invite_nonces = protocol.NonceCache()
        self._command_nonces = protocol.NonceCache()

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def check_invite(self, whole_msg: str, busy: bool = False) -> InviteDecision:
        """Decide on an incoming INVITE from its full text."""
        token = header(whole_msg, protocol.AUTH_HEADER)
        caller = uri_user(header(whole_msg, "From"))
        if not token:
            return InviteDecision(False, 403, "no station token", caller=caller)
        try:
            protocol.verify_invite_token(token, self.station, self._secret, self._now(), self._invite_nonces)
        except protocol.StationAuthError as exc:
            return InviteDecision(False, 403, str(exc), caller=caller)
        if busy:
            return InviteDecision(False, 486, "already on a call", caller=caller)
        if self._gateway:
            mode = "gateway"
        else:
            mode = "auto" if header(whole_msg, protocol.ANSWER_HEADER).strip().lower() == "auto" else "accepted"
        return InviteDecision(True, 200, "valid token", mode, caller)

    def check_command(self, body: str, content_type: str) -> Command:
        """A verified command from the core.

        Raises:
            StationAuthError: not a signed, fresh, unused command for this station.
        """
        if content_type.split(";", 1)[0].strip().lower() != protocol.CONTENT_TYPE:
            raise protocol.StationAuthError(f"not a station message (Content-Type {content_type or 'none'})")
        data = protocol.verify_message(body, {self.station: self._secret}, self._now(), self._command_nonces)
        if data.get("kind") != "command" or data.get("station") != self.station:
            raise protocol.StationAuthError("not a command for this station")
        cmd = data.get("cmd")
        if cmd not in COMMANDS:
            raise protocol.StationAuthError(f"unknown command {cmd!r}; known: {', '.join(COMMANDS)}")
        return Command(str(cmd), str(data.get("call_id", "")))

    def heartbeat(self, contact: str, audio_ok: bool, state: str, detail: str) -> str:
        return protocol.heartbeat(self.station, self._secret, contact, audio_ok, state, detail, now=self._now())


class Ringer:
    """Whether the headset should ring: on ``ring``, off on ``stop-ring``, an
    answered call, or after :data:`RING_MAX_S` without news from the core."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.call_id = ""
        self._since: float | None = None

    @property
    def ringing(self) -> bool:
        return self._since is not None

    def ring(self, call_id: str) -> bool:
        """Start (or keep) ringing; True when this started the ring."""
        started = self._since is None
        self.call_id = call_id
        self._since = self._clock.monotonic()
        return started

    def stop(self, call_id: str = "") -> bool:
        """Stop ringing (for ``call_id`` if given); True when it was ringing."""
        if self._since is None or (call_id and self.call_id and call_id != self.call_id):
            return False
        self._since = None
        self.call_id = ""
        return True

    def expired(self) -> bool:
        """True once (and stops) when the ring has gone on too long."""
        if self._since is not None and self._clock.monotonic() - self._since > RING_MAX_S:
            self.stop()
            return True
        return False
