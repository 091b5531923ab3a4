"""The core answers ``secrets.set`` and ``secrets.status`` itself: it alone writes the secrets file."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest

from appliance.app import Core
from appliance.config import load_config
from appliance.control import ControlClient, ProtocolError, Request
from appliance.control.protocol import parse_request
from appliance.errors import SecretRefused
from tests.unit.config.test_secretfile import CONFIG, OLD

VALUE = "S3cret-Trunk-Value"


@pytest.fixture
def core(tmp_path: Path) -> Core:
    path = tmp_path / "clinicbox.toml"
    path.write_text(CONFIG)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "secrets.toml").write_text(OLD)
    (tmp_path / "secrets" / "secrets.toml").chmod(0o600)
    return Core(load_config(path), path)


def test_set_writes_the_file_applies_it_and_answers_without_the_value(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = core.commands.handle(Request(1, "secrets.set", {"name": "trunk.password", "value": VALUE}))
    assert reply["secret"] == "trunk.password" and reply["set"] is True and reply["reloaded"] is True
    assert tomllib.loads(Path(core.cfg.paths.secrets_file).read_text())["trunk"]["password"] == VALUE
    assert core.cfg.trunk.password == VALUE  # the running core uses it
    assert VALUE not in json.dumps(reply) and VALUE not in caplog.text
    status = core.commands.handle(Request(2, "secrets.status", {}))
    assert status == {
        "secrets": {
            "trunk.password": True,
            "modem.pin": True,
            "stations.desk1.password": False,
            "stations.desk2.password": False,
        }
    }


def test_a_refused_secret_leaves_the_file_and_the_running_config(core: Core) -> None:
    with pytest.raises(SecretRefused, match="too long") as err:
        core.commands.handle(Request(1, "secrets.set", {"name": "trunk.password", "value": "y" * 500}))
    assert "y" * 20 not in str(err.value)
    assert Path(core.cfg.paths.secrets_file).read_text() == OLD
    assert core.cfg.trunk.password == "old-trunk-pw"
    with pytest.raises(SecretRefused, match="a secret is text"):
        core.commands.handle(Request(1, "secrets.set", {"name": "modem.pin", "value": 1234}))


def test_the_protocol_needs_a_name_and_a_value() -> None:
    with pytest.raises(ProtocolError, match="secrets.set needs value"):
        parse_request(b'{"v":1,"id":1,"cmd":"secrets.set","args":{"name":"trunk.password"}}')
    assert parse_request(b'{"v":1,"cmd":"secrets.status"}').cmd == "secrets.status"


def test_over_the_socket_a_refusal_names_the_problem_never_the_value(core: Core) -> None:
    core.cfg.paths.run_dir.mkdir(parents=True, exist_ok=True)
    core.control.start()
    try:
        client = ControlClient(core.cfg.control_socket)
        with pytest.raises(Exception, match="control characters and line breaks are not allowed") as err:
            client.call("secrets.set", name="trunk.password", value="evil\nmodem.pin = 1")
        assert getattr(err.value, "code", "") == "bad-secret" and "evil" not in str(err.value)
        assert client.call("secrets.set", name="stations.desk2.password", value="desk2-pw")["set"] is True
    finally:
        core.control.stop()
    assert Path(core.cfg.paths.secrets_file).parent.joinpath("station-secrets", "desk2.password").read_text() == (
        "desk2-pw"
    )
