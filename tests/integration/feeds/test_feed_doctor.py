"""``clinicbox doctor``'s feed checks against a real listener and a real store."""

from __future__ import annotations

import socket
from pathlib import Path

from appliance.doctor import Context
from appliance.doctor import feeds as checks
from appliance.feeds.service import FeedService
from appliance.store.connection import Store
from appliance.store.repos import Repos
from tests.conftest import clinic_config, free_port

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"


def doctor(tmp: Path, store: Store, **hl7: object) -> dict[str, tuple[str, str]]:
    ctx = Context(clinic_config(tmp, feeds={"hl7": hl7}))
    ctx.cache["store"] = store
    return {r.name: (r.status, r.detail) for r in checks.hl7_feed(ctx)}


def test_off_listening_refusals_and_the_worklist(tmp_path: Path, store: Store, repos: Repos) -> None:
    assert doctor(tmp_path, store)["HL7 feed"][0] == "OK"
    port = free_port(socket.SOCK_STREAM)
    settings = {"enabled": True, "port": port, "allowed_senders": ["127.0.0.1"]}
    down = doctor(tmp_path, store, **settings)
    assert down["HL7 listener"][0] == "WARN" and f"127.0.0.1:{port}" in down["HL7 listener"][1]
    service = FeedService(clinic_config(tmp_path, feeds={"hl7": settings}), repos, store.clock)
    service.start()
    try:
        service.intake.handle((CORPUS / "s12_pl_cr.hl7").read_bytes())
        healthy = doctor(tmp_path, store, **settings)
        assert healthy["HL7 listener"][0] == "OK" and healthy["HL7 messages"][0] == "OK"
        assert "1 applied, 0 held, 0 rejected" in healthy["HL7 messages"][1]
        service.intake.handle((CORPUS / "bad_status.hl7").read_bytes())
        aid = store.query_tuples("SELECT id FROM appointments WHERE filler_id = 'F1001'")[0][0]
        repos.appointments.set_status(aid, "confirmed", "reminder:voice")
        found = doctor(tmp_path, store, **settings)
    finally:
        service.stop()
    status, detail = found["HL7 messages"]
    assert status == "WARN" and "BAD-0009 rejected at SCH-25: unknown filler status" in detail
    assert "Wiśniewska" not in detail
    assert found["front-desk worklist"][0] == "WARN" and "1 changes" in found["front-desk worklist"][1]
