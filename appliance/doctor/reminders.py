"""Doctor checks of the reminders: can they go out, and are they going out?

A box that cannot call or text patients fails quietly from the clinic's
point of view (empty rooms weeks later), so these checks say plainly why
reminders wait: the clock, no line, no modem for SMS patients, paused,
stuck or overdue reminders.
"""

from __future__ import annotations

from datetime import timedelta

from appliance.clock import SystemClock
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.doctor.storage import open_store
from appliance.doctor.system import clock_state
from appliance.reminders.service import PAUSED_KEY, read_status
from appliance.store.timefmt import to_db


@check("reminder clock", order=45)
def reminder_clock(ctx: Context) -> Result:
    if not ctx.cfg.reminders.enabled:
        return ok("reminder clock", "reminders are disabled (reminders.enabled = false)")
    state = clock_state(ctx)
    if state.trusted:
        return ok("reminder clock", f"reminders may go out: the clock is synchronised ({state.source})")
    return fail(
        "reminder clock",
        f"no reminder call or SMS goes out: {state.detail}",
        "connect the box to the internet (NTP) or make sure the GSM modem is registered (network time)",
    )


@check("reminder lines", order=46)
def reminder_lines(ctx: Context) -> Result:
    cfg = ctx.cfg
    r = cfg.reminders
    if not r.enabled:
        return ok("reminder lines", "reminders are disabled")
    if r.dialer == "simulator":
        return warn(
            "reminder lines",
            "reminder calls go to simulated patients (reminders.dialer = simulator): no patient is called",
            'set reminders.dialer = "switchboard" on a box in service',
        )
    if not cfg.trunk.enabled and not cfg.modem.enabled:
        return fail(
            "reminder lines",
            "no line for reminder calls: neither the SIP trunk nor the GSM modem is enabled",
            "enable the trunk ([trunk]) or the modem ([modem]), or set reminders.enabled = false",
        )
    budget = f"up to {r.max_calls} at once, {r.reserve_lines} lines kept for callers"
    if not cfg.trunk.enabled:
        return warn(
            "reminder lines",
            f"reminder calls use the one GSM voice line ({budget})",
            "configure a SIP trunk for more than one reminder call at a time",
        )
    return ok("reminder lines", f"reminder calls go out on the trunk ({budget})")


@check("reminder SMS", order=47)
def reminder_sms(ctx: Context) -> Result:
    cfg = ctx.cfg
    if not cfg.reminders.enabled:
        return ok("reminder SMS", "reminders are disabled")
    store = open_store(ctx)
    if store.locked:
        return warn("reminder SMS", "store locked; not checked", "unlock the store first")
    row = store.query_one(
        "SELECT count(*) FROM patients WHERE reminder_channel IN ('sms', 'both') AND opted_out_at IS NULL"
        " AND consent_reminders = 1"
    )
    texted = int(row[0]) if row else 0
    if cfg.modem.enabled:
        return ok("reminder SMS", f"{texted} patients get SMS reminders through the modem")
    if texted:
        return fail(
            "reminder SMS",
            f"{texted} patients get reminders by SMS, but there is no modem (modem.enabled = false): "
            "their SMS reminders are recorded as failed",
            "connect and enable the GSM modem, or set those patients' reminder channel to voice",
        )
    return ok("reminder SMS", "no modem, and no patient gets SMS reminders")


@check("reminder dispatch", order=48)
def reminder_dispatch(ctx: Context) -> list[Result]:
    cfg = ctx.cfg
    if not cfg.reminders.enabled:
        return [ok("reminder dispatch", "reminders are disabled")]
    store = open_store(ctx)
    if store.locked:
        return [warn("reminder dispatch", "store locked: reminders wait", "a manager unlocks it in the web UI")]
    now = SystemClock().now()
    results: list[Result] = []
    paused = store.query_one("SELECT value FROM settings WHERE key = ?", (PAUSED_KEY,))
    if paused is not None and paused[0] == "true":
        results.append(warn("reminders paused", "reminder dispatching is paused", "run: clinicbox reminders resume"))
    core = read_status(cfg.paths.run_dir)
    if core is None:
        results.append(
            warn("reminder dispatch", "the core is not running: no reminder goes out", "start clinicbox-core")
        )
    elif core.get("blocked") and core["blocked"] != "outside the calling windows":
        results.append(warn("reminder dispatch", f"the dispatcher waits: {core['blocked']}", "see the reason"))
    else:
        results.append(
            ok("reminder dispatch", f"running ({core.get('blocked') or 'dispatching'}, route {core.get('route')})")
        )
    stale = to_db(now - timedelta(minutes=cfg.reminders.stale_after_min))
    stuck = store.query_one(
        "SELECT count(*) FROM reminder_attempts WHERE state != 'finished' AND started_at < ?", (stale,)
    )
    if stuck and int(stuck[0]):
        results.append(
            warn(
                "reminder attempts",
                f"{int(stuck[0])} attempts have had no result for over {cfg.reminders.stale_after_min} min",
                "they are closed as interrupted when the core restarts; check `clinicbox doctor` switchboard checks",
            )
        )
    overdue = store.query_one(
        "SELECT count(*) FROM reminders WHERE status = 'pending' AND next_attempt_at < ?",
        (to_db(now - timedelta(hours=1)),),
    )
    if overdue and int(overdue[0]):
        results.append(
            warn(
                "overdue reminders",
                f"{int(overdue[0])} reminders are more than an hour late",
                "see why with `clinicbox reminders` (paused? no line? outside the calling windows?)",
            )
        )
    return results
