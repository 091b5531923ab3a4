"""The ``clinicbox`` command.

Each command group lives in its own module here and exposes
``register(subparsers)``; add the module's name to :data:`COMMAND_MODULES`.
Exit codes: 0 success, 1 failure (a :class:`ClinicBoxError`, printed as
one clear message), 2 usage error; ``clinicbox station`` also 78 (not
configured for this sound card: systemd does not restart it).
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import logging
import os
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


#: syslog priorities of the logging levels (journald reads a "<N>" line prefix).
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """Lines for systemd's journal: "<4>" and the like first, so a warning is a
    warning there (journald forwards warnings to the box's screen, among them
    the first start's setup code); the journal adds the time itself."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 4)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


def _stderr_is_journal() -> bool:
    """True when stderr is systemd's journal stream ($JOURNAL_STREAM names its device and inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stream == f"{st.st_dev}:{st.st_ino}"


def setup_logging(verbose: bool, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if _stderr_is_journal():
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO),
        handlers=[handler],
    )
    # APScheduler logs every job run at INFO; the reminder wake-up runs every few seconds.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    from appliance.cli.context import wire_config_checks

    wire_config_checks()
    # A crash in the C engine (PJSIP, SQLCipher) prints every thread's Python stack
    # to stderr (the journal): file and line only, never call or patient data.
    if not faulthandler.is_enabled():
        faulthandler.enable()
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
