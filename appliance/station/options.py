"""Who a station is and where its core is, from the config and the command line. Pure.

``clinicbox station --card Headset`` (what udev's unit runs) names a sound
card, not a station: the station is the one whose ``audio_device`` pattern
claims that card. A station refuses to start without its password: an
unauthenticated station would be one the core cannot trust and one that
anybody could ring.

Example:
    >>> from appliance.config import load_config
    >>> cfg = load_config(overrides={"stations": {"desk1": {"password": "pw"}}}, use_secrets=False)
    >>> resolve(cfg, station="desk1").core_uri
    'sip:127.0.0.1:5060'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config
from appliance.config.telephony import SipSettings
from appliance.errors import ConfigError, StationError
from appliance.sip import host_port
from appliance.station.alsa import ASOUND, AlsaCard, station_for_card

GATEWAY_STATION = "gsm"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class StationOptions:
    station: str
    password: str
    core_uri: str
    bind: str
    port: int
    card: str = ""  # the ALSA card id udev named ("" = none)
    pattern: str = ""  # stations.<id>.audio_device
    gateway: bool = False
    simulate: bool = False
    sip_trace: bool = False
    user_agent: str = "ClinicBox"
    asound_root: Path = ASOUND


def default_core_uri(sip: SipSettings) -> str:
    """The core's SIP address as a station on the same box reaches it."""
    host = sip.public_address or sip.bind_address
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"sip:{host}:{sip.port}"


def resolve(
    cfg: Config,
    *,
    station: str = "",
    card: str = "",
    core: str = "",
    port: int = 0,
    bind: str = "",
    gateway: bool = False,
    cards: Sequence[AlsaCard] = (),
    asound_root: Path = ASOUND,
    password_of: Callable[[str], str] | None = None,
) -> StationOptions:
    """The options a station (or the GSM gateway) runs with.

    Args:
        password_of: the station's password by its id (``clinicbox station``
            reads the station's own file); default: ``cfg``'s value.

    Raises:
        ConfigError: unknown station, no station claims the card, no password.
        StationError: a bad ``--core`` URI or port.
    """
    if gateway:
        sid = station or GATEWAY_STATION
    elif station:
        sid = station
    elif card:
        sid = station_for_card(card, {k: v.audio_device for k, v in cfg.stations.items()}, cards)
    else:
        raise StationError("say which station this is: --station ID, or --card CARD (the headset's ALSA card)")
    settings = cfg.stations.get(sid)
    password = settings.password if settings is not None else ""
    if settings is not None and password_of is not None:
        password = password_of(sid) or password
    if settings is None:
        if gateway:
            raise ConfigError(
                [
                    f"stations.{sid}.password: the GSM gateway needs its own station password; "
                    f'add [stations.{sid}] with password = "..." to the secrets file ({cfg.paths.secrets_file})'
                ]
            )
        known = ", ".join(sorted(cfg.stations)) or "none configured"
        raise ConfigError([f"stations.{sid}: no such station; known: {known}"])
    if not password:
        raise ConfigError(
            [
                f"stations.{sid}.password: not set; a manager sets it in the web UI (Settings > Secrets),"
                f" or put it in the secrets file ({cfg.paths.secrets_file})"
            ]
        )
    # With the SIP edge on, sip.port is Kamailio's, which refuses MESSAGE (the
    # stations' heartbeats): a station on the box talks to the core behind it.
    local = f"sip:127.0.0.1:{cfg.edge.core_port}" if cfg.edge.enabled else default_core_uri(cfg.sip)
    core_uri = core or local
    try:
        core_host, _ = host_port(core_uri)
    except ValueError as exc:
        raise StationError(f"--core: {exc}; use sip:HOST:PORT, e.g. sip:127.0.0.1:5060") from None
    if not 0 <= port <= 65535:
        raise StationError(f"--port {port}: a SIP port is 1-65535, or 0 for any free port")
    if not bind:
        bind = "127.0.0.1" if core_host in _LOOPBACK else "0.0.0.0"
    return StationOptions(
        station=sid,
        password=password,
        core_uri=core_uri,
        bind=bind,
        port=port,
        card=card,
        pattern=settings.audio_device,
        gateway=gateway,
        simulate=cfg.simulate,
        sip_trace=cfg.logging.sip_trace,
        user_agent=cfg.sip.user_agent,  # not the station id: a scanner learns nothing
        asound_root=asound_root,
    )
