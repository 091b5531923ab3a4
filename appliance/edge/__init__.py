"""The box's SIP edge: Kamailio (Debian) in front of the core.

The edge listens on the box's SIP port (UDP and TCP) and is the registrar
for desk phones (digest auth per station, lockout after wrong passwords),
the flood guard (pike), the ACL (the provider and trusted networks may
reach the core; anyone else gets silence) and the sanity check, so an
untrusted INVITE never reaches PJSUA2. The core listens on
127.0.0.1:``edge.core_port`` behind it and calls registered phones
through it.

* :mod:`.script`: the routing script from the config (pure but for reading the template).
* :mod:`.credentials`: the HA1 table the core writes for the edge.
* :mod:`.location`: the registrations table that keeps desk phones across an edge restart.
* :mod:`.rpc`: asking the running edge (registrations, reloads, counters).
* :mod:`.process`: ``clinicbox edge``: render, then become Kamailio.
* ``kamailio/``: the template and ``security.cfg`` (``route[SECURITY]``).
"""

from appliance.edge.credentials import write_credentials
from appliance.edge.rpc import EdgeRpc, parse_ul_dump
from appliance.edge.script import RenderedEdge, render

__all__ = ["EdgeRpc", "RenderedEdge", "parse_ul_dump", "render", "write_credentials"]
