"""Settings › Backups in a real browser: a manager finds the nightly backup
(verified), downloads it (the bytes of the file on the box), and the audit
log names who downloaded which backup; front desk gets the 403 page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store import Store
from appliance.store.repos import make_repos
from tests.conftest import run_cli
from tests.webui.conftest import Clinic, login, make_clinic, remove_clinic, screenshot, start_web, stop_web

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def box() -> Iterator[tuple[Clinic, Path]]:
    c = make_clinic()
    made = run_cli("--config", str(c.config_path), "db", "backup", "--to", str(c.cfg.backup_dir))
    assert made.returncode == 0, made.stderr
    tar = Path(made.stdout.split()[2])
    start_web(c)
    yield c, tar
    stop_web(c)
    remove_clinic(c)


def _audit(c: Clinic, action: str) -> list[tuple[str, str]]:
    store = Store.open(c.cfg.db_path, c.cfg.paths.key_file, media_dir=c.cfg.media_dir)
    try:
        return [(e.actor, e.object_id) for e in make_repos(c.cfg, store).audit.search(action=action)]
    finally:
        store.close()


def test_a_manager_downloads_the_backup_and_it_is_audited(page, box: tuple[Clinic, Path], tmp_path: Path) -> None:
    c, tar = box
    login(page, c, "manager")
    page.goto(c.base_url + "/settings")
    page.click("[data-testid=settings-backups]")
    row = page.locator(f"[data-testid='backup-{tar.name}']")
    assert "yes" in row.inner_text()  # verified after writing
    screenshot(page, "en-settings-backups")
    with page.expect_download() as info:
        page.click(f"[data-testid='backup-download-{tar.name}']")
    saved = tmp_path / "saved.tar"
    info.value.save_as(saved)
    assert info.value.suggested_filename == tar.name
    assert saved.read_bytes() == tar.read_bytes()
    assert _audit(c, "backup-download") == [("manager", tar.name)]


def test_front_desk_cannot_open_backups(page, box: tuple[Clinic, Path]) -> None:
    c, tar = box
    login(page, c, "frontdesk")
    assert page.locator("[data-testid=nav-index]").count() == 0  # no Settings in the bar
    response = page.goto(c.base_url + "/settings/backups")
    assert response.status == 403
    assert page.goto(c.base_url + f"/settings/backups/download/{tar.name}").status == 403
    assert ("frontdesk", tar.name) not in _audit(c, "backup-download")
