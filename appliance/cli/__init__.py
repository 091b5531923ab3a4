"""The ``clinicbox`` command.

Each command group lives in its own module here and exposes
``register(subparsers)``; add the module's name to :data:`COMMAND_MODULES`.
Exit codes: 0 success, 1 failure (a :class:`ClinicBoxError`, printed as
one clear message), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from appliance import __version__
from appliance.errors import ClinicBoxError

log = logging.getLogger("clinicbox")

#: Command modules under appliance.cli, in the order ``--help`` lists them.
COMMAND_MODULES = [
    "run",
    "demo",
    "db",
    "imports",
    "users",
    "setup",
    "audit",
    "doctor",
    "calls",
    "provision",
    "web",
    "modem",
    "station",
    "reminders",
    "edge",
    "appointments",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicbox",
        description="ClinicBox: the clinic's phone line, patient store and reminders on one box.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $CLINICBOX_CONFIG or /etc/clinicbox/clinicbox.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"clinicbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"appliance.cli.{name}").register(sub)
    return parser


def setup_logging(verbose: bool, level: str = "INFO") -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # APScheduler logs every job run at INFO; the reminder wake-up runs every few seconds.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    from appliance.cli.context import wire_config_checks

    wire_config_checks()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        setup_logging(args.verbose, "DEBUG" if args.verbose else "WARNING")
    try:
        return int(args.func(args) or 0)
    except ClinicBoxError as exc:
        print(f"clinicbox: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
