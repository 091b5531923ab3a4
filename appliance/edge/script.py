"""The edge's kamailio.cfg, rendered from the box's config.

The routing script is a template shipped beside this module
(``kamailio/kamailio.cfg.in``) whose ``@NAME@`` fields are filled from
``[edge]``, ``[sip]``, ``[trunk]`` and ``[paths]``; ``kamailio/security.cfg``
(``route[SECURITY]``) is copied verbatim beside it and included. Every value
that lands in the script is checked first (numbers, networks, a realm of
safe characters), so a config can never inject Kamailio syntax; a refused
value raises :class:`~appliance.errors.EdgeError` naming the key.

Example:
    >>> from appliance.config import load_config
    >>> cfg = load_config(overrides={"edge": {"enabled": True}}, use_secrets=False)
    >>> text = render(cfg, resolve=lambda host: []).main
    >>> 'route(SECURITY);' in text and "127.0.0.1:5090" in text
    True
"""

from __future__ import annotations

import glob
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config
from appliance.errors import EdgeError

HERE = Path(__file__).resolve().parent / "kamailio"
TEMPLATE = HERE / "kamailio.cfg.in"
SECURITY = HERE / "security.cfg"
MAIN_NAME = "kamailio.cfg"
SECURITY_NAME = "security.cfg"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9/_.+-]+$")

Resolver = Callable[[str], list[str]]
#: The settings rendered into kamailio.cfg: the edge takes a change to one only when it starts again.
#: (edge.core_port too, but the core listens there: both restart for it.)
RENDERED = (
    "edge.kamailio",
    "edge.realm",
    "edge.lockout_tries",
    "edge.lockout_window_s",
    "edge.lockout_s",
    "edge.pike_requests",
    "edge.pike_window_s",
    "edge.pike_block_s",
    "edge.register_max_expires_s",
    "sip.port",
    "sip.bind_address",
    "sip.public_address",
    "sip.trusted_networks",
    "trunk.enabled",
    "trunk.registrar",
    "trunk.provider_networks",
    "edge.tls_port",
    "edge.tls_cert_file",
    "edge.tls_key_file",
    "paths.edge_state_dir",
)


def rendered_changed(old: Config, new: Config) -> list[str]:
    """Which of :data:`RENDERED` (and ``edge.core_port``, ``edge.enabled``, ``paths.edge_dir``) differ. Pure."""
    keys = [*RENDERED, "edge.core_port", "edge.enabled", "paths.edge_dir"]
    return [k for k in keys if _get(old, k) != _get(new, k)]


def _get(cfg: Config, key: str) -> object:
    section, name = key.split(".", 1)
    return getattr(getattr(cfg, section), name)


@dataclass(frozen=True)
class RenderedEdge:
    main: str
    security: str
    trusted: list[str]


def modules_dir() -> str:
    """Where Debian put kamailio's modules (the path names the architecture)."""
    found = sorted(glob.glob("/usr/lib/*/kamailio/modules")) or sorted(glob.glob("/usr/lib/kamailio/modules"))
    if not found:
        raise EdgeError("kamailio's modules are not installed (apt-get install kamailio); the SIP edge cannot start")
    return found[0] + "/"


