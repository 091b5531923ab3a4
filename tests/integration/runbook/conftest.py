"""Fixtures for the runbook test: the SIP peers of the edge tests, and Chromium as
tests/webui launches it, but for this module only: a session-wide Playwright here
would still be running when the next module of the same run (the web UI's own, or
tests/integration/switchboard/test_live_trunk_browser.py) starts its own, which the
sync API refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.edge.conftest import baresip, kamailio, need, peer_dir, sipp  # noqa: F401 - re-exported
from tests.webui.conftest import CHROMIUM, CHROMIUM_ARGS, page  # noqa: F401 - re-exported


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
