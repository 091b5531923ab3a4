"""A reloaded config and the modem: a changed ``[modem]`` restarts the modem's worker
with the new settings at once (port closed and opened again), unless a GSM call is
in progress; what the modem takes only at the core's start waits for a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import Applied
from tests.conftest import clinic_config
from tests.integration.modem.conftest import FAST, modem_config, wait_until

CALLER = "+48601234567"


def test_modem_changes_restart_the_modem_and_the_rest_waits_for_a_restart(
    make_rig: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make_rig()
    rate = rig.cfg.modem.sms_per_minute
    changed = clinic_config(
        tmp_path,
        simulate=True,
        clinic={"country": "US"},
        modem={**FAST, "sms_per_minute": rate + 1},
        hours={"sunday": ["10:00-11:00"]},  # not the modem's business
    )
    assert rig.svc.reconfigure(changed) == Applied(applied=["modem.sms_per_minute"], restart=["clinic.country"])
    assert rig.svc.settings.sms_per_minute == rate + 1 and rig.svc.sms.settings.sms_per_minute == rate + 1
    wait_until(lambda: rig.svc.status.state == "ready", 10, "the modem to be ready again")
    assert rig.svc.healthy()
    assert rig.svc.reconfigure(changed) == Applied(), "a reload that changes nothing reports nothing"
    # The restarted modem works: a text arrives and is stored.
    rig.modem.inject_sms(CALLER, "TAK")
    assert rig.sms(rig.events.wait("modem.sms.received")["sms_id"]).body == "TAK"
    assert rig.svc.reconfigure(modem_config(tmp_path)).restart == ["clinic.country"]


def test_during_a_gsm_call_modem_changes_wait_and_the_call_goes_on(
    make_rig: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make_rig()
    rate = rig.cfg.modem.sms_per_minute
    rig.modem.inject_call(CALLER)
    incoming = rig.events.wait("modem.call.incoming")
    rig.svc.answer().result(3)
    rig.events.wait("modem.call.state", state="active", direction="in")
    worker = rig.svc.worker
    assert rig.svc.reconfigure(modem_config(tmp_path, sms_per_minute=rate + 1)) == Applied(
        restart=["modem.sms_per_minute"]
    )
    assert rig.svc.worker is worker and rig.svc.settings.sms_per_minute == rate
    assert rig.svc.call_state().state == "active"
    rig.modem.remote_hangup()
    ended = rig.events.wait("modem.call.state", state="idle")
    assert ended["reason"] == "hangup" and ended["call"] == incoming["call"]
