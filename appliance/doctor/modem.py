"""Doctor checks of the GSM/LTE modem: present, SIM, registered, signal, voice path, recovery, SMS.

When the core runs, it owns the modem's port: the checks read the status
it publishes (``<run_dir>/modem-status.json``). Otherwise they talk to the
modem directly, as ``clinicbox modem status`` does, on the hardware the
composition root picks (:func:`appliance.doctor.modem_hardware.modem_adapter`).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from appliance.clock import SystemClock
from appliance.doctor import Context, Result, check, fail, ok, warn
from appliance.doctor.modem_hardware import modem_adapter
from appliance.doctor.storage import open_store
from appliance.errors import ModemError
from appliance.modem.probe import probe
from appliance.modem.status import read_status
from appliance.modem.transport import PortBusyError
from appliance.store.timefmt import to_db


def _data(ctx: Context) -> dict[str, Any]:
    def make() -> dict[str, Any]:
        running = read_status(ctx.cfg.paths.run_dir)
        if running is not None:
            return {**running, "source": "core"}
        try:
            with modem_adapter(ctx.cfg) as hardware:
                return {**probe(ctx.cfg, hardware), "source": "probe"}
        except PortBusyError as exc:
            return {"state": "busy", "detail": str(exc), "source": "probe"}
        except ModemError as exc:
            return {"state": "absent", "detail": str(exc), "source": "probe"}

    return ctx.memo("modem", make)  # type: ignore[no-any-return]


@check("modem", order=40)
def modem_present(ctx: Context) -> Result | list[Result]:
    if not ctx.cfg.modem.enabled:
        return ok("modem", "disabled in the configuration (modem.enabled = false)")
    data = _data(ctx)
    state = data.get("state", "")
    if state == "absent":
        return fail(
            "modem",
            data.get("detail", "no modem found"),
            "check the modem's USB cable and power; `ls /dev/serial/by-id`; set modem.usb_serial or modem.imei",
        )
    if state == "busy":
        return warn(
            "modem", data.get("detail", "the port is busy"), "stop whatever holds the port (another ClinicBox?)"
        )
    owner = "owned by the running core" if data.get("source") == "core" else "probed directly"
    imei = str(data.get("imei", ""))
    return ok("modem", f"{data.get('model', 'modem')} IMEI ...{imei[-3:]} on {data.get('port', '?')} ({owner})")


@check("modem SIM", order=41)
def modem_sim(ctx: Context) -> Result:
    if not ctx.cfg.modem.enabled:
        return ok("modem SIM", "modem disabled")
    data = _data(ctx)
    sim = data.get("sim", "unknown")
    detail = data.get("detail", "")
    fixes = {
        "absent": "insert the SIM card (power the modem off first) and restart ClinicBox",
        "pin-required": "set the SIM's PIN under Settings > Secrets (modem.pin)",
        "last-try": "enter the PIN once in a phone (that resets the count), put the SIM back and restart ClinicBox",
        "pin-rejected": "the configured PIN is wrong: correct modem.pin (it will not be retried until you do)",
        "puk": "the SIM is PUK-locked: unlock it in a phone with the PUK, then set modem.pin",
    }
    if sim == "ready":
        return ok("modem SIM", "SIM ready")
    if data.get("state") in ("absent", "busy"):
        return warn("modem SIM", "not checked: no modem", "fix the modem first")
    return fail("modem SIM", f"SIM {sim}: {detail}".strip(": "), fixes.get(sim, "check the SIM card is seated"))


@check("modem network", order=42)
def modem_network(ctx: Context) -> list[Result]:
    if not ctx.cfg.modem.enabled:
        return [ok("modem network", "modem disabled")]
    data = _data(ctx)
    if data.get("sim") != "ready":
        return [warn("modem network", "not checked: SIM not ready", "fix the SIM first")]
    results = []
    if data.get("registered"):
        results.append(ok("modem network", f"registered on {data.get('operator') or 'the network'}"))
    else:
        results.append(
            fail(
                "modem network",
                f"not registered ({data.get('detail') or data.get('state')})",
                "check the antenna and coverage, and that the SIM's plan is active",
            )
        )
    bars, dbm = int(data.get("signal", 0)), data.get("dbm")
    text = f"signal {bars}/5" + (f" ({dbm} dBm)" if dbm is not None else "")
    if bars >= 2:
        results.append(ok("modem signal", text))
    elif bars == 1:
        results.append(warn("modem signal", text + ": weak", "move the modem or its antenna near a window"))
    else:
        results.append(fail("modem signal", text + ": none", "connect the antenna; move the modem near a window"))
    return results


@check("modem voice", order=42)
def modem_voice(ctx: Context) -> Result:
    """How a GSM call's voice reaches the box (per family), and why not when a step failed."""
    if not ctx.cfg.modem.enabled:
        return ok("modem voice", "modem disabled")
    data = _data(ctx)
    if data.get("state") in ("absent", "busy"):
        return warn("modem voice", "not checked: no modem", "fix the modem first")
    path = data.get("voice_path")
    if not isinstance(path, dict):
        return warn(
            "modem voice", "voice path not set up yet", "the core sets it up as the modem starts; run doctor again"
        )
    text = str(path.get("text", ""))
    if path.get("route") == "none":
        return warn(
            "modem voice",
            text,
            "GSM calls are not offered on this modem (SMS still work); "
            "a Quectel EC25/EG25, SIMCom SIM7600 or Huawei E173/E1750/E3531 carries calls",
        )
    if path.get("restart"):
        return warn("modem voice", text, "the core restarts the modem once by itself; if this stays, power-cycle it")
    if path.get("ready"):
        if path.get("detail"):
            return warn("modem voice", text, "see the core's log for that call; the next call tries again")
        return ok("modem voice", text)
    fix = (
        "the modem's firmware must offer USB audio (README, GSM voice); power-cycle it and check again"
        if path.get("route") == "uac"
        else "check the voice serial port (modem.voice_port) and that the firmware has voice (README, GSM voice)"
    )
    return fail("modem voice", f"{text}; GSM calls are not offered", fix)


