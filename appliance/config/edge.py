"""Config section for the SIP edge: Kamailio in front of the core.

With ``edge.enabled`` the edge listens on ``sip.bind_address:sip.port``
(UDP and TCP) and the core's PJSUA2 moves behind it to
``127.0.0.1:edge.core_port``. Desk phones register at the edge with
digest credentials per station; scanners meet pike and the ACL there and
never reach PJSUA2. See :mod:`appliance.edge`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

#: What a station id must look like to be a SIP user name at the edge (and a db_text key).
STATION_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class EdgeSettings:
    enabled: bool = setting(
        doc="Run the SIP edge (Kamailio) on sip.port in front of the core; the core listens on 127.0.0.1:core_port."
    )
    core_port: int = setting(doc="The core's SIP port on 127.0.0.1 behind the edge.", min=1, max=65535)
    kamailio: str = setting(doc="The kamailio program.")
    realm: str = setting(doc="Digest realm desk phones authenticate in.")
    lockout_tries: int = setting(
        doc="Wrong passwords from one address within lockout_window_s before it is locked out.", min=1, max=100
    )
    lockout_window_s: int = setting(doc="Window in which wrong passwords are counted.", min=10, max=86400)
    lockout_s: int = setting(doc="How long a locked-out address is refused.", min=10, max=86400)
    pike_requests: int = setting(
        doc="Requests from one untrusted address per pike_window_s before pike blocks it.", min=2, max=10000
    )
    pike_window_s: int = setting(doc="Pike's sampling interval.", min=1, max=60)
    pike_block_s: int = setting(doc="How long pike keeps blocking a flooding address.", min=10, max=3600)
    register_max_expires_s: int = setting(doc="Longest registration a desk phone gets.", min=60, max=86400)
    poll_interval_s: float = setting(
        doc="How often the core asks the edge which phones are registered.", min=0.2, max=60
    )
    tls_port: int = setting(doc="The edge's SIP over TLS port for desk phones; 0 = none.", min=0, max=65535)
    tls_cert_file: str = setting(
        doc="Certificate (PEM) of the edge's TLS listener; empty = a self-signed one in paths.edge_state_dir/tls."
    )
    tls_key_file: str = setting(doc="Private key (PEM, unencrypted) of edge.tls_cert_file; empty with it.")


def edge_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """Rules that span [edge], [sip] and [stations] (only when the edge runs)."""
    edge = cfg.edge
    if not edge.enabled:
        return
    if edge.core_port == cfg.sip.port:
        yield "edge.core_port", f"must differ from sip.port ({cfg.sip.port}): the edge listens there"
    if cfg.sip.tls and edge.core_port == cfg.sip.tls_port:
        yield "edge.core_port", f"must differ from sip.tls_port ({cfg.sip.tls_port})"
    if edge.tls_port and edge.tls_port in (cfg.sip.port, edge.core_port):
        yield "edge.tls_port", f"{edge.tls_port}: must differ from sip.port and edge.core_port"
    if edge.tls_port and cfg.sip.tls and edge.tls_port == cfg.sip.tls_port:
        yield "edge.tls_port", f"{edge.tls_port}: sip.tls_port, where the core itself listens for a TLS trunk"
    if bool(edge.tls_cert_file) != bool(edge.tls_key_file):
        yield "edge.tls_key_file", "give both edge.tls_cert_file and edge.tls_key_file, or neither (self-signed)"
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", edge.realm):
        yield "edge.realm", f"{edge.realm!r}: letters, digits, '.', '-' or '_' (a digest realm, e.g. 'clinicbox')"
    for sid in cfg.stations:
        if not STATION_USER.match(sid):
            yield (
                f"stations.{sid}",
                "a station id is a desk phone's SIP user name at the edge: letters, digits, '.', '-' or '_'",
            )
