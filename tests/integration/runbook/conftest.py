"""Fixtures for the runbook test: the SIP peers of the edge tests and the browser of the web UI tests."""

from tests.integration.edge.conftest import baresip, kamailio, need, peer_dir, sipp  # noqa: F401 - re-exported
from tests.webui.conftest import browser, page  # noqa: F401 - re-exported
