"""The secrets file's one writer: atomic, validated, 0600; stations get their own file."""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.config import Config, load_config, secretfile
from appliance.errors import SecretRefused

CONFIG = """\
config_version = 1
[clinic]
name = "Test Clinic"
country = "US"
timezone = "America/New_York"
languages = ["en"]
default_language = "en"
[paths]
state_dir = "state"
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets/secrets.toml"
[stations.desk1]
name = "Desk 1"
[stations.desk2]
name = "Desk 2"
"""
OLD = 'trunk = {password = "old-trunk-pw"}\nmodem = {pin = "1234"}\n'


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, Config]:
    path = tmp_path / "clinicbox.toml"
    path.write_text(CONFIG)
    (tmp_path / "secrets").mkdir()
    secrets = tmp_path / "secrets" / "secrets.toml"
    secrets.write_text(OLD)
    secrets.chmod(0o600)
    return path, load_config(path)


def secrets_path(cfg: Config) -> Path:
    return Path(cfg.paths.secrets_file)


def test_a_secret_is_written_atomically_0600_and_the_others_are_kept(clinic: tuple[Path, Config]) -> None:
    path, cfg = clinic
    new = secretfile.write_secret(cfg, "trunk.password", "n3w-Trunk pw", config_path=path)
    data = tomllib.loads(secrets_path(cfg).read_text())
    assert data == {"trunk": {"password": "n3w-Trunk pw"}, "modem": {"pin": "1234"}}
    assert stat.S_IMODE(secrets_path(cfg).stat().st_mode) == 0o600
    assert new.trunk.password == "n3w-Trunk pw" and new.paths.secrets_file == cfg.paths.secrets_file
    assert load_config(path).trunk.password == "n3w-Trunk pw"
    assert not [p.name for p in secrets_path(cfg).parent.iterdir() if p.name.endswith(".tmp")]


def test_the_write_is_fsynced_and_renamed_over_the_old_file(
    clinic: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cfg = clinic
    old_inode = secrets_path(cfg).stat().st_ino
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("rename"), real_replace(a, b))[1])
    secretfile.write_secret(cfg, "modem.pin", "4321", config_path=path)
    assert calls == ["fsync", "rename", "fsync"]  # the file's data, the rename, the folder
    assert secrets_path(cfg).stat().st_ino != old_inode


def test_a_crash_before_the_rename_leaves_the_old_file(
    clinic: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cfg = clinic

    def power_cut(a: object, b: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError):
        secretfile.write_secret(cfg, "trunk.password", "never-written", config_path=path)
    assert secrets_path(cfg).read_text() == OLD
    assert [p.name for p in secrets_path(cfg).parent.iterdir() if not p.name.startswith(".secrets.toml.lock")] == [
        "secrets.toml"
    ]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("trunk.password", "x" * (secretfile.MAX_SECRET_CHARS + 1), "too long (at most 128 characters)"),
        ("trunk.password", "line1\nline2", "control characters and line breaks are not allowed"),
        ("trunk.password", "tab\there", "control characters and line breaks are not allowed"),
        ("stations.desk1.password", "bell\x07", "control characters and line breaks are not allowed"),
        ("trunk.password", "", "enter a value"),
        ("modem.pin", "12ab", "a SIM PIN is 4 to 8 digits"),
        ("trunk.username", "not-a-secret", "not a secret of this box"),
        ("stations.nobody.password", "pw-of-nobody", "not a secret of this box"),
    ],
)
def test_bad_input_is_refused_and_the_old_secret_is_unchanged(
    clinic: tuple[Path, Config], name: str, value: str, says: str
) -> None:
    path, cfg = clinic
    with pytest.raises(SecretRefused) as err:
        secretfile.write_secret(cfg, name, value, config_path=path)
    assert says in str(err.value) and name in str(err.value)
    if value:
        assert value not in str(err.value)
    assert secrets_path(cfg).read_text() == OLD
    assert load_config(path).trunk.password == "old-trunk-pw"


