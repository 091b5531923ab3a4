"""The doctor's clock checks read the running core's clock: only the core hears
the mobile network's time, so a fresh clock in the doctor's own process would
report a box that dials on network time as unsynchronised."""

from __future__ import annotations

from pathlib import Path

from appliance.doctor import Context
from appliance.doctor import reminders as reminder_checks
from appliance.doctor import system as checks
from tests.conftest import clinic_config

GSM = {
    "trusted": True,
    "source": "gsm",
    "detail": "system clock is 9000 s off and NTP is unreachable: following mobile network time",
}


def context(tmp_path: Path, core: object) -> Context:
    ctx = Context(clinic_config(tmp_path, simulate=False, clock={"assume_synced": False}))
    ctx.cache["core-status"] = core
    return ctx


def test_clock_checks_follow_the_cores_network_time(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"box": {"clock": GSM}})
    result = checks.clock(ctx)
    assert result.status == "OK" and "gsm" in result.detail and "following mobile network time" in result.detail
    assert reminder_checks.reminder_clock(ctx).status == "OK"


def test_an_untrusted_core_clock_fails_with_its_reason(tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        {
            "box": {
                "clock": {"trusted": False, "source": "none", "detail": "no NTP sync and no mobile network time yet"}
            }
        },
    )
    result = checks.clock(ctx)
    assert result.status == "FAIL" and "no mobile network time yet" in result.detail
