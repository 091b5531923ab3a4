"""The secrets file, as its one writer (the core) and the stations see it.

The secrets file (``paths.secrets_file``, TOML, mode 0600) holds the trunk
password, the SIM PIN and the station passwords. Only the core reads and
writes it: a manager sets a secret in the web UI, the web UI hands the new
value to the core over the control socket (``secrets.set``), and the core
writes the file here, atomically (a temporary file in the same folder,
fsync, rename, fsync of the folder), after checking the candidate with the
config's own rules. The web UI never reads the file: it asks the core
which secrets are set (``secrets.status``) and shows only "set" or "not set".

Each station gets its own password and nothing else: the core copies it
into ``<folder of the secrets file>/station-secrets/<id>.password`` (0640;
on the appliance that folder belongs to the ``clinicbox-station`` group,
which cannot read the secrets file itself), and ``clinicbox station``
reads only its own file (:func:`station_password`).

Example:
    >>> from appliance.config import load_config
    >>> cfg = load_config(overrides={"stations": {"desk1": {"name": "Desk"}}}, use_secrets=False)
    >>> secret_names(cfg)
    ['trunk.password', 'modem.pin', 'stations.desk1.password']
    >>> check_value("modem.pin", "12a4")
    'modem.pin: a SIM PIN is 4 to 8 digits; nothing was changed'
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from appliance.config.loader import load_config
from appliance.config.model import Config
from appliance.errors import ConfigError, SecretRefused

log = logging.getLogger(__name__)

#: The longest secret accepted (characters); SIP passwords and PINs are far shorter.
MAX_SECRET_CHARS = 128
#: Folder, next to the secrets file, of the one-password-per-station files.
STATION_DIR = "station-secrets"
_SECRET_MODE = 0o600
_STATION_MODE = 0o640


def secret_names(cfg: Config) -> list[str]:
    """The secrets a manager may set on this box, in the order the UI lists them."""
    return [
        "trunk.password",
        "modem.pin",
        *(f"stations.{sid}.password" for sid in cfg.stations),
        # Once a shared calendar's URL is set (its settings screen), its password is asked for here.
        *(["feeds.calendar.password"] if cfg.feeds.calendar.url else []),
    ]


def value_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` as the secret ``name``, as a code (None = nothing).

    Codes: ``empty``, ``too-long``, ``control`` (control characters or line
    breaks), ``pin`` (a SIM PIN is 4 to 8 digits). A pure check the web UI
    runs before sending (its messages are translated) and the core runs
    again before writing.
    """
    if not isinstance(value, str) or not value:
        return "empty"
    if len(value) > MAX_SECRET_CHARS:
        return "too-long"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        return "control"
    if name == "modem.pin" and not (value.isascii() and value.isdigit() and 4 <= len(value) <= 8):
        return "pin"
    return None


_PROBLEMS = {
    "empty": "enter a value",
    "too-long": f"too long (at most {MAX_SECRET_CHARS} characters)",
    "control": "control characters and line breaks are not allowed",
    "pin": "a SIM PIN is 4 to 8 digits",
}


def check_value(name: str, value: object) -> str | None:
    """:func:`value_problem` as a message naming the secret, never quoting the value."""
    code = value_problem(name, value)
    return f"{name}: {_PROBLEMS[code]}; nothing was changed" if code else None


def _key_path(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"not valid TOML: {exc}; fix or remove it"], str(path)) from exc