def test_a_value_the_configs_own_rules_refuse_is_not_written(
    clinic: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The candidate file is loaded as the box would load it before it replaces the old one."""
    path, cfg = clinic
    monkeypatch.setattr(secretfile, "value_problem", lambda name, value: None)  # let a bad PIN past the quick check
    with pytest.raises(SecretRefused, match="modem.pin: refused by the config's rules") as err:
        secretfile.write_secret(cfg, "modem.pin", "12ab", config_path=path)
    assert "12ab" not in str(err.value)
    assert secrets_path(cfg).read_text() == OLD


def test_a_station_password_is_copied_to_that_stations_own_file(clinic: tuple[Path, Config]) -> None:
    path, cfg = clinic
    secretfile.write_secret(cfg, "stations.desk1.password", "desk-one-pw", config_path=path)
    own = secretfile.station_file(cfg.paths.secrets_file, "desk1")
    assert own.read_text() == "desk-one-pw" and stat.S_IMODE(own.stat().st_mode) == 0o640
    assert not secretfile.station_file(cfg.paths.secrets_file, "desk2").exists()
    assert secretfile.station_password(cfg.paths.secrets_file, "desk1") == "desk-one-pw"


def test_a_station_reads_its_own_file_and_nothing_else(clinic: tuple[Path, Config]) -> None:
    """With its own file present, the station never opens the secrets file."""
    _path, cfg = clinic
    secretfile.write_station_file(cfg.paths.secrets_file, "desk2", "desk-two-pw")
    secrets_path(cfg).rename(secrets_path(cfg).with_suffix(".away"))
    assert secretfile.station_password(cfg.paths.secrets_file, "desk2") == "desk-two-pw"


def test_without_its_own_file_a_station_takes_only_its_entry_of_a_readable_secrets_file(
    clinic: tuple[Path, Config],
) -> None:
    _path, cfg = clinic
    secrets_path(cfg).write_text(OLD + '[stations.desk1]\npassword = "pc-pw"\n')
    assert secretfile.station_password(cfg.paths.secrets_file, "desk1") == "pc-pw"
    assert secretfile.station_password(cfg.paths.secrets_file, "desk2") == ""


def test_the_core_exports_every_station_password_once(clinic: tuple[Path, Config]) -> None:
    path, cfg = clinic
    secrets_path(cfg).write_text(OLD + '[stations.desk1]\npassword = "a"\n[stations.desk2]\npassword = "b"\n')
    cfg = load_config(path)
    assert secretfile.export_station_files(cfg) == ["desk1", "desk2"]
    assert secretfile.export_station_files(cfg) == []  # unchanged files are left alone
    assert secretfile.station_password(cfg.paths.secrets_file, "desk2") == "b"


def test_status_says_set_or_not_set_never_the_value(clinic: tuple[Path, Config]) -> None:
    _path, cfg = clinic
    assert secretfile.status(cfg) == {
        "trunk.password": True,
        "modem.pin": True,
        "stations.desk1.password": False,
        "stations.desk2.password": False,
    }


def test_a_removed_stations_password_file_is_deleted_and_the_others_are_kept(clinic: tuple[Path, Config]) -> None:
    path, cfg = clinic
    secrets_path(cfg).write_text(OLD + '[stations.desk1]\npassword = "a"\n[stations.desk2]\npassword = "b"\n')
    cfg = load_config(path)
    secretfile.export_station_files(cfg)
    folder = secretfile.station_file(cfg.paths.secrets_file, "desk2").parent
    (folder / "notes.txt").write_text("not a station's file")
    assert secretfile.remove_stale_station_files(cfg) == []  # every station still there: nothing goes
    fewer = replace(cfg, stations={k: v for k, v in cfg.stations.items() if k != "desk2"})
    assert secretfile.remove_stale_station_files(fewer) == ["desk2"]
    assert not secretfile.station_file(cfg.paths.secrets_file, "desk2").exists()
    assert secretfile.station_password(cfg.paths.secrets_file, "desk1") == "a"
    assert (folder / "notes.txt").exists()
