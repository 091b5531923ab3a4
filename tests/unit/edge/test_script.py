"""The edge's routing script from the config: what lands in it, and bad config refused clearly."""

from __future__ import annotations

import hashlib

import pytest

from appliance.config import load_config
from appliance.edge import parse_ul_dump, render
from appliance.edge.credentials import HEADER, table_text
from appliance.errors import ConfigError, EdgeError


def _cfg(**sections):
    base = {"edge": {"enabled": True}, "sip": {"bind_address": "0.0.0.0", "port": 5060}}
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return load_config(overrides=base, use_secrets=False)


def test_the_script_calls_security_first_and_listens_on_the_box_port() -> None:
    cfg = _cfg(trunk={"enabled": True, "registrar": "sip:203.0.113.7:5060", "username": "u"})
    out = render(cfg, modules="/mods/")
    body = out.main[out.main.index("request_route {") :]
    assert body.splitlines()[1].strip() == "route(SECURITY);"
    assert 'include_file "/run/clinicbox-edge/security.cfg"' in out.main
    assert "listen=udp:0.0.0.0:5060" in out.main and "listen=tcp:0.0.0.0:5060" in out.main
    assert '#!define CORE_URI "sip:127.0.0.1:5090"' in out.main
    # trusted: sip.trusted_networks plus the provider (the registrar's literal address)
    assert out.trusted == ["127.0.0.1/32", "203.0.113.7/32"]
    assert '#!substdef "!EDGE_TRUSTED!127.0.0.1/32,203.0.113.7/32!g"' in out.main
    assert "route[SECURITY]" in out.security and "sanity_check(EDGE_SANITY_CHECKS" in out.security
    assert "@" + "CORE_PORT@" not in out.main


def test_on_every_address_the_edge_advertises_the_boxs_address_never_the_wildcard() -> None:
    public = render(_cfg(sip={"public_address": "198.51.100.20"}), modules="/mods/").main
    assert "listen=udp:0.0.0.0:5060 advertise 198.51.100.20:5060" in public
    assert "listen=tcp:0.0.0.0:5060 advertise 198.51.100.20:5060" in public
    assert public.count('alias="198.51.100.20:5060"') == 1  # the public address is also the advertised one
    one = render(_cfg(sip={"bind_address": "192.168.1.20"}), modules="/mods/").main
    assert "listen=udp:192.168.1.20:5060\n" in one and "advertise" not in one  # its own address is named already


def test_limits_from_the_config_reach_the_script() -> None:
    cfg = _cfg(edge={"lockout_tries": 3, "lockout_s": 60, "pike_requests": 12, "realm": "riverside"})
    main = render(cfg, modules="/mods/").main
    assert "#!define LOCKOUT_TRIES 3" in main and "lock=>size=8;autoexpire=60;" in main
    assert 'modparam("pike", "reqs_density_per_unit", 12)' in main and '#!define REALM "riverside"' in main


def test_a_provider_name_is_resolved_and_a_dead_name_trusts_only_the_rest() -> None:
    cfg = _cfg(trunk={"enabled": True, "registrar": "sip:sip.example.net", "username": "u"})
    assert render(cfg, resolve=lambda host: ["198.51.100.4"], modules="/m/").trusted == [
        "127.0.0.1/32",
        "198.51.100.4/32",
    ]
    assert render(cfg, resolve=lambda host: [], modules="/m/").trusted == ["127.0.0.1/32"]


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"edge": {"enabled": False}}, "edge.enabled = false"),
        ({"sip": {"bind_address": "box.local"}}, "sip.bind_address: 'box.local' is not an IP address"),
        ({"sip": {"public_address": "my box"}}, "sip.public_address"),
    ],
)
def test_bad_config_is_refused_by_the_renderer_with_the_key(sections, message) -> None:
    with pytest.raises(EdgeError, match=message):
        render(_cfg(**sections), modules="/m/")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"edge": {"enabled": True, "core_port": 5060}}, "edge.core_port"),
        ({"edge": {"enabled": True, "realm": 'x"; exit; "'}}, "edge.realm"),
        ({"edge": {"enabled": True}, "stations": {"desk 1": {"name": "Desk"}}}, "stations.desk 1"),
        ({"edge": {"enabled": True, "lockout_tries": 0}}, "edge.lockout_tries"),
    ],
)
def test_bad_config_is_refused_at_load_naming_the_key(overrides, key) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides, use_secrets=False)
    assert any(p.startswith(key) for p in err.value.problems), err.value.problems


def test_a_station_id_that_is_no_sip_user_is_fine_while_the_edge_is_off() -> None:
    load_config(overrides={"stations": {"desk 1": {"name": "Desk"}}}, use_secrets=False)


def test_credentials_table_holds_ha1_only() -> None:
    text = table_text({"desk1": "pw1", "desk2": "", "gsm": "g"}, "clinicbox")
    ha1 = hashlib.md5(b"desk1:clinicbox:pw1").hexdigest()
    assert text.splitlines() == [
        HEADER,
        f"desk1:0:0:{ha1}:0",
        f"gsm:0:0:{hashlib.md5(b'gsm:clinicbox:g').hexdigest()}:0",
    ]
    assert "pw1" not in text


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (None, {}),
        ({"Domains": []}, {}),
        (
            {
                "Domains": [
                    {
                        "Domain": {
                            "Domain": "location",
                            "AoRs": [
                                {
                                    "Info": {
                                        "AoR": "desk1",
                                        "Contacts": [{"Contact": {"Address": "sip:desk1@10.0.0.5:5060"}}],
                                    }
                                },
                                {"Info": {"AoR": "desk2@box", "Contacts": []}},
                            ],
                        }
                    }
                ]
            },
            {"desk1": ["sip:desk1@10.0.0.5:5060"]},
        ),
    ],
)
def test_ul_dump_is_read_into_registered_stations(result, expected) -> None:
    assert parse_ul_dump(result) == expected
