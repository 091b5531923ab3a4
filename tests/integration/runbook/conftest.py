"""Fixtures for the runbook test: the SIP peers of the edge tests (Chromium's
``browser`` and ``page`` are the run-wide ones of tests/conftest.py)."""

from __future__ import annotations

from tests.integration.edge.conftest import baresip, kamailio, need, peer_dir, sipp  # noqa: F401 - re-exported
