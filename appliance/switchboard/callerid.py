"""Outgoing caller ID: how ``trunk.caller_id`` reaches the provider.

Providers read the number to present from the INVITE's From user part, from
a ``P-Asserted-Identity`` header (RFC 3325), or want both;
``trunk.caller_id_header`` says which. PJSUA 2.12 sets a call's From from
its account (there is no per-call local URI), and the registering trunk
account must keep ``trunk.username`` as its address of record, so a From
caller ID goes out on a second, non-registering account whose ``idUri`` is
:func:`caller_from_uri`; the header goes on each INVITE
(:func:`caller_id_headers`). Pure: the switchboard service builds the
account, the outbound calls add the headers.

Example:
    >>> from appliance.config import load_config
    >>> trunk = load_config(overrides={"trunk": {"registrar": "sip:sip.example", "caller_id": "+48221234567"}}).trunk
    >>> caller_from_uri(trunk)
    'sip:+48221234567@sip.example'
    >>> caller_id_headers(trunk)
    [('P-Asserted-Identity', '<sip:+48221234567@sip.example>')]
"""

from __future__ import annotations

from appliance.config.telephony import TrunkSettings


def trunk_domain(registrar: str) -> str:
    """The provider's domain (host[:port]) from its registrar URI.

    ``sip:sip.provider.example:5080;transport=tls`` → ``sip.provider.example:5080``.
    """
    rest = registrar.split(":", 1)[1] if ":" in registrar else registrar
    return rest.split(";")[0].split("@")[-1]


def _identity(trunk: TrunkSettings) -> str:
    return f"sip:{trunk.caller_id}@{trunk_domain(trunk.registrar)}"


def caller_from_uri(trunk: TrunkSettings) -> str | None:
    """The From URI of outgoing trunk calls, or None when the trunk's own address is the From."""
    if not trunk.caller_id or trunk.caller_id_header == "pai":
        return None
    return _identity(trunk)


def caller_id_headers(trunk: TrunkSettings) -> list[tuple[str, str]]:
    """Extra headers (name, value) for each outgoing INVITE through the trunk."""
    if not trunk.caller_id or trunk.caller_id_header == "from":
        return []
    return [("P-Asserted-Identity", f"<{_identity(trunk)}>")]
