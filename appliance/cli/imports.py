"""``clinicbox import patients|appointments FILE``: CSV (or iCalendar) import with a per-row report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.cli import context
from appliance.reminders.ics import IcsImporter, looks_like_ics
from appliance.store.importer import read_file


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("import", help="import patients or appointments from CSV (appointments also from .ics)")
    p.add_argument("kind", choices=("patients", "appointments"))
    p.add_argument(
        "file",
        metavar="FILE",
        help="CSV file, UTF-8 (BOM optional), comma or semicolon separated; appointments may be an iCalendar .ics",
    )
    p.add_argument("--skip-bad", action="store_true", help="import the good rows even if some are bad")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    repos = context.repos(cfg, context.open_store(cfg))
    data = read_file(Path(args.file))
    importer = repos.importer.patients if args.kind == "patients" else repos.importer.appointments
    if args.kind == "appointments" and (Path(args.file).suffix.lower() == ".ics" or looks_like_ics(data)):
        importer = IcsImporter(repos).run
    report = importer(data, context.actor(), skip_bad=args.skip_bad)
    print(report.summary())
    for line, reason in report.errors:
        print(f"  line {line}: {reason}", file=sys.stderr)
    return 0
