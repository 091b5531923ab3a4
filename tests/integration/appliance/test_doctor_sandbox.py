"""Doctor checks run inside sandboxed units must not FAIL for what the sandbox hides.

The web UI's diagnostics run under PrivateDevices=yes (no /dev/gpiochip*),
the provisioning report under PrivateNetwork=yes with
RestrictAddressFamilies=AF_UNIX (no TCP socket at all). Fakes stand in for
the devices, the core's control socket and the network.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from appliance.doctor import Context
from appliance.doctor import appliance as checks
from appliance.errors import ControlError
from tests.conftest import clinic_config

PI4 = "Raspberry Pi 4 Model B Rev 1.5"
CORE = {"box": {"version": "1.0", "started_at": "2026-03-01T10:00:00+00:00"}}


def panel_ctx(tmp_path: Path, *, chips: list[str], core: Any, model: str = PI4) -> Context:
    ctx = Context(clinic_config(tmp_path, simulate=False, panel={"pin_factory": "auto"}))
    ctx.cache["gpio.chips"] = chips
    ctx.cache["board.model"] = model
    ctx.cache["core-status"] = core
    return ctx


def test_panel_hidden_by_private_devices_is_a_warning_not_a_harmful_fail(tmp_path: Path) -> None:
    ctx = panel_ctx(tmp_path, chips=[], core=ControlError("the core does not answer"))
    result = checks.status_panel(ctx)
    assert result.status == "WARN"
    assert "not visible from this process" in result.detail and PI4 in result.detail
    assert "sudo clinicbox doctor" in result.fix
    assert not result.fix.startswith("this is not a Raspberry Pi")


def test_panel_driven_by_the_running_core_is_ok_even_without_dev_gpiochip(tmp_path: Path) -> None:
    result = checks.status_panel(panel_ctx(tmp_path, chips=[], core=CORE))
    assert result.status == "OK"
    assert "driven by the running core" in result.detail and "green 17" in result.detail


def test_panel_without_the_core_uses_the_chip_it_can_see(tmp_path: Path) -> None:
    ctx = panel_ctx(tmp_path, chips=["/dev/gpiochip0"], core=ControlError("down"))
    result = checks.status_panel(ctx)
    assert result.status == "OK" and "/dev/gpiochip0" in result.detail


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol"), "WARN"),  # AF_UNIX only
        (PermissionError(errno.EPERM, "Operation not permitted"), "WARN"),  # seccomp/firewall
        (PermissionError(errno.EACCES, "Permission denied"), "WARN"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "FAIL"),  # the UI is down
        (TimeoutError(errno.ETIMEDOUT, "timed out"), "FAIL"),
    ],
)
def test_web_ui_unreachable_because_of_the_sandbox_is_not_a_fail(tmp_path: Path, error: OSError, status: str) -> None:
    ctx = Context(clinic_config(tmp_path, web={"host": "127.0.0.1", "port": 8080}))

    def connect() -> None:
        raise error

    ctx.cache["web.connect"] = connect
    result = checks.web_ui(ctx)
    assert result.status == status
    if status == "WARN":
        assert result.detail.startswith("not checked") and "sudo clinicbox doctor" in result.fix
    else:
        assert "nothing answers on 127.0.0.1:8080" in result.detail
