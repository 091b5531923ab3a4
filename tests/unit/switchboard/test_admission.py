"""Who may call the box: the provider (by address, re-resolved) and trusted networks."""

from __future__ import annotations

import ipaddress
import threading

import pytest

from appliance import sip
from appliance.errors import SwitchboardError
from appliance.switchboard.admission import Admission, Network, registrar_host, resolve_host, unsound_invite
from appliance.switchboard.provider import ProviderResolver

PROVIDER = "203.0.113.7"


class FlakyDns:
    """A resolver that fails (internet down) until ``up`` is set, then answers ``answer``."""

    def __init__(self, answer: str = PROVIDER) -> None:
        self.up = False
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[Network]:
        self.asked.append(host)
        if not self.up:
            raise SwitchboardError(f"cannot resolve the trunk registrar {host!r}")
        return [ipaddress.ip_network(self.answer)]


def wired(adm: Admission, dns: FlakyDns) -> ProviderResolver:
    return ProviderResolver(adm.resolve_target, adm.set_resolved, dns)


@pytest.mark.parametrize(
    ("uri", "host"),
    [
        ("sip:provider.example", "provider.example"),
        ("sip:provider.example:5080", "provider.example"),
        ("sips:provider.example:5061;transport=tls", "provider.example"),
        ("sip:clinic@provider.example:5080", "provider.example"),
        ("sip:127.0.0.1:5080", "127.0.0.1"),
        ("sip:[2001:db8::1]:5080", "2001:db8::1"),
        ("sip:2001:db8::1", "2001:db8::1"),
        ("", ""),
    ],
)
def test_registrar_host(uri: str, host: str) -> None:
    assert registrar_host(uri) == host


def test_offline_boot_then_dns_comes_back_admits_the_provider() -> None:
    adm = Admission([], [], "sip:provider.example:5060", 5)
    dns = FlakyDns()
    resolver = wired(adm, dns)

    assert resolver.resolve_once() is False  # booted with the internet down
    assert not adm.check(f"{PROVIDER}:5060", 0).allowed

    dns.up = True  # the internet (and the trunk registration) came back
    assert resolver.resolve_once() is True
    verdict = adm.check(f"{PROVIDER}:5060", 1)
    assert verdict.allowed and verdict.kind == "provider"
    assert dns.asked == ["provider.example", "provider.example"]


def test_a_later_dns_failure_keeps_the_last_good_address() -> None:
    adm = Admission([], [], "sip:provider.example", 5)
    dns = FlakyDns()
    dns.up = True
    resolver = wired(adm, dns)
    resolver.resolve_once()
    dns.up = False
    assert resolver.resolve_once() is False
    assert adm.check(f"{PROVIDER}:5060", 0).allowed


def test_provider_renumbered_is_followed() -> None:
    adm = Admission([], [], "sip:provider.example", 5)
    dns = FlakyDns()
    dns.up = True
    resolver = wired(adm, dns)
    resolver.resolve_once()
    dns.answer = "198.51.100.9"
    resolver.resolve_once()
    assert adm.check("198.51.100.9:5060", 0).allowed
    assert not adm.check(f"{PROVIDER}:5060", 0).allowed


def test_reload_with_another_registrar_forgets_the_old_address_and_drops_stale_answers() -> None:
    adm = Admission([], [], "sip:old.example", 5)
    assert adm.set_resolved("old.example", [ipaddress.ip_network(PROVIDER)])
    adm.reconfigure([], [], "sip:new.example", 5)
    assert not adm.check(f"{PROVIDER}:5060", 0).allowed
    assert adm.resolve_target() == "new.example"
    # A lookup of the old name that finishes after the reload changes nothing.
    assert adm.set_resolved("old.example", [ipaddress.ip_network(PROVIDER)]) is False
    assert not adm.check(f"{PROVIDER}:5060", 0).allowed


