"""A fresh box in a real browser: the technician finds setup from the login page, enters the
code the box's screen shows, creates the first manager, the clinic and the trunk, and lands
on the dashboard; /setup is gone afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import setup_code
from appliance.app import Core
from appliance.config import load_config
from appliance.store import Store
from appliance.store.repos import make_repos
from tests.webui.conftest import Clinic, make_clinic, remove_clinic, screenshot, start_web, stop_web

pytestmark = pytest.mark.timeout(120)

PASSWORD = "a long manager password"


@pytest.fixture
def fresh_box() -> Iterator[Clinic]:
    """The demo clinic's files with a new, empty store: a freshly imaged box. The core's
    command table serves the control socket (no phone line): it owns the secrets file."""
    c = make_clinic()
    cfg = c.cfg
    for path in (cfg.db_path, Path(f"{cfg.db_path}-wal"), Path(f"{cfg.db_path}-shm")):
        path.unlink(missing_ok=True)
    cfg.db_path.with_name(cfg.db_path.name + ".keyid").unlink(missing_ok=True)
    cfg.paths.key_file.unlink()
    Store.create(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir).close()
    box = Core(cfg, c.config_path)
    cfg.paths.run_dir.mkdir(parents=True, exist_ok=True)
    box.control.start()
    start_web(c)
    yield c
    stop_web(c)
    box.control.stop()
    remove_clinic(c)


def test_a_technician_sets_up_a_fresh_box(page, fresh_box: Clinic) -> None:
    base = fresh_box.base_url
    code = setup_code.new_code(fresh_box.cfg.paths.state_dir, "console")  # what the box's screen shows

    page.goto(base + "/")
    page.click("[data-testid=setup-link]")
    page.fill("#code", "AAAA-BBBB-CCCC")
    page.click("[data-testid=setup-claim]")
    assert "wrong or was already used" in page.inner_text("[data-testid=setup-error]")
    page.fill("#code", code.lower())
    page.click("[data-testid=setup-claim]")

    page.wait_for_selector("[data-testid=setup-manager-form]")
    page.fill("#username", "amira")
    page.fill("#display_name", "Amira Haddad")
    page.fill("#password", "short")
    page.fill("#repeat", "short")
    page.click("[data-testid=setup-next]")
    assert "at least 10 characters" in page.inner_text("[data-testid=field-error-password]")
    page.fill("#password", PASSWORD)
    page.fill("#repeat", PASSWORD)
    page.click("[data-testid=setup-next]")

    page.wait_for_selector("[data-testid=setup-clinic-form]")
    page.fill("#f-name", "Lakeside Family Practice")
    page.fill("#f-timezone", "Europe/Warsaw")
    page.fill("#f-country", "PL")
    page.click("[data-testid=setup-next]")

    page.wait_for_selector("[data-testid=setup-trunk-form]")
    page.check("#f-enabled")
    page.fill("#f-registrar", "sip:sip.provider.example")
    page.fill("#f-username", "lakeside")
    page.fill("#f-password", "trunk-secret-1")
    page.click("[data-testid=setup-next]")

    page.wait_for_selector("[data-testid=setup-summary]")
    summary = page.inner_text("[data-testid=setup-summary]")
    assert "Lakeside Family Practice" in summary and "trunk-secret-1" not in page.content()
    screenshot(page, "setup-finish")
    page.click("[data-testid=setup-finish]")
    page.wait_for_selector("[data-testid=logout]")
    assert "This box is set up" in page.inner_text("[data-testid=notice-ok]")

    cfg = load_config(fresh_box.config_path)
    assert cfg.clinic.name == "Lakeside Family Practice" and cfg.trunk.password == "trunk-secret-1"
    store = Store.open(cfg.db_path, cfg.paths.key_file)
    try:
        assert make_repos(cfg, store).users.get("amira").role == "manager"
    finally:
        store.close()
    assert page.goto(base + "/setup").status == 404