def _get(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def status(cfg: Config) -> dict[str, bool]:
    """Which of this box's secrets are set (never their values).

    A secret counts as set when the secrets file or the clinic's own file
    gives it a value (``cfg`` was loaded with the secrets).
    """
    out: dict[str, bool] = {}
    for name in secret_names(cfg):
        section, *rest = _key_path(name)
        holder: Any = getattr(cfg, section)
        if section == "stations":
            holder = holder[rest[0]]
        out[name] = bool(getattr(holder, rest[-1], ""))
    return out


def write_secret(cfg: Config, name: str, value: str, *, config_path: Path | None = None) -> Config:
    """Set one secret in the secrets file, atomically, and return the config it gives.

    The candidate file is validated with the config's own rules (the box
    loads it exactly so at start) before it replaces the old one, so a
    refused secret leaves the old file untouched. A station's password is
    also copied into its own station file.

    Args:
        cfg: the running configuration (names the file and the stations).
        name: ``trunk.password``, ``modem.pin`` or ``stations.<id>.password``.
        value: the new secret; never logged.
        config_path: the clinic's config file, to validate the candidate
            (None: validate against ``cfg``'s own values only).

    Raises:
        SecretRefused: unknown name, or a value the config refuses.
        ConfigError: the secrets file is unusable (not TOML, no path set).
    """
    if name not in secret_names(cfg):
        raise SecretRefused(f"{name}: not a secret of this box; known: {', '.join(secret_names(cfg))}")
    problem = check_value(name, value)
    if problem:
        raise SecretRefused(problem)
    path = Path(cfg.paths.secrets_file)
    if str(path) in ("", "."):
        raise ConfigError(["paths.secrets_file: not set; the box has nowhere to keep secrets"])
    try:
        return _write(cfg, name, value, path, config_path)
    except PermissionError as exc:
        raise SecretRefused(
            f"{name}: the core cannot write in {path.parent} ({exc.strerror}); nothing was changed."
            " paths.secrets_file must be in a folder the core's user owns (/etc/clinicbox/secrets/ on the appliance)"
        ) from None


def _write(cfg: Config, name: str, value: str, path: Path, config_path: Path | None) -> Config:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        data = _read(path)
        node = data
        *parents, leaf = _key_path(name)
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
        tmp = _write_temp(path, tomli_w.dumps(data).encode("utf-8"), _SECRET_MODE)
        try:
            new = _validate(cfg, tmp, config_path, name, value)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        if name.startswith("stations."):
            write_station_file(path, _key_path(name)[1], value)
    log.info("secret %s written to %s", name, path)
    return new


def _validate(cfg: Config, candidate: Path, config_path: Path | None, name: str, value: str) -> Config:
    if config_path is None:  # a config built in code: nothing on disk to load it from again
        return _with_secret(cfg, name, value)
    overrides = {"paths": {"secrets_file": str(candidate)}}
    try:
        new = load_config(config_path, overrides=overrides)
    except ConfigError as exc:
        # Name the key, never echo a line that could carry the value.
        keys = sorted({line.split(":", 1)[0] for line in exc.problems})
        raise SecretRefused(f"{', '.join(keys)}: refused by the config's rules; nothing was changed") from None
    return dataclasses.replace(new, paths=dataclasses.replace(new.paths, secrets_file=cfg.paths.secrets_file))


def _with_secret(cfg: Config, name: str, value: str) -> Config:
    section, *rest = _key_path(name)
    holder: Any = getattr(cfg, section)
    if section == "stations":
        station = dataclasses.replace(holder[rest[0]], password=value)
        return dataclasses.replace(cfg, stations={**holder, rest[0]: station})
    return dataclasses.replace(cfg, **{section: dataclasses.replace(holder, **{rest[-1]: value})})


def _write_temp(path: Path, content: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, content)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Any:
    """One writer at a time (two managers saving at once write one after the other)."""
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, _SECRET_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- the stations' own files ------------------------------------------------------------
def station_file(secrets_file: Path, station: str) -> Path:
    return Path(secrets_file).parent / STATION_DIR / f"{station}.password"


def write_station_file(secrets_file: Path, station: str, password: str) -> None:
    """Write one station's password into its own file, atomically (0640)."""
    target = station_file(secrets_file, station)
    target.parent.mkdir(mode=0o750, exist_ok=True)
    tmp = _write_temp(target, password.encode("utf-8"), _STATION_MODE)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def export_station_files(cfg: Config) -> list[str]:
    """Copy every configured station's password into its own file (the core at start).

    Files whose content is already right are left alone. Returns the
    stations written.
    """
    path = Path(cfg.paths.secrets_file)
    if str(path) in ("", ".") or not path.parent.is_dir():
        return []
    written = []
    for sid, st in cfg.stations.items():
        if not st.password:
            continue
        target = station_file(path, sid)
        try:
            if target.read_text(encoding="utf-8") == st.password:
                continue
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        write_station_file(path, sid, st.password)
        written.append(sid)
    return written


def remove_stale_station_files(cfg: Config) -> list[str]:
    """Delete the password files of stations that are gone from ``cfg`` (or have no
    password any more), so a removed station's password does not stay on the box.
    Returns the stations whose file was deleted; other files in the folder are left alone."""
    path = Path(cfg.paths.secrets_file)
    folder = path.parent / STATION_DIR
    if str(path) in ("", ".") or not folder.is_dir():
        return []
    keep = {sid for sid, st in cfg.stations.items() if st.password}
    removed = []
    for own in sorted(folder.glob("*.password")):
        sid = own.name.removesuffix(".password")
        if sid not in keep and own.is_file():
            own.unlink(missing_ok=True)
            removed.append(sid)
    if removed:
        _fsync_dir(folder)
    return removed


def station_password(secrets_file: Path, station: str) -> str:
    """The password of one station, as the station program reads it.

    Its own file first (the appliance: the core wrote it). Without one,
    the station's own entry of a secrets file it may read (a front-desk PC
    keeps only its own password there; the demo and tests run as one
    user); every other entry is dropped at once. "" when neither has it.
    """
    own = station_file(secrets_file, station)
    try:
        return own.read_text(encoding="utf-8").strip("\n")
    except FileNotFoundError:
        pass
    except PermissionError as exc:
        raise ConfigError([f"cannot read {own}: {exc.strerror}; it must be readable by the station's user"]) from None
    path = Path(secrets_file)
    try:
        st = path.stat()
    except (FileNotFoundError, PermissionError):
        return ""
    if not stat.S_ISREG(st.st_mode) or not os.access(path, os.R_OK):
        return ""
    value = _get(_read(path), ("stations", station, "password"))
    return value if isinstance(value, str) else ""
