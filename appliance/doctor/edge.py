"""Doctor checks of the SIP edge: the Kamailio process, its sockets, desk phones, lockouts.

The process is found by its pid file in ``paths.edge_dir``; the sockets in
``/proc/net/{udp,tcp}[6]`` (``ctx.root``, so tests can hand in a tree);
the registrations, counters and lockouts come from the edge's RPC socket.
"""

from __future__ import annotations

from pathlib import Path

from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.edge.rpc import EdgeRpc
from appliance.errors import EdgeError

NAME = "SIP edge"
_TCP_LISTEN = "0A"


def edge_pid(ctx: Context) -> int | None:
    """The running Kamailio's pid from its pid file, if that process is alive and is kamailio."""
    try:
        pid = int((Path(ctx.cfg.paths.edge_dir) / "kamailio.pid").read_text().strip())
        comm = (ctx.root / "proc" / str(pid) / "comm").read_text().strip()
    except (OSError, ValueError):
        return None
    return pid if comm.startswith("kamailio") else None


def listening(root: Path, port: int) -> list[str]:
    """Which of udp/tcp have a socket bound (tcp: listening) on ``port`` (IPv4 or IPv6)."""
    found = []
    for proto in ("udp", "tcp"):
        for table in (proto, proto + "6"):
            try:
                lines = (root / "proc" / "net" / table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) < 4 or not fields[1].endswith(f":{port:04X}"):
                    continue
                if proto == "tcp" and fields[3] != _TCP_LISTEN:
                    continue
                if proto not in found:
                    found.append(proto)
    return found


@check(NAME, order=33)
def edge(ctx: Context) -> list[Result]:
    cfg = ctx.cfg
    if not cfg.edge.enabled:
        return [ok(NAME, f"off (edge.enabled = false): the core answers on port {cfg.sip.port} itself")]
    start = "sudo systemctl start clinicbox-edge (journalctl -u clinicbox-edge)"
    pid = edge_pid(ctx)
    if pid is None:
        return [fail(NAME, f"kamailio is not running (no live pid in {cfg.paths.edge_dir})", start)]
    socks = listening(ctx.root, cfg.sip.port)
    missing = [p for p in ("udp", "tcp") if p not in socks]
    results = []
    detail = f"kamailio pid {pid} on {cfg.sip.bind_address}:{cfg.sip.port} ({'/'.join(socks) or 'no socket'})"
    if missing:
        results.append(
            fail(
                NAME,
                f"{detail}; not listening on {'/'.join(missing).upper()} port {cfg.sip.port}",
                "another program holds the port (ss -lunpt): stop it, or restart clinicbox-edge",
            )
        )
        return results
    rpc = EdgeRpc(cfg.paths.edge_dir)
    try:
        regs = rpc.registrations()
        counters = rpc.counters()
        locked = rpc.locked_out()
    except EdgeError as exc:
        return [fail(NAME, f"{detail}; its RPC socket: {exc}", f"restart it: {start.split(' (')[0]}")]
    phones = ", ".join(sorted(regs)) or "none"
    results.append(ok(NAME, f"{detail}; {len(regs)} desk phone(s) registered: {phones}"))
    refused = (
        f"since start: {counters.get('sec_untrusted', 0)} untrusted requests dropped "
        f"({counters.get('sec_scan', 0)} from scanners), {counters.get('sec_flood', 0)} flood, "
        f"{counters.get('sec_malformed', 0)} malformed, {counters.get('sec_refused', 0)} refused, "
        f"{counters.get('auth_failed', 0)} wrong desk-phone passwords"
    )
    if locked:
        results.append(
            warn(
                "SIP edge lockouts",
                f"locked out for wrong passwords: {', '.join(locked)}; {refused}",
                "check the password on that desk phone (Settings > Secrets, stations.<id>.password); the lock "
                f"ends after edge.lockout_s ({cfg.edge.lockout_s} s)",
            )
        )
    else:
        results.append(ok("SIP edge lockouts", f"no address locked out; {refused}"))
    return results
