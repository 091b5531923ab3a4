"""Power cuts in the middle of a reminder campaign: no patient's phone rings twice.

The booted image calls 20 patients through its trunk; the patients' phones are one SIPp
on this machine (the provider, reached from the guest as 10.0.2.2), whose message trace
is what the patients lived through. QEMU is killed while calls are being placed and
held, the box boots again (``clinicbox db verify`` passes each time) and carries on.
The dispatcher commits its claim (the attempt row) before it dials, so after a cut an
attempt that may have rung is marked ``interrupted`` and only retried after the back-off
(``retry_min``, set here to two hours, longer than the test): every phone rings at most
once, and every ring belongs to an attempt the store kept.

Run by ``make image-test``; a first boot, then a boot per cut (about 2 minutes each under TCG).
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.image.guest import HOST_FROM_GUEST, SLOWDOWN, Guest
from tests.image.test_boot import _figure
from tests.integration.reminders.realcore import Phones, _bound, phones_xml
from tests.integration.sip.peers import SippScenario

CUTS = int(os.environ.get("CLINICBOX_REMINDER_CUTS", "3"))
# Under TCG a boot takes minutes: far beyond pytest's default timeout (pyproject: 300 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800 + CUTS * 600)]
CONFIG = "--config /etc/clinicbox/clinicbox.toml"
PATIENTS = [f"+121255508{n:02d}" for n in range(1, 21)]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Quick reminder calls (short prompts and key timeouts) in an always-open clinic; the
# guest's clock is this machine's (QEMU's RTC), trusted without NTP (no internet here).
REMINDERS = """
[clock]
assume_synced = true

[clinic]
languages = ["en"]

[prompts]
tts_speed = 260

[prompts.texts.en]
reminder_hello = "Please press 1."
reminder_when = "On {date} at {time}."
reminder_menu = "1 or 2."
reminder_machine = "Bye."
reminder_machine_nonumber = "Bye."
reminder_confirmed = "Confirmed."
reminder_cancelled = "Cancelled."
reminder_desk = "Hold on."
reminder_goodbye = "Bye."

[reminders]
offsets_h = [24]
interval_s = 1
key_timeout_s = 2.0
ring_s = 10
max_calls = 3
max_attempts = 2
retry_min = 120
retry_max_min = 120

[reminders.windows]
""" + "".join(f'{day} = ["00:00-24:00"]\n' for day in DAYS)


class GuestPhones(Phones):
    """:class:`Phones` whose answers name this machine as the guest reaches it (10.0.2.2)
    in their Contact, so the box's ACK and BYE come back here."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.trace = workdir / f"phones-{port}.trace"
        xml = phones_xml().replace("<sip:phone@[local_ip]:[local_port]>", f"<sip:phone@{HOST_FROM_GUEST}:{port}>")
        self.sipp = SippScenario(
            xml,
            workdir,
            port=port,
            calls=1_000_000,
            concurrent=10_000,
            timeout_s=3600,
            extra=["-trace_shortmsg", "-shortmessage_file", str(self.trace)],
        )
        until = time.monotonic() + 10
        while not _bound(port) and time.monotonic() < until:
            time.sleep(0.05)
        assert _bound(port), self.sipp.log.read_text(errors="replace")


def _boot(box: Guest) -> float:
    started = box.start()
    box.wait_ssh(timeout=240 * SLOWDOWN)
    box.wait_active("clinicbox-core.service", timeout=180 * SLOWDOWN)
    return time.monotonic() - started


def _state(box: Guest) -> dict[str, Any]:
    done = box.ssh(f"clinicbox {CONFIG} reminders --json --limit 1000", timeout=120)
    state: dict[str, Any] = json.loads(done.stdout)
    return state


def _epoch(text: str | None) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else 0.0


def _book(box: Guest) -> None:
    start = (datetime.now(UTC) + timedelta(hours=23)).replace(second=0, microsecond=0).isoformat()
    patients = ["external_id,name,phone,language,reminder_channel,consent_reminders"]
    patients += [f"P{n},Patient {n},{number},en,voice,yes" for n, number in enumerate(PATIENTS)]
    visits = ["external_id,patient_external_id,start,duration_min,provider"]
    visits += [f"A{n},P{n},{start},15,Dr Lee" for n in range(len(PATIENTS))]
    for kind, rows in (("patients", patients), ("appointments", visits)):
        body = "\n".join(rows)
        box.ssh(f"cat > /run/{kind}.csv <<'EOF'\n{body}\nEOF")
        done = box.ssh(f"clinicbox {CONFIG} import {kind} /run/{kind}.csv && rm /run/{kind}.csv", timeout=120)
        assert f"{len(PATIENTS)} added" in done.stdout, done.stdout


