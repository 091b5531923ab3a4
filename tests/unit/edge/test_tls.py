"""The edge's TLS listener: rendered only with edge.tls_port, its certificate made once and kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.edge import render
from appliance.edge.tls import files
from appliance.errors import ConfigError, EdgeError


def _cfg(tmp_path: Path, **edge: object):
    return load_config(
        overrides={
            "edge": {"enabled": True, **edge},
            "sip": {"bind_address": "0.0.0.0", "port": 5060},
            "paths": {"edge_dir": str(tmp_path / "run"), "edge_state_dir": str(tmp_path / "state")},
        },
        use_secrets=False,
    )


def test_without_a_tls_port_the_edge_has_no_tls_listener(tmp_path: Path) -> None:
    main = render(_cfg(tmp_path), modules="/m/").main
    assert "enable_tls=no" in main and "listen=tls" not in main and "tls.so" not in main


def test_a_tls_port_adds_the_listener_with_the_self_signed_pair(tmp_path: Path) -> None:
    main = render(_cfg(tmp_path, tls_port=5071), modules="/m/").main
    assert "enable_tls=yes" in main and "listen=tls:0.0.0.0:5071" in main
    assert f'modparam("tls", "certificate", "{tmp_path}/state/tls/edge.crt")' in main
    assert f'modparam("tls", "private_key", "{tmp_path}/state/tls/edge.key")' in main
    assert 'alias="127.0.0.1:5071"' in main


def test_the_self_signed_pair_is_made_once_and_kept(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, tls_port=5071)
    cert, key = files(cfg)
    first = cert.read_bytes()
    assert first.startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE KEY-----" in key.read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert files(cfg)[0].read_bytes() == first  # a phone that pinned it keeps trusting it


def test_a_configured_certificate_is_used_and_a_missing_one_named(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cfg = _cfg(tmp_path, tls_port=5071, tls_cert_file=str(cert), tls_key_file=str(key))
    with pytest.raises(EdgeError, match="edge.tls_cert_file"):
        files(cfg)
    made = files(_cfg(tmp_path / "other", tls_port=5071))
    cert.write_bytes(made[0].read_bytes())
    key.write_bytes(made[1].read_bytes())
    assert files(cfg) == (cert, key)
    assert f'modparam("tls", "certificate", "{cert}")' in render(cfg, modules="/m/").main
    assert not (tmp_path / "state").exists()  # no self-signed pair made beside a configured one


@pytest.mark.parametrize(
    ("edge", "sip", "key"),
    [
        ({"tls_port": 5060}, {}, "edge.tls_port"),
        ({"tls_port": 5090}, {}, "edge.tls_port"),  # the core's own port
        ({"tls_port": 5061}, {"tls": True, "tls_port": 5061}, "edge.tls_port"),
        ({"tls_port": 5071, "tls_cert_file": "/x.pem"}, {}, "edge.tls_key_file"),
    ],
)
def test_clashing_tls_settings_are_refused_at_load_naming_the_key(edge, sip, key) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"edge": {"enabled": True, **edge}, "sip": sip}, use_secrets=False)
    assert any(p.startswith(key) for p in err.value.problems), err.value.problems
