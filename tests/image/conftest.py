"""The boot tests' guest: the image from $CLINICBOX_IMAGE (``make image-test``
builds it), booted once per module; on any failure the guest's ``journalctl -b``
and serial console are saved under tests/output/image/<module>/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.guest import Guest, image_arch, image_board, image_from_env

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests/output/image"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:
        item.module.__dict__.setdefault("_failed", []).append(item.name)  # type: ignore[union-attr]
    return report


@pytest.fixture(scope="module")
def guest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    image = image_from_env()
    if image is None or not image.exists():
        pytest.fail("no image to boot: run the boot tests with `make image-test`, which builds the image first")
    name = request.module.__name__.rsplit(".", 1)[-1]
    box = Guest(image, tmp_path_factory.mktemp(name), arch=image_arch(image), board=image_board(image))
    try:
        yield box
    finally:
        if request.module.__dict__.get("_failed"):
            box.save_journal(ARTEFACTS / name)
        box.close()
