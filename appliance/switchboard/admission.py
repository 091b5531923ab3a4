"""Who may send the box a call, and how often a stranger is answered. Pure.

Only the provider's addresses and the configured trusted networks
(stations, the GSM gateway) may place calls through the box; everyone else
gets 403 — and past a few attempts a minute, not even a log line or a CDR,
so a scanner hammering the port cannot fill the disk.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import OrderedDict
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(items: list[str]) -> list[Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def registrar_networks(registrar: str) -> list[Network]:
    """The provider's address from its registrar URI (resolved once)."""
    host = registrar.split(":", 1)[-1].split(";")[0].split("@")[-1]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.strip("[]")
    if not host:
        return []
    try:
        return [ipaddress.ip_network(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return []
    return [ipaddress.ip_network(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    kind: str  # provider, trusted, refused
    log: bool  # worth a log line and a CDR (rate-limited for strangers)


class Admission:
    def __init__(self, provider: list[str], trusted: list[str], registrar: str, limit_per_min: int) -> None:
        self.provider = _networks(provider) or registrar_networks(registrar)
        self.trusted = _networks(trusted)
        self.limit = limit_per_min
        self._buckets: OrderedDict[str, tuple[float, int]] = OrderedDict()

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
