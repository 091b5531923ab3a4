"""Doctor checks of the appliance with fakes: sound cards, GPIO chips, a real listener for the web UI."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from appliance.doctor import Context
from appliance.doctor import appliance as checks
from appliance.errors import ControlError
from appliance.provision_status import RunStatus, write_status
from tests.conftest import clinic_config

CARDS = """\
 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0xf7f10000 irq 32
 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS
                      GN Netcom A/S Jabra EVOLVE 20 MS at usb-0000:00:14.0-2, full speed
 2 [Device         ]: USB-Audio - USB Audio Device
                      C-Media Electronics Inc. USB Audio Device at usb-0000:00:14.0-3
"""


def ctx_for(tmp_path: Path, **overrides: Any) -> Context:
    return Context(clinic_config(tmp_path, **overrides))


def test_parse_cards() -> None:
    assert checks.parse_cards(CARDS) == [
        ("PCH", "HDA Intel PCH"),
        ("Headset", "Jabra EVOLVE 20 MS"),
        ("Device", "USB Audio Device"),
    ]


def test_each_station_headset_is_looked_for(tmp_path: Path) -> None:
    stations = {
        "desk1": {"name": "Desk 1", "audio_device": "Jabra*"},
        "desk2": {"name": "Desk 2", "audio_device": "Plantronics"},
        "phone": {"name": "Desk phone", "contact": "sip:phone@127.0.0.1"},
    }
    ctx = ctx_for(tmp_path, simulate=False, stations=stations)
    ctx.cache["asound.cards"] = CARDS
    results = {r.name: r for r in checks.station_audio(ctx)}
    assert results["station audio desk1"].status == "OK"
    assert "card Headset" in results["station audio desk1"].detail
    assert results["station audio desk2"].status == "FAIL"
    assert "Headset" in results["station audio desk2"].detail and "aplay -l" in results["station audio desk2"].fix
    assert "station audio phone" not in results


def test_simulated_headsets_are_a_warning(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, simulate=True, stations={"desk1": {"audio_device": "Jabra"}})
    (result,) = checks.station_audio(ctx)
    assert result.status == "WARN" and "simulated" in result.detail


def test_status_panel(tmp_path: Path) -> None:
    assert checks.status_panel(ctx_for(tmp_path, simulate=True)).status == "WARN"
    off = ctx_for(tmp_path, simulate=False, panel={"enabled": False})
    assert checks.status_panel(off).status == "OK"
    bare = ctx_for(tmp_path, simulate=False, panel={"pin_factory": "native"})
    bare.cache["gpio.chips"] = []
    bare.cache["core-status"] = ControlError("the core does not answer")
    result = checks.status_panel(bare)
    assert result.status == "WARN" and "panel.enabled = false" in result.fix
    pi = ctx_for(tmp_path, simulate=False, panel={"pin_factory": "native"})
    pi.cache["gpio.chips"] = ["/dev/gpiochip0"]
    pi.cache["core-status"] = ControlError("the core does not answer")
    result = checks.status_panel(pi)
    assert result.status == "OK" and "green 17" in result.detail


def test_a_panel_the_running_core_could_not_open_fails(tmp_path: Path) -> None:
    """The core says so in its status; doctor believes it over the GPIO chips it sees itself."""
    ctx = ctx_for(tmp_path, simulate=False, panel={"pin_factory": "lgpio"})
    ctx.cache["gpio.chips"] = ["/dev/gpiochip0"]
    ctx.cache["core-status"] = {"box": {"faults": {"panel": "cannot open the GPIO chip: [Errno 16] busy"}}}
    result = checks.status_panel(ctx)
    assert result.status == "FAIL"
    assert "Errno 16" in result.detail and "calls go on" in result.detail
    assert "restart clinicbox-core" in result.fix
    ctx = ctx_for(tmp_path, simulate=False, panel={"pin_factory": "lgpio"})
    ctx.cache["core-status"] = {"box": {"faults": {}}}
    result = checks.status_panel(ctx)
    assert result.status == "OK" and "driven by the running core" in result.detail


def test_web_ui_reachable_over_tcp(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert checks.web_ui(ctx_for(tmp_path, web={"host": "0.0.0.0", "port": port})).status == "OK"
    result = checks.web_ui(ctx_for(tmp_path, web={"host": "127.0.0.1", "port": port}))
    assert result.status == "FAIL" and f"127.0.0.1:{port}" in result.detail


def test_web_ui_reachable_over_a_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "web.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()
        assert checks.web_ui(ctx_for(tmp_path, web={"unix_socket": str(path)})).status == "OK"


def test_web_ui_with_a_fake_connector(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)

    def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    ctx.cache["web.connect"] = refused
    assert checks.web_ui(ctx).status == "FAIL"


def test_last_provisioning_result(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    state = ctx.cfg.paths.state_dir
    assert checks.provisioning(ctx).detail == "never provisioned from a USB stick"
    write_status(
        state,
        RunStatus(
            "a",
            "succeeded",
            "2026-03-01T10:00:00+00:00",
            "2026-03-01T10:01:00+00:00",
            bundle="setup",
            changes=["x", "y"],
        ),
    )
    result = checks.provisioning(ctx)
    assert result.status == "OK" and "(setup) applied: 2 changes" in result.detail
    write_status(
        state,
        RunStatus(
            "b",
            "failed",
            "2026-03-02T10:00:00+00:00",
            "2026-03-02T10:00:01+00:00",
            reason="the bundle is unsigned (provision.sig is missing)\nmore",
        ),
    )
    result = checks.provisioning(ctx)
    assert result.status == "WARN" and "unsigned" in result.detail and "provision check" in result.fix
    write_status(state, RunStatus("c", "running", "2026-01-01T00:00:00+00:00"))
    assert "never finished" in checks.provisioning(ctx).detail
