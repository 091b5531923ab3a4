"""``clinicbox calls [--json] [--limit N]``: the call log, newest first.

For technicians and scripts. Caller numbers are shown masked unless
``--numbers`` is given (and that listing is written to the audit log).
"""

from __future__ import annotations

import argparse
import json

from appliance.cli import context
from appliance.privacy import mask_phone
from appliance.store import calls
from appliance.store.audit import AuditLog


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("calls", help="the call log, newest first")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--numbers", action="store_true", help="show full phone numbers (audited)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg)
    records = calls.recent(store, max(1, min(args.limit, 10000)))
    if args.numbers:
        AuditLog(store).record(context.actor(), "view", "call-log", "", f"{len(records)} calls with numbers")
    rows = []
    for r in records:
        data = r.as_dict()
        if not args.numbers:
            data["caller"] = mask_phone(r.caller) if r.caller.startswith("+") else r.caller
            data["callee"] = mask_phone(r.callee) if r.callee.startswith("+") else r.callee
        rows.append(data)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for d in rows:
        print(
            f"{d['started_at']}  {d['direction']:<8} {d['caller']:<16} {d['disposition'] or '-':<11} "
            f"{d['queue'] or '-':<12} {d['agent'] or '-'}"
        )
    return 0
