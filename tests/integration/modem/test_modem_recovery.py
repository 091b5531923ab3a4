"""Health and recovery on a real pty: hang, lost registration, SIM and PIN problems."""

from __future__ import annotations

from collections.abc import Callable

from appliance.doctor import Context
from appliance.doctor import modem as checks
from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator
from appliance.modem.status import read_status
from tests.conftest import clinic_config
from tests.integration.modem.conftest import FAST, Rig, modem_config, wait_until


def test_hung_modem_is_recovered_by_a_usb_reset_and_sms_flows_again(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(command_timeout_s=0.5)
    rig.bus.emit("trunk.down", reason="internet down")
    # The status reads "ready" a moment before its event reaches the route policy.
    wait_until(lambda: rig.svc.failover.route() == "gsm", 5, "the GSM route")
    generation = rig.sim.generation
    rig.modem.hang()
    rig.events.wait("modem.recovery", timeout=8, step="reinit", outcome="started")
    rig.events.wait("failover.changed", route="none")  # nothing can go out while it recovers
    rig.events.wait("modem.recovery", timeout=12, step="usb-reset", outcome="started")
    rig.events.wait("modem.recovery", timeout=12, outcome="recovered")
    wait_until(lambda: rig.svc.failover.route() == "gsm", 5, "the GSM route back")
    assert rig.sim.generation == generation + 1  # the device went away and came back
    assert rig.svc.status.state == "ready"
    assert [e["state"] for e in rig.events.of("modem.status")].count("recovering") >= 2
    sms_id = rig.svc.send_sms("+48601234567", "po awarii")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")
    status = read_status(rig.cfg.paths.run_dir)
    assert status is not None and status["last_recovery"]["outcome"] == "recovered"


def test_registration_lost_for_long_is_recovered_by_a_radio_reset(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(registration_lost_s=1)
    rig.modem.set_network(False, sticky=True)  # only a reboot brings it back
    rig.events.wait("modem.status", state="searching")
    rig.events.wait("modem.recovery", timeout=8, step="reinit", outcome="started")
    rig.events.wait("modem.recovery", timeout=8, step="radio-reset", outcome="started")
    rig.events.wait("modem.recovery", timeout=12, outcome="recovered")
    assert rig.svc.status.registered
    assert not any(e["step"] == "usb-reset" for e in rig.events.of("modem.recovery"))


def test_a_short_network_gap_needs_no_recovery(rig: Rig) -> None:
    rig.modem.set_network(False)
    rig.events.wait("modem.status", state="searching")
    rig.modem.set_network(True)
    rig.events.wait("modem.status", timeout=4, state="ready")
    assert rig.events.of("modem.recovery") == []


def test_wrong_pin_is_tried_once_and_never_again(make_rig: Callable[..., Rig], tmp_path) -> None:  # type: ignore[no-untyped-def]
    modem = ModemSimulator(pin="1234")
    cfg = modem_config(tmp_path, pin="0000")
    first = make_rig(cfg=cfg, sim=PtySimulator(modem), start=False).start(ready=False)
    first.events.wait("modem.status", state="pin-rejected")
    assert modem.state.pin_tries == 2
    first.svc.stop()
    second = make_rig(cfg=cfg, sim=PtySimulator(modem), start=False).start(ready=False)
    second.events.wait("modem.status", state="pin-rejected")
    wait_until(lambda: second.svc.status.detail, what="the reason")
    assert "not tried again" in second.svc.status.detail
    assert modem.state.pin_tries == 2  # the SIM was not asked again: no lock-out
    assert second.events.of("modem.recovery") == []  # a reset cannot fix a PIN
    second.svc.stop()
    fixed = modem_config(tmp_path, pin="1234")
    third = make_rig(cfg=fixed, sim=PtySimulator(modem))
    assert third.svc.status.sim == "ready" and modem.state.pin_tries == 3


def test_sim_needing_a_pin_without_one_configured(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(sim=PtySimulator(ModemSimulator(pin="1234")), start=False).start(ready=False)
    rig.events.wait("modem.status", state="sim-locked")
    assert "modem.pin" in rig.svc.status.detail


def test_missing_sim_is_reported_to_doctor(make_rig: Callable[..., Rig]) -> None:
    modem = ModemSimulator()
    modem.state.sim = "absent"
    rig = make_rig(sim=PtySimulator(modem), start=False).start(ready=False)
    rig.events.wait("modem.status", state="no-sim")
    ctx = Context(rig.cfg)
    results = {r.name: r for r in (checks.modem_present(ctx), checks.modem_sim(ctx), *checks.modem_network(ctx))}
    assert results["modem"].status == "OK" and "owned by the running core" in results["modem"].detail
    assert results["modem SIM"].status == "FAIL" and "insert the SIM" in results["modem SIM"].fix
    assert results["modem network"].status == "WARN"


def test_another_sim_gets_its_own_try_of_the_pin(make_rig: Callable[..., Rig], tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = modem_config(tmp_path, pin="0000")
    first = ModemSimulator(pin="1234")
    rig = make_rig(cfg=cfg, sim=PtySimulator(first), start=False).start(ready=False)
    rig.events.wait("modem.status", state="pin-rejected")
    rig.svc.stop()
    swapped = ModemSimulator(pin="0000")  # the technician put in the SIM this PIN belongs to
    swapped.state.iccid = "8948022999999999999"
    again = make_rig(cfg=cfg, sim=PtySimulator(swapped))
    assert again.svc.status.sim == "ready" and first.state.pin_tries == 2


def test_a_hang_a_usb_reset_cannot_clear_is_cleared_by_cutting_the_power(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(command_timeout_s=0.5, power_gpio=26, power_off_s=1, reset_wait_s=3)
    line = rig.svc.power_line
    assert line is not None and line.powered
    rig.modem.hang(deep=True)  # firmware wedged: re-enumerating does not help
    rig.events.wait("modem.recovery", timeout=12, step="usb-reset", outcome="started")
    rig.events.wait("modem.recovery", timeout=15, step="power-cut", outcome="started")
    rig.events.wait("modem.recovery", timeout=15, outcome="recovered")
    assert rig.svc.status.state == "ready"
    levels = [s.state for s in line.device.pin.states]
    assert levels[-2:] == [False, True]  # the pin cut the supply, then gave it back
    report = checks.modem_recovery(Context(rig.cfg))
    assert report.status == "OK" and "last: power-cut recovered" in report.detail
    assert "power cut (GPIO 26)" in report.detail
    sms_id = rig.svc.send_sms("+48601234567", "po awarii")
    rig.events.wait("modem.sms.status", sms_id=sms_id, status="sent")


def test_without_a_power_line_the_ladder_ends_at_the_usb_reset(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(command_timeout_s=0.5, recovery_cooldown_s=60, reset_wait_s=3)
    assert rig.svc.power_line is None
    rig.modem.hang(deep=True)
    rig.events.wait("modem.status", timeout=20, state="failed")
    steps = [e["step"] for e in rig.events.of("modem.recovery") if e["outcome"] == "started"]
    assert "usb-reset" in steps and "power-cut" not in steps


def test_doctor_says_when_the_power_line_could_not_be_opened(make_rig: Callable[..., Rig], tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = clinic_config(tmp_path, simulate=True, modem={**FAST, "power_gpio": 26}, panel={"pin_factory": "rpigpio"})
    rig = make_rig(cfg=cfg)  # RPi.GPIO is not installed here: the pin cannot be opened
    assert rig.svc.power_line is None and rig.svc.status.state == "ready"  # the modem works all the same
    report = checks.modem_recovery(Context(rig.cfg))
    assert report.status == "WARN" and "GPIO 26 unavailable" in report.detail
