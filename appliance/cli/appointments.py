"""``clinicbox appointments list [--json] [--days N] [--names]``: upcoming visits with their source.

For technicians checking a feed: each appointment with its state (cancelled
ones included), where it came from (ui, csv, ics, hl7) and the source's own
IDs (the feed's name, placer and filler appointment IDs), from now to
``--days`` ahead (default 30). Patient names are masked unless ``--names``
is given; every listing is written to the audit log.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from appliance.cli import context
from appliance.errors import ValidationError
from appliance.privacy import mask_name
from appliance.store import appointments
from appliance.store.audit import AuditLog
from appliance.store.timefmt import to_db


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("appointments", help="upcoming appointments with their source and state")
    group = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = group.add_parser("list", help="appointments from now to --days ahead, every state")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--days", type=int, default=30, help="how many days ahead (default 30)")
    ls.add_argument("--names", action="store_true", help="show patients' names unmasked")
    ls.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 3660:
        raise ValidationError(f"--days {args.days}: give 1 to 3660 days")
    cfg = context.config(args)
    store = context.open_store(cfg)
    now = store.clock.now()
    with store.transaction() as conn:
        rows = appointments.listing(conn, now, now + timedelta(days=args.days))
        AuditLog(store).append(
            conn,
            context.actor(),
            "view",
            "appointments",
            "",
            f"{len(rows)} appointments, {args.days} days{' with names' if args.names else ''}",
        )
    out = [
        {
            "id": r.appointment.id,
            "starts_at": to_db(r.appointment.starts_at),
            "ends_at": to_db(r.appointment.ends_at),
            "state": r.appointment.status,
            "source": r.appointment.source,
            "feed": r.feed,
            "placer_id": r.placer_id,
            "filler_id": r.filler_id,
            "external_id": r.appointment.external_id or "",
            "patient": r.patient_name if args.names else mask_name(r.patient_name),
            "provider": r.appointment.provider,
            "location": r.appointment.location,
        }
        for r in rows
    ]
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    if not out:
        print(f"no appointments in the next {args.days} days")
    for d in out:
        ids = " ".join(f"{k}={d[k]}" for k in ("feed", "placer_id", "filler_id") if d[k]) or d["external_id"] or "-"
        print(f"{d['starts_at']}  {d['state']:<10} {d['source']:<5} {ids:<40} {d['patient']}")
    return 0
