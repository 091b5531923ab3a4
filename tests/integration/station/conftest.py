"""The station tests use the SIP peer fixtures of tests/integration/sip."""

from tests.integration.sip.conftest import (  # noqa: F401  (fixtures)
    baresip,
    kamailio,
    peer_dir,
    scanner_home,
    sipp,
    sipua,
    station_config,
    station_proc,
    tone_wav,
)
