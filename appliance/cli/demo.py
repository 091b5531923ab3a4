"""``clinicbox demo``: seed (if needed) and run the demo clinic with simulated hardware."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.demo.seed import seed
from appliance.demo.supervisor import Child, Supervisor


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("demo", help="run the demo clinic (simulated hardware, demo patients)")
    p.add_argument(
        "--dir",
        default="var/demo",
        metavar="DIR",
        help="the demo clinic's folder (default var/demo)",
    )
    p.add_argument("--seed-only", metavar="DIR", help="write a complete demo clinic into DIR and exit")
    p.add_argument("--no-traffic", action="store_true", help="do not start the demo call generator")
    p.add_argument("--web-port", type=int, default=8080)
    p.add_argument("--sip-port", type=int, default=5060)
    p.add_argument("--no-edge", action="store_true", help="seed a demo whose core listens on --sip-port itself")
    p.set_defaults(func=run)


def demo_children(config: Path, traffic: bool) -> list[Child]:
    """The demo box's processes: the same programs the appliance runs under systemd
    (core, web UI, one station per headset, the GSM gateway), plus the traffic
    generator playing callers and agents unless switched off."""
    from appliance.config import load_config

    cfg = load_config(config)
    exe = [sys.executable, "-m", "appliance", "--config", str(config)]
    children = [Child("core", [*exe, "run"]), Child("web", [*exe, "web"])]
    if cfg.edge.enabled:  # the SIP edge in front of the core, as clinicbox-edge.service on the box
        children.insert(1, Child("edge", [*exe, "edge"]))
    for sid, st in cfg.stations.items():
        if sid == "gsm":
            children.append(Child("gsm-gateway", [*exe, "gsm-gateway"]))
        elif not st.contact:
            children.append(Child(f"station-{sid}", [*exe, "station", "--station", sid]))
    if traffic:
        children.append(
            Child("traffic", [sys.executable, "-m", "appliance.demo.traffic", "--config", str(config), "--no-stations"])
        )
    return children


def run(args: argparse.Namespace) -> int:
    if args.seed_only:
        result = seed(Path(args.seed_only), web_port=args.web_port, sip_port=args.sip_port, edge=not args.no_edge)
        print(
            f"demo clinic written to {result.directory}: {result.patients} patients, {result.appointments} appointments"
        )
        print(f"use it with: clinicbox --config {result.config_path} ...")
        print(f"first login in {result.directory / 'first-login.txt'}")
        return 0
    directory = Path(args.dir).resolve()
    config = directory / "clinicbox.toml"
    if not config.exists():
        seed(directory, web_port=args.web_port, sip_port=args.sip_port, edge=not args.no_edge)
    login = (directory / "first-login.txt").read_text(encoding="utf-8").strip()
    from appliance.config import load_config

    cfg = load_config(config)
    print("=" * 64)
    print("ClinicBox demo clinic (simulated hardware)")
    print(f"  web UI:  http://{cfg.web.host}:{cfg.web.port}/")
    for line in login.splitlines():
        print(f"  {line}")
    print(f"  SIP:     sip:anything@{cfg.sip.bind_address}:{cfg.sip.port} reaches the IVR")
    if cfg.edge.enabled:
        print(f"  desk phones register at sip:{cfg.sip.bind_address}:{cfg.sip.port} as desk1/desk2 (secrets.toml)")
    print("  stop with Ctrl-C")
    print("=" * 64, flush=True)
    return Supervisor(demo_children(config, not args.no_traffic)).run()
