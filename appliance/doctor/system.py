"""Doctor checks of the machine: disk space, the clock (SD-card wear: :mod:`appliance.doctor.sdcard`)."""

from __future__ import annotations

import shutil

from appliance.clock import SystemClock
from appliance.doctor import Context, Result, check, fail, ok, warn


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


@check("clock", order=12)
def clock(ctx: Context) -> Result:
    state = SystemClock(assume_synced=ctx.cfg.clock.assume_synced or ctx.cfg.simulate).sync_state()
    if state.trusted:
        return ok("clock", f"synchronised ({state.source}): {state.detail}")
    return fail(
        "clock",
        f"not synchronised: {state.detail}; reminder calls wait until it is",
        "connect the box to the internet (NTP) or make sure the GSM modem is registered (network time)",
    )
