"""Text-back tests run the switchboard tests' real core (``box``) and SIP peers (``sipp``)."""

from tests.integration.switchboard.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    box,
    peer_dir,
    sipp,
)