def test_reload_with_the_same_registrar_keeps_admitting_while_it_re_resolves() -> None:
    adm = Admission([], [], "sip:provider.example", 5)
    adm.set_resolved("provider.example", [ipaddress.ip_network(PROVIDER)])
    adm.reconfigure([], ["192.168.1.0/24"], "sip:provider.example", 5)
    assert adm.check(f"{PROVIDER}:5060", 0).allowed
    assert adm.check("192.168.1.20:5060", 0).kind == "trusted"


def test_nothing_to_resolve_for_configured_networks_or_an_address() -> None:
    dns = FlakyDns()
    configured = Admission(["198.51.100.0/24"], [], "sip:provider.example", 5)
    literal = Admission([], [], "sip:127.0.0.1:5080", 5)
    assert wired(configured, dns).resolve_once() and wired(literal, dns).resolve_once()
    assert dns.asked == []
    assert configured.check("198.51.100.3:5060", 0).allowed
    assert not configured.check(f"{PROVIDER}:5060", 0).allowed
    assert literal.check("127.0.0.1:5080", 0).kind == "provider"


def test_strangers_are_refused_and_rate_limited_in_the_log() -> None:
    adm = Admission([], [], "sip:127.0.0.1", 2)
    verdicts = [adm.check("192.0.2.1:5060", t) for t in (0, 1, 2)]
    assert [v.allowed for v in verdicts] == [False, False, False]
    assert [v.log for v in verdicts] == [True, True, False]
    assert adm.check("192.0.2.1:5060", 61).log  # a new minute


def test_resolve_host_failure_says_what_to_do() -> None:
    with pytest.raises(SwitchboardError, match="provider_networks"):
        resolve_host("no-such-host.invalid")
    assert resolve_host("127.0.0.1") == [ipaddress.ip_network("127.0.0.1")]


def test_the_thread_retries_a_failing_name_and_a_kick_resolves_at_once() -> None:
    adm = Admission([], [], "sip:provider.example", 5)
    dns = FlakyDns()
    applied = threading.Event()

    def apply(host: str, nets: list[Network]) -> None:
        adm.set_resolved(host, nets)
        applied.set()

    resolver = ProviderResolver(adm.resolve_target, apply, dns, every_s=60, retry_s=60)
    resolver.start()
    try:
        dns.up = True
        resolver.kick()  # the trunk registered: do not wait for the retry timer
        assert applied.wait(2)
        assert adm.check(f"{PROVIDER}:5060", 0).allowed
    finally:
        resolver.stop()


def _invite(*extra: str, cseq: str = "1 INVITE", call_ids: int = 1) -> sip.SipMessage:
    lines = [
        "INVITE sip:+12125550100@127.0.0.1 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK1",
        "From: <sip:+12125550199@127.0.0.1>;tag=a",
        "To: <sip:+12125550100@127.0.0.1>",
        *[f"Call-ID: c{i}" for i in range(call_ids)],
        f"CSeq: {cseq}",
        *extra,
        "Content-Length: 0",
    ]
    return sip.parse("\r\n".join(lines) + "\r\n\r\n")


def test_an_invite_refused_over_the_cap_is_a_busy_caller_only_if_pjsip_would_have_read_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adm = Admission(provider=[], trusted=["127.0.0.0/8"], registrar="", limit_per_min=2)
    assert adm.garbage("127.0.0.1:5071", 486, _invite()) is False  # every line in use: a real busy caller
    assert unsound_invite(_invite()) == ""
    assert unsound_invite(_invite(call_ids=2)) == "2 call-id headers"
    assert unsound_invite(_invite(cseq="1 OPTIONS")) == "bad cseq"
    assert unsound_invite(_invite("To: <sip:other@127.0.0.1>")) == "2 to headers"
    assert unsound_invite(None) == "unreadable"
    with caplog.at_level("WARNING"):
        assert adm.garbage("127.0.0.1:5071", 486, _invite(call_ids=2)) is True
        assert adm.garbage("127.0.0.1:5071", 400, _invite()) is True
        assert adm.garbage("127.0.0.1:5071", 488, _invite()) is True  # past the per-minute limit: no line
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused a malformed INVITE from 127.0.0.1 (2 call-id headers): not a call",
        "refused a malformed INVITE from 127.0.0.1 (answered 400): not a call",
    ]
