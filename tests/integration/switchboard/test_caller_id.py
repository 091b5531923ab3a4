"""Outgoing caller ID on the wire: a console callback through the trunk, to a
SIPp "provider" that answers and logs the INVITE it received."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appliance import sip
from tests.integration.sip.peers.sipp import SippScenario, uas_xml
from tests.integration.switchboard.box import Box
from tests.integration.switchboard.conftest import DESKS

CALLER_ID = "+48221234567"
PATIENT = "+48601234567"


def received_invite(message_log: Path) -> sip.SipMessage:
    """The first INVITE in SIPp's ``-trace_msg`` log: its request line and headers, parsed."""
    text = message_log.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    match = re.search(r"^INVITE .*?(?=\n\n|\Z)", text, re.S | re.M)
    assert match, f"SIPp logged no INVITE:\n{text[-3000:]}"
    lines = [line for line in match.group(0).splitlines() if not re.match(r"(?i)(content-length|l)\s*:", line)]
    return sip.parse("\r\n".join(lines) + "\r\n\r\n")


def call_out_through_the_trunk(
    box: Callable[..., Box], sipp: Callable[..., SippScenario], station_proc: Any, tmp_path: Path, trunk: dict[str, Any]
) -> sip.SipMessage:
    log = tmp_path / "provider-messages.log"
    provider = sipp(
        uas_xml(steps=[("audio", 1.0)], hangup=True), timeout_s=40, extra=["-trace_msg", "-message_file", str(log)]
    )
    b = box(
        overlay={"trunk": {"registrar": f"sip:127.0.0.1:{provider.port}", **trunk}},
        stations={"desk2": DESKS["desk2"]},
    )
    b.wait(lambda s: s["trunk"]["state"] == "up", timeout=10, what="the trunk up")
    station_proc(b.config, station="desk2", core=b.core)
    b.wait_agent("desk2", "available")
    b.control.call("call.originate", station="desk2", number=PATIENT)
    result = provider.wait(30)
    assert (result.returncode, result.successful) == (0, 1), result.log
    rec = b.call_record(lambda r: r.direction == "outbound", timeout=15)
    assert rec.route == "trunk" and rec.callee == PATIENT and rec.disposition == "answered"
    return received_invite(log)


@pytest.mark.parametrize(
    ("header", "from_user", "pai"),
    [
        ("both", CALLER_ID, f"<sip:{CALLER_ID}@127.0.0.1:"),
        ("from", CALLER_ID, None),
        ("pai", "clinicbox", f"<sip:{CALLER_ID}@127.0.0.1:"),
    ],
)
def test_the_provider_sees_the_clinics_caller_id(
    box, sipp, station_proc, tmp_path: Path, header: str, from_user: str, pai: str | None
) -> None:
    invite = call_out_through_the_trunk(
        box, sipp, station_proc, tmp_path, {"caller_id": CALLER_ID, "caller_id_header": header}
    )
    assert sip.uri_user(invite.header("from")) == from_user, invite.header("from")
    assert sip.uri_user(invite.uri or "") == PATIENT
    if pai is None:
        assert invite.header("p-asserted-identity") == ""
    else:
        assert invite.header("p-asserted-identity").startswith(pai), invite.header("p-asserted-identity")


def test_without_a_caller_id_the_trunk_keeps_its_own_identity(box, sipp, station_proc, tmp_path: Path) -> None:
    invite = call_out_through_the_trunk(box, sipp, station_proc, tmp_path, {})
    assert sip.uri_user(invite.header("from")) == "clinicbox"
    assert invite.header("p-asserted-identity") == ""
