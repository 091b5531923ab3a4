"""``clinicbox reminders [--json]``, ``reminders pause|resume``, ``reminders plan``.

The listing (upcoming reminders, recent attempts with outcomes, what the
running core's dispatcher is waiting for) is for technicians and scripts:
ids, times and outcomes, never names or numbers; reading it is audited.
Pause and resume go to the running core over the control socket, which
stops or restarts dispatching at once (and remembers it across restarts).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from appliance.cli import context
from appliance.clock import SystemClock
from appliance.control.client import ControlClient
from appliance.errors import ControlError, ReminderError
from appliance.reminders import report
from appliance.reminders.replanning import ReminderPlanner
from appliance.reminders.service import PAUSED_KEY, read_status
from appliance.store.audit import AuditLog
from appliance.store.settings import RuntimeSettings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("reminders", help="upcoming reminders and recent attempts; pause, resume, plan")
    p.add_argument(
        "action",
        nargs="?",
        choices=("list", "pause", "resume", "plan"),
        default="list",
        help="list (default); pause or resume dispatching in the running core; plan = re-plan now",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=50, help="rows per list (default 50)")
    p.add_argument("--days", type=int, default=7, help="attempts of the last DAYS days (default 7)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    if args.action in ("pause", "resume"):
        return _pause(cfg, args.action == "pause", args.json)
    store = context.open_store(cfg)
    clock = context.clock_for(cfg)
    if args.action == "plan":
        return _plan(cfg, store, clock, args.json)
    data = report.build(store, clock.now(), context.actor(), limit=max(1, min(args.limit, 10000)), days=args.days)
    core = read_status(cfg.paths.run_dir)
    paused = bool(RuntimeSettings(store, AuditLog(store)).get(PAUSED_KEY, False))
    out: dict[str, Any] = {"enabled": cfg.reminders.enabled, "paused": paused, "core": core, **data.as_dict()}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    state = "disabled" if not cfg.reminders.enabled else ("paused" if paused else "active")
    running = f"core: {core['blocked'] or 'dispatching'}" if core else "core: not running"
    print(f"reminders {state}; {running}; " + ", ".join(f"{k} {v}" for k, v in sorted(data.counts.items())))
    print(f"\nupcoming ({len(data.upcoming)}):")
    for u in data.upcoming:
        print(
            f"  #{u.reminder_id:<6} visit {u.appointment_at}  {u.channel:<5} {u.status:<7} next {u.next_attempt_at}"
            f"  tries {u.attempts}"
        )
    print(f"\nattempts, last {args.days} days ({len(data.recent)}):")
    for a in data.recent:
        print(
            f"  {a.started_at}  #{a.reminder_id:<6} {a.channel:<5} via {a.route:<5} {a.state:<11} "
            f"{a.outcome or '-':<14} {a.detail}"
        )
    return 0


def _pause(cfg: Any, paused: bool, as_json: bool) -> int:
    try:
        result = ControlClient(cfg.control_socket).call("reminders.pause" if paused else "reminders.resume")
    except ControlError as exc:
        raise ControlError(f"{exc}; nothing was changed (start the core, then try again)") from None
    if as_json:
        print(json.dumps(result))
    else:
        print("reminders paused" if paused else "reminders resumed")
    return 0


def _plan(cfg: Any, store: Any, clock: SystemClock, as_json: bool) -> int:
    if not clock.sync_state().trusted:
        raise ReminderError(f"the clock is not trusted ({clock.sync_state().detail}); nothing was planned")
    result = ReminderPlanner(cfg, clock).plan_horizon(store)
    AuditLog(store).record(context.actor(), "plan", "reminders", "", str(result))
    print(json.dumps(result.__dict__) if as_json else str(result))
    return 0
