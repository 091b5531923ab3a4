"""A status panel whose GPIO cannot be opened: the real core starts without it and answers calls.

On this machine the ``native`` pin factory finds no Pi and fails, as lgpio
failed on the Pi image when its working folder was read-only: a board
fault, not a wrong setting (the config check refuses those before the
core starts).
"""

from __future__ import annotations

from appliance.config import load_config
from appliance.doctor import Context
from appliance.doctor.appliance import status_panel
from tests.integration.sip.peers.sipp import uac_xml
from tests.integration.switchboard.live_ui import manager_ui

CALLER = "+12125550123"


def test_the_box_answers_without_a_panel_it_cannot_open_and_says_why(box, sipp) -> None:
    b = box(overlay={"panel": {"enabled": True, "pin_factory": "native"}}, stations={})
    fault = b.status()["box"]["faults"].get("panel", "")
    assert "cannot open the GPIO chip" in fault, b.tail()
    assert "the status panel is off, calls go on without it" in b.log.read_text(errors="replace")

    run = sipp(uac_xml(caller=CALLER, steps=[("audio", 2.0)]), target=f"127.0.0.1:{b.sip_port}", service="+12125550100")
    result = run.wait(30)
    assert (result.returncode, result.successful) == (0, 1), result.log
    rec = b.call_record(lambda r: r.caller == CALLER, timeout=10)
    assert rec.answered_at is not None

    ctx = Context(load_config(b.config))
    result = status_panel(ctx)
    assert result.status == "FAIL" and "cannot open the GPIO chip" in result.detail, result
    with manager_ui(b, live=True) as ui:
        page = ui.client.get("/diagnostics").get_data(as_text=True)
    shown = page.split('data-testid="diag-fault">', 1)[1].split("</dd>", 1)[0]
    assert "Off; calls go on without it." in shown and "cannot open the GPIO chip" in shown
    assert b.proc.poll() is None
