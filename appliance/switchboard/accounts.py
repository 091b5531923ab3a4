"""The PJSUA2 account configs of the SIP trunk.

The trunk account registers as ``trunk.username`` and receives the
provider's calls. When ``trunk.caller_id`` belongs in the From header, a
second account with the same credentials, proxy and transport, but no
registration, carries it on outgoing calls (see :mod:`.callerid`). The
media settings are the service's (:meth:`SwitchboardService._media_config`),
applied by the caller.

Any: 3, the pjsua2 AccountConfigs returned.
"""

from __future__ import annotations

from typing import Any

import pjsua2 as pj

from appliance.config.telephony import TrunkSettings
from appliance.switchboard.callerid import caller_from_uri, trunk_domain


def with_transport(uri: str, transport: str) -> str:
    """``sip:host`` → ``sip:host;transport=tls`` for a TLS trunk."""
    if transport != "tls" or ";transport=" in uri:
        return uri
    return f"{uri};transport=tls"


def _account(trunk: TrunkSettings, id_uri: str, *, registers: bool, edge: str = "") -> Any:
    acc = pj.AccountConfig()
    acc.idUri = id_uri
    if registers:
        acc.regConfig.registrarUri = with_transport(trunk.registrar, trunk.transport)
        acc.regConfig.timeoutSec = trunk.register_interval_s
        acc.regConfig.retryIntervalSec = 30
    else:
        acc.regConfig.registerOnAdd = False
    if trunk.register:  # digest credentials: also what answers a challenge to an INVITE
        acc.sipConfig.authCreds.append(pj.AuthCredInfo("digest", trunk.realm or "*", trunk.username, 0, trunk.password))
    if edge and trunk.transport != "tls":  # UDP/TCP to the provider go through the SIP edge, which it alone sees
        acc.sipConfig.proxies.append(edge)
    if trunk.proxy:
        acc.sipConfig.proxies.append(trunk.proxy)
    return acc


def edge_proxy(sip_port: int) -> str:
    """The SIP edge as the trunk's first outbound proxy (loose routing)."""
    return f"sip:127.0.0.1:{sip_port};lr"


def trunk_account_config(trunk: TrunkSettings, edge: str = "") -> Any:
    """The account that registers to the provider (when ``trunk.register``) and takes its calls.

    ``edge``: the SIP edge's proxy URI when the edge runs (a TLS trunk goes straight to the provider).
    """
    user = trunk.username or "clinicbox"
    return _account(trunk, f"sip:{user}@{trunk_domain(trunk.registrar)}", registers=trunk.register, edge=edge)


def caller_id_account_config(trunk: TrunkSettings, edge: str = "") -> Any | None:
    """The non-registering account whose From is the caller ID, or None when From carries none."""
    uri = caller_from_uri(trunk)
    return None if uri is None else _account(trunk, uri, registers=False, edge=edge)
