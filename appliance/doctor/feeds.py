"""Doctor checks of the appointment feed: is the HL7 listener up, and is what it receives applied?

A feed that stopped, or that refuses every message after the practice
system changed its mapping, leaves the box reminding a stale book: these
checks name the last message, the refusals of the last day with their
reason (no patient data), and what waits on the front desk's worklist.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from appliance.doctor import Context, Result, check, ok, warn
from appliance.doctor.storage import open_store
from appliance.store import feeds as ledger
from appliance.store import settings, worklist
from appliance.store.timefmt import to_db


@check("HL7 feed", order=49)
def hl7_feed(ctx: Context) -> list[Result]:
    hl7 = ctx.cfg.feeds.hl7
    if not hl7.enabled:
        return [ok("HL7 feed", "off (feeds.hl7.enabled = false); appointments come from the web UI or imports")]
    results: list[Result] = []
    host = "127.0.0.1" if hl7.host in ("0.0.0.0", "") else ("::1" if hl7.host == "::" else hl7.host)
    try:
        with socket.create_connection((host, hl7.port), timeout=2):
            pass
        results.append(ok("HL7 listener", f"listening on {hl7.host}:{hl7.port}"))
    except OSError as exc:
        results.append(
            warn(
                "HL7 listener",
                f"nothing listens on {hl7.host}:{hl7.port} ({exc.strerror or exc}): the practice system cannot send",
                "start clinicbox-core; if it runs, its journal says why the listener did not start",
            )
        )
    store = open_store(ctx)
    if store.locked:
        results.append(warn("HL7 messages", "store locked; not checked", "unlock the store first"))
        return results
    since = to_db(store.clock.now() - timedelta(days=1))
    conn = store.connection()
    summary = ledger.summary(conn, since)
    counts = summary["counts"]
    last = max(summary["last"].values(), default="")
    applied = sum(counts.get(s, 0) for s in ("applied", "unchanged", "ignored"))
    text = f"last 24 h: {applied} applied, {counts.get('held', 0)} held, {counts.get('rejected', 0)} rejected"
    text += f"; last message {last}" if last else "; no message received yet"
    problems = [e for e in ledger.recent(conn, limit=5) if e.received_at >= since]
    if problems:
        newest = problems[0]
        results.append(
            warn(
                "HL7 messages",
                f"{text}; newest: {newest.message_type} control ID {newest.control_id} {newest.status} "
                f"at {newest.location or '-'}: {newest.reason}",
                "fix the sender's mapping ([feeds.hl7.senders]) and re-process it from the web UI's feed page",
            )
        )
    else:
        results.append(ok("HL7 messages", text))
    open_items = worklist.open_count(conn)
    if open_items:
        results.append(
            warn(
                "front-desk worklist",
                f"{open_items} changes made on the box wait to be entered in the practice system",
                "the front desk enters them there and ticks them done on the web UI's worklist page",
            )
        )
    return results


@check("calendar feed", order=49)
def calendar_feed(ctx: Context) -> Result:
    cal = ctx.cfg.feeds.calendar
    if not cal.enabled:
        return ok("calendar feed", "off (feeds.calendar.enabled = false)")
    store = open_store(ctx)
    if store.locked:
        return warn("calendar feed", "store locked; not checked", "unlock the store first")
    feed = cal.feed_name()
    last = settings.get_state(store.connection(), f"feeds.calendar.last:{feed}")
    if last is None:
        return warn(
            "calendar feed", f"{cal.url} has not been synced yet", "start clinicbox-core; check the URL and account"
        )
    if not last["ok"]:
        return warn(
            "calendar feed",
            f"the last sync ({last['at']}) changed nothing: {last['reason']}",
            "check the calendar server and the account; nothing is cancelled while it fails",
        )
    return ok(
        "calendar feed",
        f"last sync {last['at']}: {last['applied']} visits changed, {last['cancelled']} cancelled, "
        f"{last['unusable']} events not following the convention, {last['written']} written back",
    )