@check("modem recovery", order=43)
def modem_recovery(ctx: Context) -> Result:
    if not ctx.cfg.modem.enabled:
        return ok("modem recovery", "modem disabled")
    data = _data(ctx)
    if data.get("source") != "core":
        return ok("modem recovery", "the core is not running: no recovery history")
    last = data.get("last_recovery")
    if data.get("state") == "failed":
        return fail(
            "modem recovery",
            f"every recovery step failed: {data.get('detail', '')}",
            "unplug the modem for ten seconds and plug it back; if that does not help, replace it",
        )
    power = str(data.get("power_line", ""))
    steps = _ladder(ctx.cfg.modem, power)
    if "unavailable" in power:
        return warn(
            "modem recovery",
            f"the last recovery step cannot run: power line {power}; steps: {steps}",
            "check modem.power_gpio and panel.pin_factory, and that nothing else uses that pin",
        )
    if not last:
        return ok("modem recovery", f"no recovery needed since the core started; steps: {steps}")
    ago = time.time() - float(last.get("at", time.time()))
    step = last.get("step") or "-"
    return ok(
        "modem recovery",
        f"last: {step} {last.get('outcome')} {ago / 60:.0f} min ago ({last.get('reason')}); steps: {steps}",
    )


def _ladder(m: Any, power_line: str) -> str:
    """The recovery steps this box can take, in order (the core says whether its power pin opened)."""
    steps = ["re-init", "radio reset"]
    if m.usb_reset or m.simulate:
        steps.append("USB reset")
    if m.power_gpio:
        steps.append(f"power cut ({power_line or f'GPIO {m.power_gpio}'})")
    return ", ".join(steps)


@check("modem SMS", order=44)
def modem_sms(ctx: Context) -> Result:
    """What became of the last week's outgoing SMS; texts the modem never confirmed need a person."""
    if not ctx.cfg.modem.enabled:
        return ok("modem SMS", "modem disabled")
    store = open_store(ctx)
    if store.locked:
        return warn("modem SMS", "store locked; not checked", "a manager unlocks it in the web UI")
    since = to_db(SystemClock().now() - timedelta(days=7))
    rows = store.query(
        "SELECT status, count(*) FROM sms_messages WHERE direction = 'out' AND created_at >= ? GROUP BY status",
        (since,),
    )
    counts = {str(status): int(n) for status, n in rows}
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
    unsure = counts.get("unconfirmed", 0)
    if unsure:
        return warn(
            "modem SMS",
            f"last 7 days: {summary}; {unsure} went to the modem without its confirmation and were not re-sent",
            "the modem stopped answering while sending (see modem recovery); where a reminder matters, "
            "the reminders page shows which, and the desk can call the patient",
        )
    return ok("modem SMS", f"outgoing SMS in the last 7 days: {summary}")
