"""Reading ``clinicbox.toml``: defaults, the clinic's file, the secrets file.

Order of precedence (later wins): the shipped ``defaults.toml``, the
clinic's config file, the web UI's settings overlay
(``<paths.state_dir>/settings.toml``, written only by the web UI's
settings screens), the root-only secrets file, then ``overrides`` given in
code (tests, the web UI's settings preview). The overlay never sets
``paths`` nor the simulator's keys (:mod:`appliance.config.simulation`):
those come from the clinic's own file only. Relative paths in a config
file are relative to that file's folder, so a whole clinic (config, key,
database) can live in one movable folder like the demo's ``var/demo``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import tomllib
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from appliance.config.model import CROSS_CHECKS, REPLACED_COLLECTIONS, Config, CrossCheck
from appliance.config.schema import Problems, build, deep_merge
from appliance.config.simulation import simulator_keys_in, without_simulator_keys
from appliance.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("/etc/clinicbox/clinicbox.toml")
#: The web UI's settings overlay, in ``paths.state_dir``.
OVERLAY_NAME = "settings.toml"


def defaults_text() -> str:
    return resources.files("appliance.config").joinpath("defaults.toml").read_text(encoding="utf-8")


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], source) from exc


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(["file not found; create it or pass --config PATH"], str(path)) from exc
    except (PermissionError, IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], str(path)) from exc
    return _parse(text, str(path))


def _secret_problems(cls: type, data: Mapping[str, Any], prefix: str, problems: Problems) -> None:
    """Only fields declared ``secret=True`` may come from the secrets file."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        f = fields.get(name)
        if f is None:
            problems.add(key, "unknown key in the secrets file")
            continue
        tp = hints[name]
        if dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
            _secret_problems(tp, value, key, problems)  # type: ignore[arg-type]
        elif typing.get_origin(tp) is dict and isinstance(value, Mapping):
            item_tp = typing.get_args(tp)[1]
            for item, sub in value.items():
                if dataclasses.is_dataclass(item_tp) and isinstance(sub, Mapping):
                    _secret_problems(item_tp, sub, f"{key}.{item}", problems)  # type: ignore[arg-type]
        elif not f.metadata.get("secret"):
            problems.add(key, "is not a secret; put it in clinicbox.toml instead")


def _read_secrets(path: Path) -> dict[str, Any]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            [f"readable by other users (mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {path}"],
            str(path),
        )
    return read_toml(path)


#: Checks of the whole config that need a package above the config (the
#: prompt catalogue checks ``[prompts.texts]``), handed in by whoever wires
#: the app (the composition roots: ``appliance.app``, ``appliance.cli``,
#: ``webui.runtime``) through :func:`register_check`.
_REGISTERED_CHECKS: list[CrossCheck] = []


def register_check(check: CrossCheck) -> None:
    """Run ``check`` at every :func:`load_config` from now on (once, however often registered).

    A check yields ``(key, message)`` for each problem, like the config's own.
    """
    if check not in _REGISTERED_CHECKS:
        _REGISTERED_CHECKS.append(check)


def load_config(
    path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    text: str | None = None,
    use_secrets: bool = True,
    use_overlay: bool = True,
) -> Config:
    """Load, merge and validate the configuration.

    Args:
        path: the clinic's config file; ``None`` loads only the defaults
            (plus ``overrides``).
        overrides: values merged last (tests, settings previews).
        text: config file content to use instead of reading ``path``
            (the web UI validates an edit before saving it).
        use_secrets: read ``paths.secrets_file``.
        use_overlay: merge the web UI's ``settings.toml`` overlay.

    Raises:
        ConfigError: with one line per problem, each naming its key.
    """
    source = str(path) if path is not None else "defaults"
    base_dir = Path(path).resolve().parent if path is not None else Path.cwd()
    data = _parse(defaults_text(), "defaults.toml")
    user: dict[str, Any] = {}
    if text is not None:
        user = _parse(text, source)
    elif path is not None:
        user = read_toml(Path(path))
    # Relative paths in the clinic's file are relative to that file.
    data = deep_merge(data, _absolutise_paths(user, base_dir), REPLACED_COLLECTIONS)
    if use_overlay:
        overlay_path = Path(str(data.get("paths", {}).get("state_dir", ""))) / OVERLAY_NAME
        if overlay_path.is_file():
            overlay = read_toml(overlay_path)
            if "paths" in overlay:
                raise ConfigError(["paths: cannot be changed from the web UI's settings"], str(overlay_path))
            for key in simulator_keys_in(overlay):
                # The web UI never writes them; a box is not stopped over one, but it never applies.
                log.warning("%s: %s is ignored: simulation is set only in clinicbox.toml", overlay_path, key)
            overlay = without_simulator_keys(overlay)
            data = deep_merge(data, overlay, REPLACED_COLLECTIONS)
    if overrides:
        data = deep_merge(data, overrides, REPLACED_COLLECTIONS)

    problems = Problems()
    if use_secrets:
        raw_secrets = str(data.get("paths", {}).get("secrets_file", ""))
        secrets_path = Path(raw_secrets)
        if raw_secrets:
            secrets = _read_secrets(secrets_path)
            if secrets:
                _secret_problems(Config, secrets, "", problems)
                if problems:
                    raise ConfigError(problems.lines, str(secrets_path))
                data = deep_merge(data, _known_entries(secrets, data), frozenset())

    cfg = build(Config, data, problems)
    if problems:
        raise ConfigError(problems.lines, source)
    for check in [*CROSS_CHECKS, *_REGISTERED_CHECKS]:
        for key, message in check(cfg):
            problems.add(key, message)
    if problems:
        raise ConfigError(problems.lines, source)
    return typing.cast(Config, cfg)


def _known_entries(secrets: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Secrets for entries the config does not define (a station removed from
    clinicbox.toml) are ignored: a password alone must not create a station."""
    out: dict[str, Any] = {}
    for key, value in secrets.items():
        if key in REPLACED_COLLECTIONS and isinstance(value, Mapping):
            existing = data.get(key, {})
            out[key] = {name: entry for name, entry in value.items() if name in existing}
        else:
            out[key] = value
    return out


def _absolutise_paths(user: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Resolve the relative entries of ``[paths]`` against the file's folder."""
    paths = user.get("paths")
    if not isinstance(paths, Mapping):
        return user
    fixed = {}
    for key, value in paths.items():
        if isinstance(value, str) and value and not os.path.isabs(os.path.expanduser(value)):
            fixed[key] = str((base_dir / value).resolve())
        else:
            fixed[key] = value
    return {**user, "paths": fixed}


def config_path_from_env(explicit: str | None) -> Path:
    """``--config`` wins, then ``$CLINICBOX_CONFIG``, then /etc."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CLINICBOX_CONFIG")
    return Path(env) if env else DEFAULT_PATH