def resolve_registrar(host: str) -> list[str]:
    """The provider's addresses by DNS (blocking; the edge renders before it starts)."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def registrar_host(registrar: str) -> str:
    rest = re.sub(r"^sips?:", "", registrar.strip(), flags=re.IGNORECASE).split(";")[0].split("@")[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def trusted_networks(cfg: Config, resolve: Resolver = resolve_registrar) -> list[str]:
    """Who may send the core calls through the edge: sip.trusted_networks and the provider.

    The provider is ``trunk.provider_networks``, else the registrar's
    address(es). A registrar name that does not resolve now is left out
    (the edge is rendered again at its next start).
    """
    items = list(cfg.sip.trusted_networks)
    if cfg.trunk.enabled:
        if cfg.trunk.provider_networks:
            items += cfg.trunk.provider_networks
        elif cfg.trunk.registrar:
            host = registrar_host(cfg.trunk.registrar)
            items += resolve(host) if host else []
    out: list[str] = []
    for item in items:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise EdgeError(f"sip.trusted_networks / trunk.provider_networks: {item!r} is not a network") from None
        if str(net) not in out:
            out.append(str(net))
    return out


def _listen(cfg: Config) -> str:
    try:
        address = ipaddress.ip_address(cfg.sip.bind_address)
    except ValueError:
        raise EdgeError(
            f"sip.bind_address: {cfg.sip.bind_address!r} is not an IP address; the edge listens on an address"
        ) from None
    host = f"[{address}]" if address.version == 6 else str(address)
    # On every address, Kamailio's socket would name itself 0.0.0.0 in Via and
    # Record-Route: a provider following that route sends the ACK and BYE
    # nowhere. It advertises the address it is reached at instead.
    advertised = advertised_host(cfg) if address.is_unspecified else ""
    shown = f"[{advertised}]" if ":" in advertised else advertised
    ports = [cfg.sip.port, *([cfg.edge.tls_port] if cfg.edge.tls_port else [])]
    protos = [
        ("udp", cfg.sip.port),
        ("tcp", cfg.sip.port),
        *([("tls", cfg.edge.tls_port)] if cfg.edge.tls_port else []),
    ]
    lines = [
        f"listen={proto}:{host}:{port}" + (f" advertise {shown}:{port}" if advertised else "") for proto, port in protos
    ]
    aliases = []
    for port in ports:
        if advertised:
            aliases.append(f'alias="{shown}:{port}"')
        if cfg.sip.public_address:
            try:
                public = ipaddress.ip_address(cfg.sip.public_address)
            except ValueError:
                raise EdgeError(f"sip.public_address: {cfg.sip.public_address!r} is not an IP address") from None
            aliases.append(f'alias="{public}:{port}"')
        if address.is_unspecified or str(address) != "127.0.0.1":
            aliases.append(f'alias="127.0.0.1:{port}"')
    return "\n".join([*lines, *dict.fromkeys(aliases)])


def tls_paths(cfg: Config) -> tuple[str, str]:
    """The certificate and key the edge's TLS listener uses (:mod:`.tls` makes the default pair). Pure."""
    edge = cfg.edge
    if edge.tls_cert_file:
        pair = [("edge.tls_cert_file", edge.tls_cert_file), ("edge.tls_key_file", edge.tls_key_file)]
    else:
        folder = f"{cfg.paths.edge_state_dir}/tls"
        pair = [("paths.edge_state_dir", f"{folder}/edge.crt"), ("paths.edge_state_dir", f"{folder}/edge.key")]
    for key, value in pair:
        if not _SAFE_PATH.match(value):
            raise EdgeError(f"{key}: {value!r}: use a file name of letters, digits, '/', '.', '-', '_'")
    return pair[0][1], pair[1][1]


def tcp_lifetime(cfg: Config) -> int:
    """Seconds an idle TCP/TLS connection from a desk phone stays open: its longest registration, plus a minute."""
    return cfg.edge.register_max_expires_s + 60


def _tls(cfg: Config) -> str:
    """The TLS module's lines (none without edge.tls_port): same routing as UDP and TCP."""
    if not cfg.edge.tls_port:
        return "# no TLS listener (edge.tls_port = 0)"
    cert, key = tls_paths(cfg)
    return "\n".join(
        [
            'loadmodule "tls.so"',
            'modparam("tls", "tls_method", "TLSv1.2+")',
            f'modparam("tls", "certificate", "{cert}")',
            f'modparam("tls", "private_key", "{key}")',
            # desk phones rarely carry client certificates; the digest authenticates them
            'modparam("tls", "verify_certificate", 0)',
            'modparam("tls", "require_certificate", 0)',
            f'modparam("tls", "connection_timeout", {tcp_lifetime(cfg)})',
        ]
    )


