"""``clinicbox web``: the web UI, served by waitress as its own process.

A crash here never drops a call: the core is another process. The web UI
starts while the core is down (its pages say so) and while the store is
passphrase-locked (every page leads to the unlock page).

Behind nginx (``web.behind_tls``) every connection comes from the proxy on
the loopback, so waitress is told to take the client address from the
``X-Forwarded-For`` that nginx sets, and only from a loopback peer: the
login throttle and the audit log then see each computer on the LAN, not
one 127.0.0.1 for the whole clinic. Without the proxy the header is
dropped, since any LAN client could forge it.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from appliance.cli import context, setup_logging
from appliance.config import Config, config_path_from_env, load_config
from appliance.store.lockfile import StoreLock

log = logging.getLogger(__name__)

#: The address waitress gives a peer on its Unix socket (only local processes reach it).
UNIX_SOCKET_PEER = "localhost"
#: nginx's proxy_pass target is 127.0.0.1 (systemd/nginx/clinicbox.conf).
PROXY_PEER = "127.0.0.1"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("web", help="serve the web UI (waitress; nginx serves HTTPS in front on the appliance)")
    p.add_argument("--host", help="listen address (default: web.host)")
    p.add_argument("--port", type=int, help="TCP port (default: web.port)")
    p.set_defaults(func=run)


def proxy_options(cfg: Config) -> dict[str, Any]:
    """waitress settings for the client address.

    Behind the TLS proxy: trust ``X-Forwarded-For`` from the loopback peer
    only, and only its last entry (the address nginx itself saw; anything
    a client put before it is ignored). Otherwise trust no peer. In both
    cases waitress strips forwarding headers it does not trust, so the app
    never sees a forged one.
    """
    if not cfg.web.behind_tls:
        return {"clear_untrusted_proxy_headers": True}
    return {
        "trusted_proxy": UNIX_SOCKET_PEER if cfg.web.unix_socket else PROXY_PEER,
        "trusted_proxy_headers": {"x-forwarded-for"},
        "trusted_proxy_count": 1,
        "clear_untrusted_proxy_headers": True,
    }


def make_server(app: Any, cfg: Config, host: str | None = None, port: int | None = None) -> tuple[Any, str]:
    """The waitress server for ``app`` as ``clinicbox web`` runs it, and where it listens."""
    from waitress.server import create_server

    threads = cfg.web.threads + cfg.web.live_streams
    options = {
        "threads": threads,
        "ident": "ClinicBox",
        "channel_timeout": 60,
        "cleanup_interval": 10,
        **proxy_options(cfg),
    }
    if cfg.web.unix_socket:
        server = create_server(app, unix_socket=cfg.web.unix_socket, unix_socket_perms="660", **options)
        return server, cfg.web.unix_socket
    host = host or cfg.web.host
    port = port if port is not None else cfg.web.port
    server = create_server(app, host=host, port=port, **options)
    return server, f"http://{host}:{server.effective_port}/"  # type: ignore[union-attr]


def run(args: argparse.Namespace) -> int:
    from webui import create_app

    path = config_path_from_env(args.config)
    # The web UI never loads the secrets file (the core owns it; Settings › Secrets asks the core).
    cfg = load_config(path, use_secrets=False)
    logging.getLogger().handlers.clear()
    setup_logging(args.verbose, cfg.logging.level)
    lock = StoreLock(cfg.paths.state_dir)
    lock.acquire_shared()  # `db restore` / `db rekey` must not run under us
    app = create_app(cfg, path, clock=context.clock_for(cfg))
    server, where = make_server(app, cfg, args.host, args.port)
    print(f"ClinicBox web UI on {where}", flush=True)
    log.info(
        "web UI listening on %s with %d threads%s",
        where,
        cfg.web.threads + cfg.web.live_streams,
        " behind the TLS proxy" if cfg.web.behind_tls else "",
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
    return 0
