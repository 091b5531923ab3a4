"""``clinicbox run``: the core (switchboard, scheduler, modem, panel, control socket)."""

from __future__ import annotations

import argparse

from appliance.app import Core
from appliance.cli import context, setup_logging


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("run", help="run the core: the phone line, reminders, modem, LEDs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    import logging

    logging.getLogger().handlers.clear()
    setup_logging(args.verbose, cfg.logging.level)
    return Core(cfg, context.config_path(args)).run()
