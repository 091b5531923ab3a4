"""At start, a core whose store has no manager shows a new setup code on the box's screen (the journal)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from appliance import setup_code
from appliance.app import Core
from appliance.config import load_config
from appliance.store import Store
from appliance.store.repos import make_repos

BOX = """\
config_version = 1
simulate = true

[paths]
state_dir = "."
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"
"""


def test_the_core_shows_a_setup_code_only_while_no_manager_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "clinicbox.toml").write_text(BOX)
    cfg = load_config(tmp_path / "clinicbox.toml")
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
    core = Core(cfg)
    core.open_store()
    try:
        with caplog.at_level(logging.WARNING, logger="appliance.app"):
            code = core.announce_setup_code()
        assert code is not None
        shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(code in line and "/setup" in line for line in shown)
        assert core.repos is not None
        core.repos.users.add_first_manager("amira", "test", password="correct horse battery")
        assert core.announce_setup_code() is None
        setup_code.claim(tmp_path, code)  # still valid: only finishing setup (web or bundle) voids codes
    finally:
        core.stop()
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    assert make_repos(cfg, store).users.has_manager()
    store.close()
