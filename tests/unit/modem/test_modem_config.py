"""The [modem] config section: defaults, per-key errors, the secret PIN."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError


def problems(**modem: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"modem": modem}, use_secrets=False)
    return err.value.problems


def test_defaults_are_valid_and_disabled() -> None:
    m = load_config(use_secrets=False).modem
    assert m.enabled is False and m.usb_interface == 2 and m.delivery_reports is True


@pytest.mark.parametrize(
    ("modem", "message"),
    [
        ({"pin": "12a4"}, "modem.pin: a SIM PIN is 4 to 8 digits"),
        ({"imei": "123"}, "modem.imei: '123' is not an IMEI"),
        ({"smsc": "+48 79"}, "modem.smsc:"),
        ({"simulator_profile": "nokia"}, "modem.simulator_profile: 'nokia' is not allowed"),
        ({"sms_per_minute": 0}, "modem.sms_per_minute: 0 is below the minimum 1"),
        ({"enabled": True, "port": "/dev/ttyUSB2"}, "modem.port: /dev/ttyUSB2 changes after a USB reset"),
        ({"pn": "1234"}, 'modem.pn: unknown key; did you mean "pin"?'),
    ],
)
def test_bad_values_name_the_key(modem: dict[str, object], message: str) -> None:
    assert any(p.startswith(message) for p in problems(**modem)), problems(**modem)


def test_tty_usb_is_fine_for_the_simulator_and_by_id_paths_are_fine() -> None:
    load_config(
        overrides={"simulate": True, "modem": {"enabled": True, "simulate": True, "port": "/dev/ttyUSB2"}},
        use_secrets=False,
    )
    load_config(overrides={"modem": {"enabled": True, "port": "/dev/serial/by-id/usb-Quectel-if02"}}, use_secrets=False)


def test_pin_may_come_from_the_secrets_file(tmp_path: pytest.TempPathFactory) -> None:
    secrets = tmp_path / "secrets.toml"  # type: ignore[operator]
    secrets.write_text('[modem]\npin = "4321"\n')
    secrets.chmod(0o600)
    cfg = load_config(overrides={"paths": {"secrets_file": str(secrets)}})
    assert cfg.modem.pin == "4321"
    secrets.write_text('[modem]\nimei = "866758041234567"\n')
    with pytest.raises(ConfigError, match="modem.imei: is not a secret"):
        load_config(overrides={"paths": {"secrets_file": str(secrets)}})
