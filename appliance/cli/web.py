"""``clinicbox web``: the web UI, served by waitress as its own process.

A crash here never drops a call: the core is another process. The web UI
starts while the core is down (its pages say so) and while the store is
passphrase-locked (every page leads to the unlock page).
"""

from __future__ import annotations

import argparse
import logging

from appliance.cli import context, setup_logging
from appliance.config import config_path_from_env
from appliance.store.lockfile import StoreLock

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("web", help="serve the web UI (waitress; nginx serves HTTPS in front on the appliance)")
    p.add_argument("--host", help="listen address (default: web.host)")
    p.add_argument("--port", type=int, help="TCP port (default: web.port)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from waitress.server import create_server

    from webui import create_app

    path = config_path_from_env(args.config)
    cfg = context.config(args)
    logging.getLogger().handlers.clear()
    setup_logging(args.verbose, cfg.logging.level)
    lock = StoreLock(cfg.paths.state_dir)
    lock.acquire_shared()  # `db restore` / `db rekey` must not run under us
    app = create_app(cfg, path, clock=context.clock_for(cfg))
    threads = cfg.web.threads + cfg.web.live_streams
    options = {"threads": threads, "ident": "ClinicBox", "channel_timeout": 60, "cleanup_interval": 10}
    if cfg.web.unix_socket:
        server = create_server(app, unix_socket=cfg.web.unix_socket, unix_socket_perms="660", **options)
        where = cfg.web.unix_socket
    else:
        host = args.host or cfg.web.host
        port = args.port if args.port is not None else cfg.web.port
        server = create_server(app, host=host, port=port, **options)
        where = f"http://{host}:{server.effective_port}/"  # type: ignore[union-attr]
    print(f"ClinicBox web UI on {where}", flush=True)
    log.info("web UI listening on %s with %d threads", where, threads)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
    return 0
