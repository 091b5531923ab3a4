"""``clinicbox station`` and ``clinicbox gsm-gateway``: the PJSUA2 endpoints
that own a sound card (a headset, or the modem's USB audio) for the core.

udev starts ``clinicbox station --card <ALSA card id>`` when a headset
appears; a front-desk PC runs ``clinicbox station --station desk2 --core
sip:BOX:5060``. Both log to stderr (journald on the appliance).

A sound card no station can use (no ``audio_device`` claims it, the station
has no password, or the card cannot both record and play: a USB speaker)
exits with :data:`EXIT_NOT_CONFIGURED` (78, sysexits' EX_CONFIG) instead of
1: ``clinicbox-station@.service`` does not restart on it
(``RestartPreventExitStatus=78``), so such a card gives one failed unit with
the reason in its journal, not a restart loop.

A station never loads the secrets file: it reads its own password only
(:func:`appliance.config.secretfile.station_password`), so the trunk
password and the SIM PIN never reach its process.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from appliance.cli import context, setup_logging
from appliance.errors import ConfigError
from appliance.station.alsa import ASOUND

#: Exit code of a station nobody configured: its unit must not restart it.
EXIT_NOT_CONFIGURED = 78


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--core",
        metavar="URI",
        default="",
        help="the core's SIP address, sip:HOST:PORT (default: 127.0.0.1:edge.core_port with the SIP edge on,"
        " else sip.public_address or bind_address, and sip.port)",
    )
    p.add_argument(
        "--port", type=int, default=0, metavar="N", help="this station's SIP port (default 0: any free port)"
    )
    p.add_argument(
        "--bind",
        default="",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1 when the core is on this machine, else all)",
    )
    # Where ALSA's card list lives; tests point it at a folder they control.
    p.add_argument("--asound-root", default=str(ASOUND), help=argparse.SUPPRESS)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser(
        "station",
        help="run a headset station: the SIP endpoint of one headset (or a front-desk PC)",
        description="Run a headset station: heartbeats to the core, answers only the core's signed calls.",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--station", metavar="ID", help="the station's id in [stations]")
    who.add_argument(
        "--card",
        metavar="CARD",
        help="ALSA card id of the headset; the station is the one whose audio_device matches it",
    )
    _common(p)
    p.set_defaults(func=run_station, gateway=False)

    g = sub.add_parser(
        "gsm-gateway",
        help="run the GSM gateway: the SIP endpoint of the modem's USB audio",
        description="Run the GSM gateway: a station that always answers the core at once and owns the modem's audio.",
    )
    g.add_argument("--station", metavar="ID", default="gsm", help="its id in [stations] (default gsm)")
    g.add_argument(
        "--card",
        metavar="CARD",
        default="",
        help="ALSA card id of the modem's audio (default: stations.gsm.audio_device, else the modem found by USB vendor)",
    )
    _common(g)
    g.set_defaults(func=run_station, gateway=True)


def run_station(args: argparse.Namespace) -> int:
    from appliance.config import load_config, secretfile

    cfg = load_config(context.config_path(args), use_secrets=False)
    logging.getLogger().handlers.clear()
    setup_logging(args.verbose, cfg.logging.level)
    from appliance.station.agent import Station
    from appliance.station.alsa import NotAHeadset, read_cards
    from appliance.station.options import resolve

    root = Path(args.asound_root)
    try:
        opts = resolve(
            cfg,
            station=args.station or "",
            card=args.card or "",
            core=args.core,
            port=args.port,
            bind=args.bind,
            gateway=args.gateway,
            cards=read_cards(root),
            asound_root=root,
            password_of=lambda sid: secretfile.station_password(cfg.paths.secrets_file, sid),
        )
    except ConfigError as exc:
        print(f"clinicbox: error: {exc}", file=sys.stderr)
        return EXIT_NOT_CONFIGURED
    try:
        return Station(opts, context.clock_for(cfg)).run()
    except NotAHeadset as exc:
        print(f"clinicbox: error: {exc}", file=sys.stderr)
        return EXIT_NOT_CONFIGURED
