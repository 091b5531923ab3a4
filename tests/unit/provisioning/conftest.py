from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.provisioning.kit import Box, make_box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return make_box(tmp_path)