def _quiet(box: Guest) -> dict[str, Any] | None:
    """The reminders' state once nothing is in flight and nothing is due (only back-offs left)."""
    state = _state(box)
    now = time.time()
    if any(a["state"] != "finished" for a in state["recent"]):
        return None
    if any(r["status"] == "active" or _epoch(r["next_attempt_at"]) <= now for r in state["upcoming"]):
        return None
    return state


def test_power_cuts_mid_campaign_never_ring_a_patient_twice(guest: Guest, tmp_path: Path) -> None:
    rng = random.Random(1414)
    port = free_port()
    phones = GuestPhones(tmp_path / "phones", port)
    try:
        _boot(guest)
        trunk = (
            f'\n[trunk]\nenabled = true\nregister = false\nregistrar = "sip:{HOST_FROM_GUEST}:{port}"\n'
            f'provider_networks = ["{HOST_FROM_GUEST}/32"]\nkeepalive_interval_s = 0\n'
        )
        guest.ssh(f"cat >> /etc/clinicbox/clinicbox.toml <<'EOF'\n{trunk}{REMINDERS}EOF")
        _book(guest)
        guest.ssh("systemctl restart clinicbox-core", timeout=120 * SLOWDOWN)
        guest.wait_active("clinicbox-core.service", timeout=120 * SLOWDOWN)
        rings_at_cut: list[int] = []
        boots: list[float] = []
        for cut in range(CUTS):
            # Cut while the campaign runs: after a new call reached a phone, at a random moment.
            seen = len(phones.calls())
            until = time.monotonic() + 180 * SLOWDOWN
            while len(phones.calls()) <= seen:
                assert time.monotonic() < until, f"cut {cut + 1}: no reminder call placed; {_state(guest)['counts']}"
                time.sleep(0.5)
            time.sleep(rng.uniform(0, 8))
            guest.power_cut()
            rings_at_cut.append(len(phones.calls()))
            boots.append(_boot(guest))
            verify = guest.ssh(f"clinicbox {CONFIG} db verify", check=False, timeout=300)
            assert verify.returncode == 0, f"cut {cut + 1}: {verify.stdout}{verify.stderr}"
            print(f"cut {cut + 1}: {rings_at_cut[-1]} phones had rung; boot to core active {boots[-1]:.0f} s")
        until = time.monotonic() + 600 * SLOWDOWN
        while (state := _quiet(guest)) is None:
            assert time.monotonic() < until, f"the campaign never settled: {_state(guest)['counts']}"
            time.sleep(5)
        time.sleep(5)
        calls = phones.calls()
    finally:
        phones.stop()

    attempts = state["recent"]
    rang: dict[str, int] = {}
    for call in calls:
        assert call.number in PATIENTS, f"a call to a number nobody booked: {call.number}"
        rang[call.number] = rang.get(call.number, 0) + 1
    twice = {number: n for number, n in rang.items() if n > 1}
    assert not twice, f"phones that rang more than once: {twice}"
    # Every ring has an attempt the store kept (an attempt cut before its dial has no ring).
    assert len(calls) <= len(attempts), (len(calls), attempts)
    assert all(n == 1 for n in _per_reminder(attempts).values()), attempts
    # The campaign ran across the cuts: phones rang before the first cut and after the last boot.
    assert rings_at_cut[0] > 0 and len(calls) > rings_at_cut[-1], (rings_at_cut, len(calls))
    interrupted = sum(1 for a in attempts if a["outcome"] == "interrupted")
    done = state["counts"].get("done", 0)
    assert done > 0 and "active" not in state["counts"], state["counts"]
    print(f"reminders: {state['counts']}; {len(attempts)} attempts, {interrupted} interrupted by a cut")
    _figure("reminder_cuts", CUTS)
    _figure("reminder_cut_attempts_interrupted", interrupted)
    _figure("reminder_cut_phones_rung", len(calls))


def _per_reminder(attempts: list[dict[str, Any]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for attempt in attempts:
        if attempt["detail"].startswith("not placed"):  # refused before dialing: not an attempt that counts
            continue
        out[attempt["reminder_id"]] = out.get(attempt["reminder_id"], 0) + 1
    return out
