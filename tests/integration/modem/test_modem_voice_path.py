"""The voice path through the modem service and `doctor`, per simulated family:
the set-up at start, the family's step when a call connects and ends, one
restart to switch a Quectel's USB audio on, and what doctor says."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.doctor import Context
from appliance.doctor import modem as checks
from appliance.modem.sim import ModemSimulator, PtySimulator
from appliance.modem.status import read_status
from tests.integration.modem.conftest import Rig, modem_config, wait_until
from tests.integration.modem.test_modem_cli import clinicbox, write_config

CALLER = "+48601234567"


def rig_for(make_rig: Callable[..., Rig], tmp_path: Path, profile: str, **state: object) -> Rig:
    cfg = modem_config(tmp_path)
    sim = PtySimulator(ModemSimulator(profile=profile))
    for key, value in state.items():
        setattr(sim.modem.state, key, value)
    return make_rig(cfg=cfg, sim=sim, start=False)


def doctor_voice(cfg) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    result = checks.modem_voice(Context(cfg))
    return result.status, result.detail, result.fix


def test_simcom_pcm_starts_when_the_call_connects_and_stops_when_it_ends(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "sim7600").start()
    assert rig.svc.status.voice is True  # calls offered
    assert rig.svc.voice_route().route == "serial-pcm" and rig.svc.voice_route().port == rig.sim.voice.path
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    assert rig.modem.voice_route() == ""
    rig.svc.answer().result(3)
    wait_until(lambda: rig.modem.voice_route() == "serial", 3, "AT+CPCMREG=1 after the answer")
    rig.svc.hangup().result(3)
    wait_until(lambda: not rig.modem.state.cpcmreg and not rig.modem.state.calls, 3, "the PCM stopped")
    status = read_status(rig.cfg.paths.run_dir)
    assert status is not None and status["voice_path"]["text"] == f"voice path: serial PCM on {rig.sim.voice.path}"
    assert doctor_voice(rig.cfg)[:2] == ("OK", f"voice path: serial PCM on {rig.sim.voice.path}")


def test_a_failing_pcm_step_ends_the_call_and_doctor_says_why(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "e173").start()
    rig.modem.state.voice_errors = {"^DDSETEX"}  # the stick refuses the step during calls
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    rig.events.wait("modem.call.state", state="idle")
    wait_until(lambda: not rig.modem.state.calls, 3, "the call without voice hung up")
    status, detail, _ = doctor_voice(rig.cfg)
    assert status == "WARN" and "last call: AT^DDSETEX=2 answered ERROR: the call has no voice" in detail
    assert rig.svc.worker.alive and rig.svc.status.state == "ready"  # the driver carries on


def test_quectel_usb_audio_off_is_switched_on_with_one_restart(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "ec25", uac_stored=False).start(ready=False)
    wait_until(lambda: rig.svc.status.state == "ready", 10, "the modem back after its restart")
    assert rig.sim.generation == 1  # restarted exactly once
    assert rig.modem.state.uac_active and rig.modem.state.qpcmv == "1,2"
    assert doctor_voice(rig.cfg)[:2] == ("OK", "voice path: USB audio (UAC)")
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    assert rig.modem.voice_route() == "uac"


def test_quectel_that_forgets_usb_audio_is_restarted_once_not_in_a_loop(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "ec25", uac_stored=False)
    rig.modem.state.voice_errors = set()
    original = rig.modem.state.power_on

    def forgetful() -> None:  # firmware that does not keep the USBCFG change
        rig.modem.state.uac_stored = False
        original()

    rig.modem.state.power_on = forgetful  # type: ignore[method-assign]
    rig.start(ready=False)
    wait_until(lambda: rig.svc.status.state == "ready", 10, "the modem ready without voice")
    wait_until(lambda: rig.svc.status.voice_path and "still off" in rig.svc.status.voice_path["text"], 5, "report")
    assert rig.sim.generation == 1
    assert rig.svc.status.voice is False
    status, detail, fix = doctor_voice(rig.cfg)
    assert status == "FAIL" and "does not keep the setting" in detail and "USB audio" in fix


def test_an_unknown_modem_offers_no_calls_and_refuses_the_incoming_one(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "le910").start()
    assert rig.svc.status.voice is False and rig.svc.failover.voice_capacity() == 0
    with pytest.raises(Exception, match="GSM calls are not offered on this modem"):
        rig.svc.dial("+48601234567")
    rig.modem.inject_call(CALLER)
    wait_until(lambda: not rig.modem.state.calls, 5, "the call refused")
    assert rig.events.of("modem.call.incoming") == []
    status, detail, fix = doctor_voice(rig.cfg)
    assert status == "WARN" and detail.startswith("voice path: not supported on this modem")
    assert "SMS still work" in fix


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("ec25", ("OK", "voice path: USB audio (UAC)")),
        ("le910", ("WARN", "voice path: not supported on this modem (Telit LE910C1-EU: no known voice path")),
    ],
)
def test_doctor_probes_the_voice_path_when_the_core_is_not_running(
    tmp_path: Path, profile: str, expected: tuple[str, str]
) -> None:
    cfg = load_config(write_config(tmp_path, f'simulator_profile = "{profile}"'))
    status, detail, _ = doctor_voice(cfg)
    assert (status, detail[: len(expected[1])]) == expected


def test_doctor_probe_of_a_serial_pcm_modem_names_its_voice_port(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, 'simulator_profile = "sim7600"'))
    status, detail, _ = doctor_voice(cfg)
    assert status == "OK" and detail.startswith("voice path: serial PCM on /dev/pts/")


def test_modem_status_shows_the_voice_path(tmp_path: Path) -> None:
    result = clinicbox(write_config(tmp_path, 'simulator_profile = "e173"'), "modem", "status")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^voice\s+serial PCM on /dev/pts/\d+$", result.stdout, re.M), result.stdout


def test_the_box_stops_simcom_pcm_before_it_hangs_up(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "sim7600").start()
    seen: list[str] = []
    dispatch = rig.modem.dispatch

    def spy(name: str, arg: str) -> object:
        if name in ("+CPCMREG", "+CHUP", "H"):
            seen.append(f"{name}{arg}")
        return dispatch(name, arg)

    rig.modem.dispatch = spy  # type: ignore[method-assign]
    rig.modem.inject_call(CALLER)
    rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    wait_until(lambda: "+CPCMREG=1" in seen, 3, "AT+CPCMREG=1")
    rig.svc.hangup().result(3)
    rig.events.wait("modem.call.state", state="idle")
    time.sleep(0.3)  # the idle event's job runs too: it must not send a second =0
    assert seen == ["+CPCMREG=1", "+CPCMREG=0", "+CHUP"]


def test_a_voice_setup_error_at_start_keeps_sms_and_doctor_names_the_step(make_rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rig = rig_for(make_rig, tmp_path, "sim7600", voice_errors={"+CPCMREG"}).start()
    assert rig.svc.status.state == "ready" and rig.svc.status.voice is False
    status, detail, fix = doctor_voice(rig.cfg)
    assert status == "FAIL"
    assert detail == (
        "voice path: serial PCM (AT+CPCMREG=? answered ERROR: no PCM over USB); GSM calls are not offered"
    )
    assert "modem.voice_port" in fix
    sms_id = rig.svc.send_sms("+48601234567", "Wizyta jutro")
    wait_until(lambda: rig.modem.sent, 10, "the SMS sent all the same")
    assert rig.sms(sms_id).status in ("sent", "delivered")
