"""The edge on every address (sip.bind_address = 0.0.0.0, the image's default).

Kamailio's socket on the wildcard address would name itself 0.0.0.0 in the
Record-Route it adds; a provider that follows it (as RFC 3261 asks) sends
the ACK and the BYE nowhere, and the call drops. The edge advertises the
address it is reached at instead, and routes what comes back along it.
"""

from __future__ import annotations

import re

from appliance.config import load_config
from appliance.edge.script import advertised_host
from tests.integration.sip.peers.sipp import uac_xml


def test_a_caller_following_the_record_route_of_an_edge_on_every_address_completes_its_call(
    edge_box, sipp, peer_dir
) -> None:
    b, edge = edge_box(overlay={"sip": {"bind_address": "0.0.0.0"}})
    host = advertised_host(load_config(b.config))
    assert host != "0.0.0.0"
    assert edge.rpc.advertised() == {host}  # what the core's link compares with the box's address now
    messages = peer_dir / "rr-messages.log"
    run = sipp(
        uac_xml(steps=[("pause", 1500)], follow_routes=True),
        target=f"127.0.0.1:{b.sip_port}",
        extra=["-trace_msg", "-message_file", str(messages)],
    )
    result = run.wait(30)
    text = messages.read_text(encoding="utf-8", errors="replace")
    routes = re.findall(r"^Record-Route:\s*(.+)$", text, flags=re.M | re.I)
    assert routes, text[-3000:]
    assert all("0.0.0.0" not in r for r in routes), routes
    assert any(f"sip:{host}:{b.sip_port};" in r or f"sip:{host};" in r for r in routes), (host, routes)
    assert result.successful == 1, result.log  # ACK and BYE went along the route: the box answered the BYE
    rec = b.call_record()
    # the caller's BYE reached the core along the route (the core did not end it on a timeout)
    assert (rec.disposition, rec.hangup_by, rec.sip_code) == ("ivr", "caller", 200), rec
