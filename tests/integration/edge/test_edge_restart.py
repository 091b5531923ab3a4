"""An edge restart keeps the desk phones registered.

A reload that changes a setting rendered into the edge's script makes the
edge exit and start again (here under a supervisor, as systemd's
``Restart=always`` on the box). The registrations are written through to
the edge's db_text table and loaded by the new Kamailio, so the phones stay
reachable: the core calls one through the new edge at once, and neither
phone sent a REGISTER in between (its binding's Call-ID and CSeq are the
ones from before the restart).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tests.integration.edge.conftest import DESK, Edge, station_password, wait_registered, wait_rtp
from tests.integration.sip.peers.sipp import uac_xml

STATIONS = {**DESK, "desk2": {"name": "Desk 2", "queues": ["appointments"]}}
A = "+12125550007"


def _bindings(edge: Edge) -> dict[str, list[tuple[str, str, int]]]:
    """Station → (contact, Call-ID, CSeq) of each binding, from the edge's own ``ul.dump``."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for dom in edge.rpc.call("ul.dump").get("Domains", []):
        for aor in dom["Domain"].get("AoRs", []):
            info = aor["Info"]
            out[info["AoR"]] = [
                (c["Contact"]["Address"], c["Contact"]["Call-ID"], int(c["Contact"]["CSeq"])) for c in info["Contacts"]
            ]
    return out


def _bindings_of_new_edge(edge: Edge, timeout: float = 20.0) -> dict[str, list[tuple[str, str, int]]]:
    """The new edge's bindings, once it answers its RPC socket (after it has bound its ports)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _bindings(edge)
        except Exception:
            assert edge.proc.poll() is None, f"the new edge exited:\n{edge.text()[-3000:]}"
            assert time.monotonic() < deadline, "the new edge never answered"
            time.sleep(0.1)


def _power_cut(pid: int) -> None:
    """SIGKILL Kamailio's main process and every worker it forked (as a power cut would)."""
    family = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        family += [int(c) for c in (task / "children").read_text().split()]
    for p in family:
        os.kill(p, signal.SIGKILL)
    for p in family[1:]:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{p}").exists() and (Path(f"/proc/{p}/stat").read_text().split()[2] != "Z"):
            assert time.monotonic() < deadline, f"worker {p} outlived SIGKILL"
            time.sleep(0.05)


def _change_trusted_networks(box: Any) -> None:
    settings = box.dir / "settings.toml"
    overlay = tomllib.loads(settings.read_text(encoding="utf-8"))
    overlay["sip"] = {**overlay.get("sip", {}), "trusted_networks": ["127.0.0.1/32", "127.0.0.3/32"]}
    settings.write_text(tomli_w.dumps(overlay), encoding="utf-8")


def test_desk_phones_stay_registered_and_reachable_across_an_edge_restart(edge_box, baresip, sipp) -> None:
    b, edge = edge_box(stations=STATIONS, supervise=True)
    phones = {}
    for user in ("desk1", "desk2"):
        phones[user] = baresip(user=user, registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b, user))
        wait_registered(edge, user)
    b.wait(lambda s: all(b.agent(u)["reachable"] for u in phones), timeout=10, what="both phones reachable")
    before = _bindings(edge)
    old_pid = edge.proc.pid

    _change_trusted_networks(b)
    result = b.control.call("config.reload")
    assert "sip.trusted_networks" in result["applied"]
    deadline = time.monotonic() + 15
    while edge.restarts < 1 or edge.proc.pid == old_pid:
        assert time.monotonic() < deadline, f"the edge was not restarted:\n{edge.text()[-3000:]}"
        time.sleep(0.1)
    after = _bindings_of_new_edge(edge)
    assert "127.0.0.3/32" in (edge.dir / "kamailio.cfg").read_text()  # it is the new edge
    assert after == before  # the same bindings, loaded from disk: no phone registered again
    assert "Address already in use" not in edge.text()

    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    phone = phones["desk1"]
    phone.wait_event("CALL_INCOMING", timeout=20)  # the core reached desk1 through the new edge
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    wait_rtp(phone)
    time.sleep(3.0)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", timeout=5)
    assert run.wait(30).successful == 1
    assert b.call_record(lambda r: r.caller == A).agent == "desk1"
    assert _bindings(edge) == before  # still no REGISTER from either phone during all this
    assert edge.restarts == 1


def test_desk_phones_stay_reachable_after_a_reboot_empties_run(edge_box, baresip, sipp) -> None:
    """A power cut: the edge dies, /run (paths.edge_dir) is gone, the box starts again.

    The bindings are on the data partition (paths.edge_state_dir), so the new
    edge knows the phones, which refresh their registration only every hour
    or so, and the core reaches them at once."""
    b, edge = edge_box(stations=STATIONS)
    phone = baresip(user="desk1", registrar=f"sip:127.0.0.1:{b.sip_port}", password=station_password(b, "desk1"))
    wait_registered(edge, "desk1")
    b.wait(lambda s: b.agent("desk1")["reachable"], timeout=10, what="desk1 reachable")
    before = _bindings(edge)
    assert before.get("desk1")

    _power_cut(edge.proc.pid)  # Kamailio and its workers die at once, no goodbye
    edge.proc.wait(10)
    shutil.rmtree(edge.dir)  # /run is a tmpfs: empty after the reboot
    edge.proc = edge._spawn()
    after = _bindings_of_new_edge(edge)
    table = b.dir / "edge-state" / "registrations" / "location"
    assert after == before, (
        table.read_text() + edge.text()[-2000:]
    )  # loaded from the data partition; the phone sent no REGISTER

    run = sipp(
        uac_xml(caller=A, steps=[("audio", 1.0), ("dtmf", "0"), ("audio", 2.0)], hangup=False),
        target=f"127.0.0.1:{b.sip_port}",
        service="+12125550100",
    )
    phone.wait_event("CALL_INCOMING", timeout=20)
    phone.accept()
    phone.wait_event("CALL_ESTABLISHED", timeout=5)
    time.sleep(2.0)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", timeout=5)
    assert run.wait(30).successful == 1
    assert b.call_record(lambda r: r.caller == A).agent == "desk1"
    assert _bindings(edge) == before
