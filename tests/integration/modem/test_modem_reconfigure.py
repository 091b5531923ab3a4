"""A reloaded config and the modem: the driver, SMS queue and failover are built at start,
so every change the modem would use waits for a restart, and the modem says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import Applied
from tests.conftest import clinic_config
from tests.integration.modem.conftest import FAST, modem_config


def test_modem_changes_wait_for_a_restart(make_rig: Callable[..., Any], tmp_path: Path) -> None:
    rig = make_rig(start=False)
    rate = rig.cfg.modem.sms_per_minute
    changed = clinic_config(
        tmp_path,
        simulate=True,
        clinic={"country": "US"},
        modem={**FAST, "sms_per_minute": rate + 1},
        hours={"sunday": ["10:00-11:00"]},  # not the modem's business
    )
    assert rig.svc.reconfigure(changed) == Applied(restart=["clinic.country", "modem.sms_per_minute"])
    assert rig.svc.settings.sms_per_minute == rate  # the running modem keeps its settings until the restart
    assert rig.svc.reconfigure(changed) == Applied(), "a reload that changes nothing reports nothing"
    assert rig.svc.reconfigure(modem_config(tmp_path)).restart == ["clinic.country", "modem.sms_per_minute"]
