"""Doctor checks of the machine: disk space, the clock (SD-card wear: :mod:`appliance.doctor.sdcard`)."""

from __future__ import annotations

import shutil

from appliance.clock import SystemClock, TimeSync
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.doctor.switchboard import core_status
from appliance.errors import ControlError


@check("disk space", order=10)
def disk_space(ctx: Context) -> Result:
    target = ctx.cfg.paths.state_dir
    probe = target if target.exists() else target.parent
    usage = shutil.disk_usage(probe)
    free_mb = usage.free // (1024 * 1024)
    pct = 100 * usage.used / usage.total if usage.total else 0
    detail = f"{free_mb} MB free on {probe} ({pct:.0f}% used)"
    if free_mb < ctx.cfg.store.min_free_mb:
        return fail(
            "disk space",
            detail,
            "delete old backups or recordings, or lower retention.recordings_days",
        )
    if pct > 90:
        return warn(
            "disk space",
            detail,
            "the disk is nearly full; lower retention or move backups off the box",
        )
    return ok("disk space", detail)


def clock_state(ctx: Context) -> TimeSync:
    """The running core's clock state (only the core hears the mobile network's time), else this host's."""
    try:
        c = core_status(ctx)["box"]["clock"]
        return TimeSync(bool(c["trusted"]), str(c["source"]), str(c["detail"]))
    except (ControlError, KeyError, TypeError):
        return SystemClock(assume_synced=ctx.cfg.clock.assume_synced or ctx.cfg.simulate).sync_state()


@check("clock", order=12)
def clock(ctx: Context) -> Result:
    state = clock_state(ctx)
    if state.trusted:
        return ok("clock", f"synchronised ({state.source}): {state.detail}")
    return fail(
        "clock",
        f"not synchronised: {state.detail}; reminder calls wait until it is",
        "connect the box to the internet (NTP) or make sure the GSM modem is registered (network time)",
    )
