"""A SIM PIN that did not unlock the SIM is never sent again, whatever went wrong
(three wrong tries lock the SIM): over a real pty, across power cycles,
re-enumerations and restarts, until the technician changes something."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.doctor import Context
from appliance.doctor import modem as checks
from appliance.modem.pin import STATE_FILE
from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator
from tests.integration.modem.conftest import Rig, modem_config, wait_until


def _starts(rig: Rig) -> int:
    return [e["state"] for e in rig.events.of("modem.status")].count("starting")


def _power_cycles(rig: Rig, sim: PtySimulator, count: int) -> None:
    """Re-enumerate the modem ``count`` times, each time until the worker brought it up again."""
    for n in range(1, count + 1):
        before = _starts(rig)
        sim.usb_reset()
        sim.wait_for_generation(sim.generation + 1)
        wait_until(lambda: _starts(rig) > before, 6, f"bring-up after power cycle {n}")  # noqa: B023
        wait_until(lambda: rig.svc.status.state == "pin-rejected", 6, "the SIM problem reported again")


@pytest.mark.parametrize("fault", ["cme-error-100", "no-answer"])
def test_a_pin_that_did_not_unlock_the_sim_is_sent_exactly_once(
    make_rig: Callable[..., Rig], tmp_path: Path, fault: str
) -> None:
    modem = ModemSimulator(pin="1234")
    if fault == "cme-error-100":
        modem.state.pin_error = 100  # +CME ERROR: 100 (unknown), not "incorrect password"
    else:
        modem.state.pin_silent = True  # the command times out
    cfg = modem_config(tmp_path, pin="1234", command_timeout_s=0.5)
    sim = PtySimulator(modem)
    rig = make_rig(cfg=cfg, sim=sim, start=False).start(ready=False)
    rig.events.wait("modem.status", timeout=6, state="pin-rejected")
    assert modem.state.pin_entries == 1
    record = cfg.paths.state_dir / STATE_FILE
    detail = rig.svc.status.detail
    assert "did not accept modem.pin" in detail and "not tried again" in detail
    assert ("100" in detail) if fault == "cme-error-100" else ("did not answer" in detail)
    assert "3 tries left" in detail and str(record) in detail  # what to do, and where
    wait_until(lambda: _starts(rig) >= 1 and rig.svc.status.state == "pin-rejected", 3, "settled")

    _power_cycles(rig, sim, 2)  # the SIM asks for its PIN after each one
    assert _starts(rig) >= 3  # three bring-ups (with the recovery's re-init on the way), one PIN
    assert modem.state.pin_entries == 1

    rig.svc.stop()
    again = make_rig(cfg=cfg, sim=PtySimulator(modem), start=False).start(ready=False)
    again.events.wait("modem.status", timeout=6, state="pin-rejected")
    wait_until(lambda: "not tried again" in again.svc.status.detail, 3, "the reason after a restart")
    assert modem.state.pin_entries == 1
    doctor = checks.modem_sim(Context(again.cfg))
    assert doctor.status == "FAIL" and "modem.pin" in doctor.detail and str(record) in doctor.detail
    again.svc.stop()

    # The technician checks the SIM works now, and clears the record: one try.
    modem.state.pin_error, modem.state.pin_silent = 0, False
    record.unlink()
    fixed = make_rig(cfg=cfg, sim=PtySimulator(modem))
    assert fixed.svc.status.sim == "ready" and modem.state.pin_entries == 2
    assert json.loads(record.read_text()) == {"rejected": []}  # a PIN that worked is not held against it


def test_a_sim_turning_ready_late_clears_the_pin_for_next_time(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    modem = ModemSimulator(pin="1234")
    modem.state.pin_silent = True
    cfg = modem_config(tmp_path, pin="1234", command_timeout_s=0.5)
    sim = PtySimulator(modem)
    rig = make_rig(cfg=cfg, sim=sim, start=False).start(ready=False)
    rig.events.wait("modem.status", timeout=6, state="pin-rejected")
    modem.state.pin_silent = False
    modem.state.sim = "ready"  # the PIN worked after all; only its answer was lost
    wait_until(lambda: rig.svc.status.sim == "ready", 6, "the SIM reported ready")
    assert "not tried again" not in rig.svc.status.detail
    assert json.loads((cfg.paths.state_dir / STATE_FILE).read_text()) == {"rejected": []}
    sim.usb_reset()  # after a power cycle the SIM asks again, and gets the PIN once more
    wait_until(lambda: modem.state.pin_entries == 2, 6, "the PIN sent after the power cycle")
    wait_until(lambda: rig.svc.status.state == "ready", 6, "the modem ready and registered")


@pytest.mark.parametrize("profile", ["ec25", "sim7600"])
def test_the_sims_last_try_is_never_spent(make_rig: Callable[..., Rig], tmp_path: Path, profile: str) -> None:
    modem = ModemSimulator(profile=profile, pin="1234")
    modem.state.pin_tries = 1  # someone tried two wrong PINs in a phone
    cfg = modem_config(tmp_path, pin="1234")
    rig = make_rig(cfg=cfg, sim=PtySimulator(modem), start=False).start(ready=False)
    rig.events.wait("modem.status", timeout=6, state="sim-locked")
    wait_until(lambda: "one PIN try left" in rig.svc.status.detail, 3, "the reason")
    assert "in a phone" in rig.svc.status.detail
    assert modem.state.pin_entries == 0 and modem.state.pin_tries == 1
    assert rig.svc.status.sim == "last-try"
    report = checks.modem_sim(Context(rig.cfg))  # the doctor says what to do, not "put the PIN in secrets"
    assert report.status == "FAIL" and "once in a phone" in report.fix


def test_an_unreadable_record_sends_no_pin(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    cfg = modem_config(tmp_path, pin="1234")
    record = cfg.paths.state_dir / STATE_FILE
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{not json")  # e.g. a card corrupted by a power cut
    modem = ModemSimulator(pin="1234")
    rig = make_rig(cfg=cfg, sim=PtySimulator(modem), start=False).start(ready=False)
    rig.events.wait("modem.status", timeout=6, state="pin-rejected")
    wait_until(lambda: "cannot be read" in rig.svc.status.detail, 3, "the reason")
    assert f"Delete {record}" in rig.svc.status.detail
    assert modem.state.pin_entries == 0
