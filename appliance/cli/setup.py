"""``clinicbox setup-code``: a new one-time code for the web UI's first-run setup.

Run as root on the box (a console, or a technician's ssh where the image
offers one). It prints a fresh code for the ``cli`` channel while no
manager exists, and refuses once the box is set up; see
:mod:`appliance.setup_code` for how codes are kept and used.
"""

from __future__ import annotations

import argparse

from appliance import setup_code
from appliance.cli import context
from appliance.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("setup-code", help="print a one-time code for the web UI's first-run setup (as root)")
    p.set_defaults(func=cmd_setup_code)


def cmd_setup_code(args: argparse.Namespace) -> int:
    cfg = context.config(args)
    store = context.open_store(cfg)
    try:
        if context.repos(cfg, store).users.has_manager():
            raise ValidationError(
                "this box is set up: a manager exists, so there is no setup page. "
                "Log in, or give a manager a new password with: clinicbox user passwd NAME"
            )
    finally:
        store.close()
        # Root may have made the WAL files; the core and web UI run as the service user.
        from provisioning.apply import give_back_store

        give_back_store(cfg)
    code = setup_code.new_code(cfg.paths.state_dir, "cli")
    print(f"setup code: {code}")
    print("Open the web UI's /setup page on this box and enter it. It works once; a new one voids the previous")
    print("code printed here (codes on the box's screen or in a USB report stay valid until setup is done).")
    return 0
