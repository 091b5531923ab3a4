"""``clinicbox doctor [--json]``: print every self-test with OK/WARN/FAIL and a fix."""

from __future__ import annotations

import argparse
import json

from appliance.config import load_config
from appliance.config.loader import config_path_from_env
from appliance.doctor import Context, Result, fail, run_checks
from appliance.doctor.data_partition import data_partition_fault
from appliance.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("doctor", help="self-test: each check with OK/WARN/FAIL and how to fix it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = config_path_from_env(args.config)
    fault = data_partition_fault()
    results = [fault] if fault is not None else []
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        results += [fail("configuration", str(exc), f"fix {path} (see defaults.toml for every key)")]
    else:
        results += [Result("configuration", "OK", f"{path} is valid")]
        results += run_checks(Context(cfg))
    if args.json:
        print(
            json.dumps(
                {
                    "ok": all(r.status != "FAIL" for r in results),
                    "checks": [r.as_dict() for r in results],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"{r.status:<4}  {r.name:<{width}}  {r.detail}")
            if r.fix and r.status != "OK":
                print(f"{'':<4}  {'':<{width}}  fix: {r.fix}")
    return 1 if any(r.status == "FAIL" for r in results) else 0
