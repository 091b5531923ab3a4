"""``clinicbox appointments list``: what a technician sees when checking a feed."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.demo.seed import seed
from appliance.feeds.intake import Intake
from appliance.store import Store
from tests.conftest import repos_with_planner, run_cli

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "hl7"


def test_the_list_shows_source_ids_and_state_with_names_masked(tmp_path: Path) -> None:
    result = seed(tmp_path / "clinic", hl7_port=1)
    cfg = load_config(result.config_path)
    store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True), media_dir=cfg.media_dir)
    intake = Intake(cfg, repos_with_planner(cfg, store), store.clock)
    for name in ("s12_pl_cr.hl7", "s12_zh_crlf_noeol.hl7", "s15_zh_cancel.hl7"):
        assert intake.handle((CORPUS / name).read_bytes()).code == "AA"
    store.close()
    config = str(result.config_path)
    done = run_cli("--config", config, "appointments", "list", "--json", "--days", "3660")
    assert done.returncode == 0, done.stderr
    fed = [r for r in json.loads(done.stdout) if r["source"] == "hl7"]
    assert [(r["filler_id"], r["placer_id"], r["feed"], r["state"]) for r in fed] == [
        ("F1001", "P1001", "MEDREC@MAIN", "booked"),
        ("F3001", "P3001", "MEDREC@MAIN", "cancelled"),
    ]
    assert fed[0]["patient"] == "Z*** W***" and "Wiśniewska" not in done.stdout
    default = run_cli("--config", config, "appointments", "list")
    assert default.returncode == 0 and "F1001" not in default.stdout  # 2030 is beyond the default 30 days
    named = run_cli("--config", config, "appointments", "list", "--days", "3660", "--names")
    assert "filler_id=F1001" in named.stdout and "Zofia Wiśniewska" in named.stdout
    bad = run_cli("--config", config, "appointments", "list", "--days", "0")
    assert bad.returncode == 1 and "--days 0" in bad.stderr
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    audited = store.query_tuples("SELECT detail FROM audit_log WHERE object_type = 'appointments'")
    store.close()
    assert any("with names" in r[0] for r in audited) and len(audited) == 3
