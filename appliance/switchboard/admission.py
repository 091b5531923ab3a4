"""Who may send the box a call, and how often a stranger is answered. Pure.

Only the provider's addresses and the configured trusted networks
(stations, the GSM gateway) may place calls through the box; everyone else
gets 403 — and past a few attempts a minute, not even a log line or a CDR,
so a scanner hammering the port cannot fill the disk.

When ``trunk.provider_networks`` is empty the provider is whatever the
registrar's name resolves to. Resolving is DNS, which can block for seconds
and fails while the internet is down (an offline boot), so it never happens
here or on the PJSUA2 thread: :class:`~appliance.switchboard.provider.ProviderResolver`
resolves :meth:`Admission.resolve_target` in the background — at start, after
each successful trunk registration, periodically and after a config reload —
and hands the answer to :meth:`Admission.set_resolved` on the loop thread.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from appliance.errors import SwitchboardError
from appliance.sip import SipMessage, parse_name_addr

log = logging.getLogger(__name__)
#: What PJSUA answers an INVITE over its call cap (pjsua_call.c): the one refusal that is a busy caller.
BUSY = 486

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], list[Network]]


def _networks(items: list[str]) -> list[Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def registrar_host(registrar: str) -> str:
    """The host of a registrar URI: 'sip:provider.example:5080;transport=tls' → 'provider.example'."""
    rest = re.sub(r"^sips?:", "", registrar.strip(), flags=re.IGNORECASE).split(";")[0].split("@")[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def literal_network(host: str) -> Network | None:
    """``host`` as a one-address network when it is an IP literal, else None (a name)."""
    try:
        return ipaddress.ip_network(host)
    except ValueError:
        return None


def resolve_host(host: str) -> list[Network]:
    """The addresses of ``host`` (blocking DNS: call it off the PJSUA2 thread).

    Raises:
        SwitchboardError: the name does not resolve (no internet, no DNS, a typo).
    """
    literal = literal_network(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise SwitchboardError(
            f"cannot resolve the trunk registrar {host!r} ({exc}); calls from the provider are refused until it"
            " resolves — check the internet link and DNS, or set trunk.provider_networks"
        ) from exc
    networks = list(dict.fromkeys(ipaddress.ip_network(str(info[4][0])) for info in infos))
    if not networks:
        raise SwitchboardError(f"the trunk registrar {host!r} resolves to no address; check trunk.registrar")
    return networks


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    kind: str  # provider, trusted, refused
    log: bool  # worth a log line and a CDR (rate-limited for strangers)


class Admission:
    """The admission rules (used on the PJSUA2 thread; never blocks)."""

    def __init__(self, provider: list[str], trusted: list[str], registrar: str, limit_per_min: int) -> None:
        self._buckets: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self.registrar_host = ""
        self.resolved: list[Network] = []  # the registrar's addresses, last successful resolution
        self.configured: list[Network] = []
        self.trusted: list[Network] = []
        self.limit = limit_per_min
        self.reconfigure(provider, trusted, registrar, limit_per_min)

    def reconfigure(self, provider: list[str], trusted: list[str], registrar: str, limit_per_min: int) -> None:
        """Apply a (re)loaded config. A changed registrar forgets the old one's addresses."""
        host = registrar_host(registrar)
        if host != self.registrar_host:
            self.resolved = []
        self.registrar_host = host
        literal = literal_network(host) if host else None
        if literal is not None:
            self.resolved = [literal]
        self.configured = _networks(provider)
        self.trusted = _networks(trusted)
        self.limit = limit_per_min

    @property
    def provider(self) -> list[Network]:
        return self.configured or self.resolved

    def resolve_target(self) -> str:
        """The registrar name the resolver should look up; '' when nothing needs DNS.

        Read from the resolver's thread: it only reads two attributes the
        loop thread replaces whole, so no lock is needed.
        """
        host = self.registrar_host
        if self.configured or not host or literal_network(host) is not None:
            return ""
        return host

    def set_resolved(self, host: str, networks: list[Network]) -> bool:
        """Take a resolution of ``host`` (loop thread); stale answers for an old registrar are dropped.

        Returns whether the provider's addresses changed.
        """
        if host != self.registrar_host or not networks:
            return False
        changed = set(networks) != set(self.resolved)
        self.resolved = list(networks)
        if changed:
            log.info("the provider %s is at %s", host, ", ".join(str(n.network_address) for n in networks))
        return changed

    @staticmethod
    def host_of(source: str) -> str:
        """'127.0.0.1:5080' or '[::1]:5080' → the address."""
        if source.startswith("["):
            return source[1:].split("]", 1)[0]
        return source.rsplit(":", 1)[0] if source.count(":") == 1 else source

    def check(self, source: str, now: float) -> Verdict:
        host = self.host_of(source)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return Verdict(False, "refused", self._count(host, now))
        if any(address in net for net in self.provider):
            return Verdict(True, "provider", True)
        if any(address in net for net in self.trusted):
            return Verdict(True, "trusted", True)
        return Verdict(False, "refused", self._count(host, now))

    def garbage(self, source: str, code: int, request: SipMessage | None) -> bool:
        """Whether an INVITE PJSUA refused by itself was garbage, not a busy caller.

        PJSUA answers 486 over its call cap *before* it reads the request
        (with a free line it would refuse a broken one with 400): so only a
        sound INVITE refused with 486 is a caller. Anything else leaves no
        call-log row and no callback; one line with the source address only
        (rate-limited like refused strangers).
        """
        why = f"answered {code}" if code != BUSY else unsound_invite(request)
        if not why:
            return False
        host = self.host_of(source)
        if self._count(host, time.monotonic()):
            log.warning("refused a malformed INVITE from %s (%s): not a call", host, why)
        return True

    def _count(self, host: str, now: float) -> bool:
        start, count = self._buckets.get(host, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        count += 1
        self._buckets[host] = (start, count)
        self._buckets.move_to_end(host)
        while len(self._buckets) > 4096:
            self._buckets.popitem(last=False)
        return count <= self.limit


def unsound_invite(request: SipMessage | None) -> str:
    """What makes ``request`` an INVITE PJSIP would refuse for its syntax (RFC 3261 §8.1.1), or ''. Pure."""
    if request is None:
        return "unreadable"
    if request.method != "INVITE":
        return "not an INVITE"
    for name in ("call-id", "from", "to", "cseq"):
        if len(request.all(name)) != 1:
            return f"{len(request.all(name))} {name} headers"
    if not request.all("via"):
        return "no via"
    cseq = request.header("cseq").split()
    if len(cseq) != 2 or not cseq[0].isdigit() or cseq[1] != "INVITE":
        return "bad cseq"
    try:
        parse_name_addr(request.header("from"))
        parse_name_addr(request.header("to"))
    except ValueError:
        return "bad from/to"
    return ""
