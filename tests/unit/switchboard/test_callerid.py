"""Outgoing caller ID: the From URI and the headers each provider setting gives,
and a caller ID that is not a real E.164 number refused by the config."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.switchboard.callerid import caller_from_uri, caller_id_headers, trunk_domain

PAI = "P-Asserted-Identity"


def trunk(**settings: Any) -> Any:
    base = {"enabled": True, "registrar": "sip:sip.provider.example", "username": "clinic"}
    return load_config(overrides={"trunk": {**base, **settings}}, use_secrets=False).trunk


@pytest.mark.parametrize(
    ("settings", "from_uri", "headers"),
    [
        ({}, None, []),  # no caller ID: From is the trunk's own address, nothing added
        ({"caller_id_header": "pai"}, None, []),
        (
            {"caller_id": "+48221234567"},  # the default: both
            "sip:+48221234567@sip.provider.example",
            [(PAI, "<sip:+48221234567@sip.provider.example>")],
        ),
        (
            {"caller_id": "+48221234567", "caller_id_header": "from"},
            "sip:+48221234567@sip.provider.example",
            [],
        ),
        (
            {"caller_id": "+48221234567", "caller_id_header": "pai"},
            None,
            [(PAI, "<sip:+48221234567@sip.provider.example>")],
        ),
        (
            {"caller_id": "+12125550123", "registrar": "sip:sip.provider.example:5080;transport=tls"},
            "sip:+12125550123@sip.provider.example:5080",
            [(PAI, "<sip:+12125550123@sip.provider.example:5080>")],
        ),
    ],
)
def test_where_the_caller_id_goes(settings: dict[str, Any], from_uri: str | None, headers: list[Any]) -> None:
    t = trunk(**settings)
    assert caller_from_uri(t) == from_uri
    assert caller_id_headers(t) == headers


def test_the_default_is_from_and_p_asserted_identity() -> None:
    assert load_config(use_secrets=False).trunk.caller_id_header == "both"


@pytest.mark.parametrize(
    ("registrar", "domain"),
    [
        ("sip:sip.provider.example", "sip.provider.example"),
        ("sip:127.0.0.1:5099", "127.0.0.1:5099"),
        ("sips:sip.provider.example;transport=tls", "sip.provider.example"),
        ("sip:clinic@sip.provider.example:5060", "sip.provider.example:5060"),
    ],
)
def test_the_providers_domain(registrar: str, domain: str) -> None:
    assert trunk_domain(registrar) == domain


@pytest.mark.parametrize(
    "caller_id",
    ["48221234567", "0221234567", "+48 22 123 45 67", "+4800000000", "+1555", "+48221234567;x", "sip:+48221234567"],
)
def test_a_caller_id_that_is_not_a_valid_e164_number_is_refused(caller_id: str) -> None:
    with pytest.raises(ConfigError) as caught:
        trunk(caller_id=caller_id)
    assert caught.value.problems == [
        f"trunk.caller_id: {caller_id!r} is not a valid international (E.164) number; "
        "write the clinic's number like '+48221234567'"
    ]


def test_an_unknown_header_choice_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        trunk(caller_id="+48221234567", caller_id_header="p-preferred")
    assert caught.value.problems == [
        "trunk.caller_id_header: 'p-preferred' is not allowed; choose one of: from, pai, both"
    ]
