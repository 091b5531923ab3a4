"""Fixtures shared by every test: a clinic config in a temp folder, a real
SQLCipher store, the repositories, a fake clock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.clock import FakeClock
from appliance.config import Config, load_config, register_check
from appliance.ivr import check_prompt_texts
from appliance.reminders import register_prompts
from appliance.store import Store
from appliance.store.repos import Repos, make_repos

# The tests load configs as the composition roots do (appliance.cli, appliance.app,
# webui.runtime): with every package's prompts registered and the prompt-text check.
register_prompts()
register_check(check_prompt_texts)


def run_cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``clinicbox ARGS`` in a child process as a technician would; output as text."""
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that is free right now (UDP by default, for SIP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clinic_config(tmp: Path, **overrides: Any) -> Config:
    """A valid config whose every path is inside ``tmp``."""
    base: dict[str, Any] = {
        "clinic": {
            "name": "Test Clinic",
            "country": "PL",
            "timezone": "Europe/Warsaw",
            "languages": ["pl", "en", "es", "tr", "ko", "zh"],
            "default_language": "pl",
        },
        "paths": {
            "state_dir": str(tmp / "state"),
            "run_dir": str(tmp / "run"),
            "key_file": str(tmp / "store.key"),
            "secrets_file": str(tmp / "secrets.toml"),
        },
        "clock": {"assume_synced": True},
        "store": {"min_free_mb": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return load_config(overrides=base)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return clinic_config(tmp_path)


@pytest.fixture
def store(cfg: Config, clock: FakeClock) -> Iterator[Store]:
    s = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    yield s
    s.close()


def repos_with_planner(cfg: Config, store: Store) -> Repos:
    """The store's aggregates wired as the composition roots wire them: the
    reminder planner re-plans a visit whenever its appointment changes."""
    from appliance.reminders import ReminderPlanner

    return make_repos(cfg, store, [ReminderPlanner(cfg, store.clock).on_appointment_change])


@pytest.fixture
def repos(cfg: Config, store: Store) -> Repos:
    return repos_with_planner(cfg, store)


# -- Chromium (playwright): one browser for the whole run ----------------------------
# The sync API refuses a second Playwright while one runs in the same thread, so
# every test module (tests/webui, the runbook, the live-settings browser test)
# shares this session-wide one.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")  # type: ignore[attr-defined]
    context.set_default_timeout(10000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.script_errors = errors
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