def advertised_host(cfg: Config) -> str:
    """The address the provider reaches the edge at: sip.public_address, else sip.bind_address,
    else (listening on every address) the one the box would send to the registrar from."""
    for value in (cfg.sip.public_address, cfg.sip.bind_address):
        try:
            if value and not ipaddress.ip_address(value).is_unspecified:
                return str(ipaddress.ip_address(value))
        except ValueError:
            continue
    host = registrar_host(cfg.trunk.registrar) if cfg.trunk.registrar else ""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host or "192.0.2.1", 5060))  # no packet is sent: only the route is looked up
            found = ipaddress.ip_address(s.getsockname()[0])
    except (OSError, ValueError):
        return "127.0.0.1"  # no network yet: the edge link restarts the edge once there is one
    return "127.0.0.1" if found.is_unspecified else str(found)


def render(cfg: Config, *, resolve: Resolver = resolve_registrar, modules: str | None = None) -> RenderedEdge:
    """The edge's two script files for ``cfg``.

    Raises:
        EdgeError: the edge is off, or a value cannot go into the script
            (the message names the key and what to do).
    """
    edge = cfg.edge
    if not edge.enabled:
        raise EdgeError("the SIP edge is off (edge.enabled = false); the core listens on sip.port itself")
    if edge.core_port == cfg.sip.port:
        raise EdgeError(f"edge.core_port: must differ from sip.port ({cfg.sip.port}): the edge listens there")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", edge.realm):
        raise EdgeError(f"edge.realm: {edge.realm!r} is not a digest realm; use letters, digits, '.', '-' or '_'")
    edge_dir = str(cfg.paths.edge_dir)
    if not _SAFE_PATH.match(edge_dir):
        raise EdgeError(f"paths.edge_dir: {edge_dir!r}: use a folder name of letters, digits, '/', '.', '-', '_'")
    state_dir = str(cfg.paths.edge_state_dir)
    if not _SAFE_PATH.match(state_dir):
        raise EdgeError(
            f"paths.edge_state_dir: {state_dir!r}: use a folder name of letters, digits, '/', '.', '-', '_'"
        )
    trusted = trusted_networks(cfg, resolve)
    fields = {
        "RENDERED_FROM": "clinicbox edge",
        "LISTEN": _listen(cfg),
        # An empty list would make is_in_subnet fail to parse; an address no packet has trusts nobody.
        "TRUSTED": ",".join(trusted) or "255.255.255.255/32",
        "CORE_PORT": str(edge.core_port),
        "REALM": edge.realm,
        "LOCKOUT_TRIES": str(edge.lockout_tries),
        "LOCKOUT_WINDOW": str(edge.lockout_window_s),
        "LOCKOUT_S": str(edge.lockout_s),
        "PIKE_REQUESTS": str(edge.pike_requests),
        "PIKE_WINDOW": str(edge.pike_window_s),
        "PIKE_BLOCK": str(edge.pike_block_s),
        "MAX_EXPIRES": str(edge.register_max_expires_s),
        "TCP_LIFETIME": str(tcp_lifetime(cfg)),
        "EDGE_DIR": edge_dir,
        "STATE_DIR": state_dir,
        "EDGE_HOST": advertised_host(cfg),
        "SIP_PORT": str(cfg.sip.port),
        "MODULES": modules if modules is not None else modules_dir(),
        "ENABLE_TLS": "yes" if edge.tls_port else "no",
        "TLS": _tls(cfg),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in fields.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise EdgeError(f"the edge template has unfilled fields {sorted(set(left))}; reinstall ClinicBox")
    return RenderedEdge(main=text, security=SECURITY.read_text(encoding="utf-8"), trusted=trusted)


def write(cfg: Config, folder: Path, rendered: RenderedEdge) -> Path:
    """Write both files into ``folder`` (the edge's own runtime folder); returns the main file."""
    folder.mkdir(parents=True, exist_ok=True)
    main = folder / MAIN_NAME
    for path, text in ((main, rendered.main), (folder / SECURITY_NAME, rendered.security)):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return main
