"""Switchboard tests: a real core (``box``) and the real peers of tests/integration/sip."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sip.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    baresip,
    kamailio,
    peer_dir,
    scanner_home,
    sipp,
    sipua,
    station_proc,
    tone_wav,
)
from tests.integration.switchboard.box import Box

DESKS = {
    "desk1": {"name": "Desk 1", "queues": ["front-desk", "appointments"], "answer_mode": "manual"},
    "desk2": {"name": "Desk 2", "queues": ["front-desk", "appointments"], "answer_mode": "auto"},
}


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """``box(overlay=..., open_hours=True, stations=DESKS)`` → a running core."""
    started: list[Box] = []

    def start(**options: Any) -> Box:
        b = Box(tmp_path / f"clinic{len(started)}", **options)
        started.append(b)
        return b

    yield start
    for b in reversed(started):
        code = b.stop()
        assert code == 0, f"the core did not stop cleanly ({code}); log:\n{b.tail()}"
