"""The config file: defaults, per-key errors, secrets, overlay."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from appliance.config import Config, defaults_text, load_config
from appliance.config.schema import iter_keys
from appliance.errors import ConfigError


def _problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides, use_secrets=False)
    return err.value.problems


def test_defaults_are_valid_and_document_every_key() -> None:
    cfg = load_config(use_secrets=False, use_overlay=False)
    assert cfg.clinic.default_language == "en"
    text = defaults_text()
    lines = text.splitlines()
    data = tomllib.loads(text)
    for key, f in iter_keys(Config):
        parts = key.split(".")
        node = data
        for part in parts[:-1]:
            node = node[part]
        if parts[-1] in ("stations", "queues", "nodes", "texts"):
            continue  # collections: documented by their example block
        assert parts[-1] in node, f"{key} has no default in defaults.toml"
        # Every key line is preceded by a comment, or belongs to a run of
        # assignments (like the weekdays) that a comment documents.
        idx = next(i for i, line in enumerate(lines) if re.match(rf"^{re.escape(parts[-1])}\s*=", line))
        while idx > 0 and re.match(r"^[a-z_]+\s*=", lines[idx - 1]):
            idx -= 1
        assert lines[idx - 1].startswith("#"), f"{key} is not documented in defaults.toml"
        assert f.metadata["doc"], f"{key} has no doc string in the schema"


def test_unknown_key_suggests_the_right_one() -> None:
    problems = _problems(clinic={"nmae": "x"})
    assert problems == ['clinic.nmae: unknown key; did you mean "name"?']


def test_type_and_range_errors_name_the_key() -> None:
    problems = _problems(sip={"port": "5060", "max_calls": 100000}, web={"idle_logout_min": 0})
    assert "sip.port: expected an integer, got '5060'" in problems
    assert "sip.max_calls: 100000 is above the maximum 512" in problems
    assert "web.idle_logout_min: 0 is below the minimum 1" in problems


def test_value_checks() -> None:
    problems = _problems(
        clinic={"timezone": "Europe/Warsw", "country": "XX"},
        hours={"monday": ["16:00-08:00"], "holidays": ["2026-13-01"]},
    )
    joined = "\n".join(problems)
    assert "clinic.timezone: unknown time zone 'Europe/Warsw'" in joined
    assert "clinic.country: unknown country code 'XX'" in joined
    assert "hours.monday: '16:00-08:00' ends before it starts" in joined
    assert "hours.holidays: '2026-13-01' is not a date" in joined


def test_ivr_reference_to_unknown_queue_is_named_like_the_issue_says() -> None:
    problems = _problems(
        queues={"appointments": {"name": "A"}, "front-desk": {"name": "F"}},
        ivr={
            "entry": "main",
            "nodes": {
                "main": {"type": "menu", "options": {"2": "billing"}, "fallback": "billing"},
                "billing": {"type": "queue", "queue": "billing"},
            },
        },
    )
    assert 'ivr.nodes.billing.queue: unknown queue "billing"; known: appointments, front-desk' in problems


def test_cross_field_rules() -> None:
    problems = _problems(
        clinic={"languages": ["en"], "default_language": "pl"},
        trunk={"enabled": True, "registrar": "", "username": ""},
        stations={"desk1": {"queues": ["nope"]}},
    )
    assert "clinic.default_language: 'pl' is not in clinic.languages (en)" in problems
    assert any(p.startswith("trunk.registrar: the trunk is enabled but has no registrar") for p in problems)
    assert any(p.startswith('stations.desk1.queues.0: unknown queue "nope"') for p in problems)


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(sip={"port": 0}, web={"port": 70000}, logging={"level": "LOUD"})
    assert len(problems) == 3


def test_malformed_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "clinicbox.toml"
    path.write_text("[clinic\nname = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "not valid TOML" in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found; create it or pass --config PATH"):
        load_config(tmp_path / "nope.toml")


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "clinic" / "clinicbox.toml"
    path.parent.mkdir()
    path.write_text('[paths]\nstate_dir = "data"\nkey_file = "store.key"\nsecrets_file = "secrets.toml"\n')
    cfg = load_config(path)
    assert cfg.paths.state_dir == (tmp_path / "clinic" / "data").resolve()
    assert cfg.db_path == (tmp_path / "clinic" / "data" / "clinicbox.db").resolve()


def _clinic_with_secrets(tmp_path: Path, secrets: str, mode: int) -> Path:
    path = tmp_path / "clinicbox.toml"
    path.write_text('[paths]\nstate_dir = "."\nsecrets_file = "secrets.toml"\n')
    sec = tmp_path / "secrets.toml"
    sec.write_text(secrets)
    os.chmod(sec, mode)
    return path


def test_secrets_file_supplies_passwords(tmp_path: Path) -> None:
    path = _clinic_with_secrets(tmp_path, '[trunk]\npassword = "s3cret"\n[stations.desk1]\npassword = "pw"\n', 0o600)
    cfg = load_config(path, overrides={"stations": {"desk1": {"queues": ["front-desk"]}}})
    assert cfg.trunk.password == "s3cret"


def test_secrets_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = _clinic_with_secrets(tmp_path, '[trunk]\npassword = "s3cret"\n', 0o644)
    with pytest.raises(ConfigError, match="readable by other users .* chmod 600"):
        load_config(path)


def test_secrets_file_cannot_carry_ordinary_settings(tmp_path: Path) -> None:
    path = _clinic_with_secrets(tmp_path, '[trunk]\nregistrar = "sip:evil.example"\n', 0o600)
    with pytest.raises(ConfigError, match="trunk.registrar: is not a secret"):
        load_config(path)


def test_web_overlay_is_merged_but_cannot_move_paths(tmp_path: Path) -> None:
    path = tmp_path / "clinicbox.toml"
    path.write_text('[paths]\nstate_dir = "."\n')
    (tmp_path / "settings.toml").write_text('[clinic]\nname = "From the UI"\n')
    assert load_config(path).clinic.name == "From the UI"
    (tmp_path / "settings.toml").write_text('[paths]\nstate_dir = "/tmp/elsewhere"\n')
    with pytest.raises(ConfigError, match="paths: cannot be changed from the web UI"):
        load_config(path)


def test_emergency_number_by_country() -> None:
    for country, number in (("PL", "112"), ("TR", "112"), ("US", "911"), ("KR", "119"), ("CN", "120")):
        cfg = load_config(overrides={"clinic": {"country": country}}, use_secrets=False, use_overlay=False)
        assert cfg.emergency_number == number


def test_a_secret_for_a_station_the_config_does_not_have_creates_nothing(tmp_path: Path) -> None:
    path = _clinic_with_secrets(
        tmp_path, '[stations.old-desk]\npassword = "pw"\n[stations.desk1]\npassword = "pw1"\n', 0o600
    )
    cfg = load_config(path, overrides={"stations": {"desk1": {"queues": ["front-desk"]}}})
    assert list(cfg.stations) == ["desk1"] and cfg.stations["desk1"].password == "pw1"


def test_the_modem_power_line_cannot_share_a_panel_pin_or_use_the_eeprom_bus() -> None:
    problems = _problems(modem={"enabled": True, "power_gpio": 17})  # the green LED's default pin
    assert any(p.startswith("modem.power_gpio: GPIO 17 is already used by panel.green_pin") for p in problems)
    problems = _problems(modem={"enabled": True, "power_gpio": 1})
    assert any("modem.power_gpio: GPIO 1 is not usable" in p for p in problems)
    problems = _problems(modem={"enabled": True, "power_gpio": 40})
    assert any(p.startswith("modem.power_gpio") for p in problems)


def test_the_internal_ring_limit_is_30_s_by_default_and_kept_in_bounds() -> None:
    assert load_config(None).sip.internal_ring_s == 30
    assert _problems(sip={"internal_ring_s": 4}) == ["sip.internal_ring_s: 4 is below the minimum 5"]
    assert _problems(sip={"internal_ring_s": 301}) == ["sip.internal_ring_s: 301 is above the maximum 300"]
