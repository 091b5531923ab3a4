"""Doctor checks of the machine: disk space and wear, the clock."""

from __future__ import annotations

import shutil
from pathlib import Path

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


def _sd_wear(device_dir: Path) -> str | None:
    """Read the eMMC/SD life-time estimate where the card reports one."""
    for life in device_dir.glob("mmc*/mmc*:*/life_time"):
        try:
            a, b = life.read_text().split()
            worst = max(int(a, 16), int(b, 16))
            return f"{life.parent.name}: wear level {worst}/10"
        except (OSError, ValueError):
            continue
    return None


@check("storage wear", order=11)
def storage_wear(ctx: Context) -> Result:
    wear = _sd_wear(Path("/sys/class/mmc_host"))
    if wear is None:
        return ok(
            "storage wear",
            "no SD/eMMC wear report on this machine (not an SD card, or not reported)",
        )
    level = int(wear.rsplit(" ", 1)[-1].split("/")[0])
    if level >= 9:
        return fail("storage wear", wear, "the SD card is worn out: replace it and restore the last backup")
    if level >= 7:
        return warn("storage wear", wear, "plan an SD card replacement")
    return ok("storage wear", wear)


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
