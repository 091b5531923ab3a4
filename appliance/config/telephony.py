"""Config sections for SIP: the switchboard's transport, the trunk, stations."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config import checks
from appliance.config.schema import setting

#: Where outgoing calls carry ``trunk.caller_id``: the From header, P-Asserted-Identity, or both.
CALLER_ID_HEADERS = ("from", "pai", "both")


@dataclass(frozen=True)
class SipSettings:
    bind_address: str = setting(doc="Address the SIP and RTP sockets bind to.")
    public_address: str = setting(doc="Address written into SDP and Contact; empty = bind_address.")
    port: int = setting(doc="SIP UDP port of the box.", min=1, max=65535)
    rtp_port_start: int = setting(doc="First RTP port.", min=1024, max=65000)
    rtp_port_range: int = setting(doc="How many RTP ports the box may use.", min=20, max=20000)
    max_calls: int = setting(
        doc="Concurrent calls wanted; the PJSUA2 build may allow fewer (see clinicbox doctor).",
        min=2,
        max=512,
    )
    codecs: list[str] = setting(
        doc="Codecs in order of preference.",
        choices=("PCMA", "PCMU", "G722", "GSM", "opus", "speex"),
    )
    rtp_timeout_s: int = setting(doc="Hang up a call whose RTP has been silent this long.", min=5, max=600)
    max_call_duration_s: int = setting(doc="Hard limit on any one call.", min=10, max=86400)
    trusted_networks: list[str] = setting(
        doc="Besides the provider, who may send the box calls (stations, GSM gateway).",
        check=checks.networks,
    )
    untrusted_limit_per_min: int = setting(
        doc="Requests per minute answered from one untrusted address before it is ignored.",
        min=1,
        max=1000,
    )
    tls: bool = setting(doc="Listen for SIP over TLS too (needed for trunk.transport = tls; the build must have TLS).")
    tls_port: int = setting(doc="SIP TLS port of the box.", min=1, max=65535)
    srtp: str = setting(
        doc="SRTP to the provider: disabled, optional or mandatory (a TLS trunk only; build permitting).",
        choices=("disabled", "optional", "mandatory"),
    )
    user_agent: str = setting(doc="User-Agent header; empty = a neutral value naming no product.")
    tls_cert_file: str = setting(
        doc="Certificate (PEM) of the box's TLS listener; empty = a self-signed one made in state_dir/tls."
    )
    tls_key_file: str = setting(doc="Private key (PEM, unencrypted) of that certificate; empty with tls_cert_file.")
    internal_ring_s: int = setting(
        doc="Seconds a station rings on an internal call (one desk phone dialling another) before the box gives up.",
        min=5,
        max=300,
    )


@dataclass(frozen=True)
class TrunkSettings:
    enabled: bool = setting(doc="Use a SIP provider for outgoing calls (and accept its incoming calls).")
    register: bool = setting(doc="Register to the provider with digest auth (off for IP-authenticated trunks).")
    registrar: str = setting(
        doc="Provider's registrar / outbound target, e.g. 'sip:sip.provider.example'.", check=checks.sip_uri
    )
    proxy: str = setting(doc="Outbound proxy URI; empty = none.", check=checks.sip_uri)
    username: str = setting(doc="Trunk user name.")
    password: str = setting(doc="Trunk password (better kept in the secrets file).", secret=True)
    realm: str = setting(doc="Digest realm; '*' accepts any.")
    transport: str = setting(
        doc="udp or tls (tls needs a PJSUA2 build with TLS; doctor tells).", choices=("udp", "tls")
    )
    register_interval_s: int = setting(doc="Registration expiry.", min=60, max=7200)
    keepalive_interval_s: int = setting(
        doc="SIP OPTIONS ping to the provider every so many seconds (0 = off).", min=0, max=3600
    )
    provider_networks: list[str] = setting(
        doc="Addresses the provider sends calls from; empty = the registrar's address.",
        check=checks.networks,
    )
    caller_id: str = setting(
        doc="The number patients see on outgoing calls (E.164, one the provider assigned); empty = the provider's.",
        check=checks.caller_id,
    )
    caller_id_header: str = setting(
        doc="Where the caller ID goes: from (From header), pai (P-Asserted-Identity) or both.",
        choices=CALLER_ID_HEADERS,
    )
    dial_prefix: str = setting(doc="Prefix added to outgoing numbers (e.g. '0' for an outside line); usually empty.")
    tls_ca_file: str = setting(
        doc="CA certificates (PEM) that sign the provider's TLS certificate; empty = the system CA store."
    )


@dataclass(frozen=True)
class StationSettings:
    name: str = setting(doc="Shown in the agent console and wallboard.", default="")
    password: str = setting(doc="SIP password of this station (better in the secrets file).", secret=True, default="")
    contact: str = setting(
        doc="Static SIP contact for a desk phone; empty = the station registers.",
        check=checks.sip_uri,
        default="",
    )
    queues: list[str] = setting(doc="Queues this station serves (its skills).", default_factory=list)
    answer_mode: str = setting(
        doc="manual: the console rings and the agent accepts; auto: connect with a short tone.",
        choices=("manual", "auto"),
        default="manual",
    )
    audio_device: str = setting(
        doc="ALSA card name pattern of this station's headset (for the station program).",
        default="",
    )
