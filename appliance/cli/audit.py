"""``clinicbox audit verify|list``: the hash-chained access log."""

from __future__ import annotations

import argparse

from appliance.cli import context
from appliance.store.audit import AuditLog


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    a = sub.add_parser("audit", help="the audit log: verify the chain, list entries")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = asub.add_parser("verify", help="detect edited or deleted audit rows")
    p.set_defaults(func=cmd_verify)
    p = asub.add_parser("list", help="newest entries first")
    p.add_argument("--actor")
    p.add_argument("--action")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)


def cmd_verify(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    report = AuditLog(context.open_store(cfg)).verify()
    print(report)
    return 0 if report.ok else 1


def cmd_list(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    for e in AuditLog(context.open_store(cfg)).search(actor=args.actor, action=args.action, limit=args.limit):
        print(f"{e.id:>7} {e.at} {e.actor:<20} {e.action:<14} {e.object_type}:{e.object_id} {e.detail}")
    return 0
