"""``clinicbox edge``: the box's SIP edge (Kamailio) in front of the core.

``clinicbox edge`` renders the routing script from the config into
``paths.edge_dir`` and becomes Kamailio in the foreground (systemd's
``clinicbox-edge.service``; ``clinicbox demo`` starts it too).
``clinicbox edge check`` renders and lets Kamailio check the script
without starting it. The edge never loads the secrets file.
"""

from __future__ import annotations

import argparse

from appliance.cli import context, setup_logging
from appliance.config import load_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser(
        "edge",
        help="run the SIP edge (Kamailio: desk-phone registrar, flood guard, ACL) in front of the core",
    )
    p.add_argument("action", nargs="?", choices=("run", "check"), default="run", help="run (default) or check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from appliance.edge import process

    cfg = load_config(context.config_path(args), use_secrets=False)
    setup_logging(args.verbose, cfg.logging.level)
    argv = process.prepare(cfg)
    if args.action == "check":
        process.check(argv)
        print(f"edge script OK: {argv[2]}")
        return 0
    process.exec_kamailio(argv)
    return 1  # not reached: exec replaced this process
