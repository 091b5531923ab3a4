"""Doctor checks of the running core: the phone line, its capacity, stations."""

from __future__ import annotations

from typing import Any

from appliance.control import ControlClient
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.errors import ControlError


def core_status(ctx: Context) -> dict[str, Any]:
    """The running core's status snapshot over the control socket (memo key ``core-status``).

    Raises:
        ControlError: the core does not answer.
    """
    return ctx.memo("core-status", lambda: ControlClient(ctx.cfg.control_socket, timeout=3).status())  # type: ignore[no-any-return]


@check("core", order=30)
def core_running(ctx: Context) -> Result:
    try:
        status = core_status(ctx)
    except ControlError as exc:
        return fail("core", str(exc), "start it: sudo systemctl start clinicbox-core (journalctl -u clinicbox-core)")
    return ok("core", f"running since {status['box']['started_at']} (version {status['box']['version']})")


@check("call capacity", order=31)
def capacity(ctx: Context) -> Result:
    try:
        cap = core_status(ctx)["capacity"]
    except ControlError:
        return warn("call capacity", "core not running; not measured", "start the core")
    build = cap["build"]
    budget = cap.get("budget") or {}
    media = cap.get("media") or {}
    detail = (
        f"{cap['allowed']} concurrent calls (sip.max_calls asks {cap['requested']}), {cap['in_use']} in use; "
        f"engine {build.get('engine') or '?'}, PJSIP {build.get('pjsip', '?')}, TLS {'yes' if build['tls'] else 'no'}, "
        f"SRTP {'yes' if build['srtp'] else 'no'}, {build['sound_devices']} sound devices; "
        f"media budget {budget.get('ports', '?')} bridge ports and {budget.get('players', '?')} players "
        f"for {budget.get('lines', '?')} lines and {budget.get('music_sources', '?')} music source(s), "
        f"the build gives {build.get('media_ports', '?')} ports and {build.get('players', '?')} players"
    )
    if media.get("errors"):
        return warn(
            "call capacity",
            f"{detail}; {media['errors']} caller(s) found no media port since start-up (sent to the callback list)",
            "lower sip.max_calls or build the engine with firmware/pjproject (its config_site.h raises the limits)",
        )
    if cap["allowed"] < cap["requested"]:
        return warn(
            "call capacity",
            f"{detail}; limited by the build's {cap.get('limited_by') or 'call'} limit",
            "this PJSUA2 build has lower limits; build the engine with firmware/pjproject (make does)",
        )
    return ok("call capacity", detail)


@check("SIP trunk", order=32)
def trunk(ctx: Context) -> Result:
    if not ctx.cfg.trunk.enabled:
        return warn(
            "SIP trunk",
            "no trunk configured; only the GSM line can carry calls",
            "set [trunk] in clinicbox.toml (registrar, username; the password under Settings > Secrets)",
        )
    try:
        state = core_status(ctx)["trunk"]
    except ControlError:
        return warn("SIP trunk", "core not running; not checked", "start the core")
    if state["state"] == "up":
        return ok("SIP trunk", state["detail"])
    if "certificate rejected" in state["detail"]:
        return fail(
            "SIP trunk",
            f"{state['state']}: {state['detail']}",
            "trunk.registrar (or trunk.proxy) must be a name in the provider's certificate, and "
            "trunk.tls_ca_file (empty = the system CA store) must hold the CA that signed it; "
            "README: Troubleshooting, provider certificate rejected",
        )
    return fail(
        "SIP trunk",
        f"{state['state']}: {state['detail']}",
        "check the internet connection, trunk.registrar/username and the password (Settings > Secrets)",
    )


@check("stations", order=33)
def stations(ctx: Context) -> Result:
    if not ctx.cfg.stations:
        return warn("stations", "no agent stations configured", "add [stations.<id>] for each headset or desk phone")
    try:
        agents = core_status(ctx)["agents"]
    except ControlError:
        return warn("stations", "core not running; not checked", "start the core")
    down = [a["station"] for a in agents if not a["reachable"]]
    detail = ", ".join(f"{a['station']}: {a['state']}" for a in agents)
    if len(down) == len(agents):
        return fail(
            "stations",
            f"no station is reachable ({detail})",
            "plug in a headset or start `clinicbox station` on a front-desk PC",
        )
    if down:
        return warn("stations", f"unreachable: {', '.join(down)} ({detail})", "check those headsets or PCs")
    return ok("stations", detail)
