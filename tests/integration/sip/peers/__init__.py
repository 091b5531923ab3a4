"""Real SIP peers for integration tests, every one on 127.0.0.1 with free ports.

* :class:`SipUA`: the scriptable PJSUA2 user agent (``appliance.demo.sipua``).
* :class:`StationProc`: the real ``clinicbox station`` / ``gsm-gateway`` program;
  :func:`write_station_config` writes a minimal clinic config for it.
* :class:`SippScenario` with :func:`uac_xml` / :func:`uas_xml`: SIPp with
  inline XML (RFC 4733 digits and G.711 speech from sip-tester's pcaps).
* :class:`Baresip`: baresip driven through ``ctrl_tcp``.
* :class:`Kamailio`: the provider (registrar + proxy with digest auth).
* :func:`svmap`, :func:`svwar`, :func:`svcrack`: sipvicious, the scanner a box must shrug off.

Every helper is a context manager that ends its own process (never any
other), and keeps the process's output in a log file in the test's tmp
folder; assertion messages quote its tail.
"""

from tests.integration.sip.peers.baresip import Baresip
from tests.integration.sip.peers.common import free_port, free_ports, write_tone_wav
from tests.integration.sip.peers.kamailio import DEFAULT_USERS, Kamailio, options_ping
from tests.integration.sip.peers.sipp import SippResult, SippScenario, uac_xml, uas_xml
from tests.integration.sip.peers.sipvicious import ScanResult, svcrack, svmap, svwar
from tests.integration.sip.peers.station import StationProc, write_station_config
from tests.integration.sip.peers.ua import SipUA

__all__ = [
    "DEFAULT_USERS",
    "Baresip",
    "Kamailio",
    "ScanResult",
    "SipUA",
    "SippResult",
    "SippScenario",
    "StationProc",
    "free_port",
    "free_ports",
    "options_ping",
    "svcrack",
    "svmap",
    "svwar",
    "uac_xml",
    "uas_xml",
    "write_station_config",
    "write_tone_wav",
]
