"""The settings overlay: the only config file the web UI writes.

Settings screens never touch the clinic's ``clinicbox.toml``; they write
``<paths.state_dir>/settings.toml``, which :func:`appliance.config.load_config`
merges over it. Every change is validated by the same loader with the
candidate overlay merged in, so the web UI accepts exactly what the box
would accept at start. The overlay stays minimal: a value equal to the
clinic's own file is removed from it rather than pinned.

The simulator's keys (``reminders.dialer``, ``[reminders.simulator]``,
``modem.simulate``...; :mod:`appliance.config.simulation`) are never
written here: a candidate carrying one is refused, and one left in an old
overlay is dropped on read (the loader ignores it too).

Two managers editing at once cannot overwrite each other: each form
carries the overlay's version (a hash), and a save against an older
version is refused with a "reload" message.
"""

from __future__ import annotations

import copy
import dataclasses
import fcntl
import hashlib
import logging
import os
import secrets
import tomllib
import typing
from pathlib import Path
from typing import Any

import tomli_w

from appliance.config import Config, load_config
from appliance.config.loader import OVERLAY_NAME
from appliance.config.simulation import simulator_keys_in, without_simulator_keys
from appliance.errors import ClinicBoxError, ConfigError

log = logging.getLogger(__name__)


class StaleSettingsError(ClinicBoxError):
    """Someone saved the settings since this form was opened."""


def to_toml(value: Any, *, keep_secrets: dict[str, Any] | None = None) -> Any:
    """A config value (dataclass, list, dict, scalar) as plain TOML data.

    Secret fields are left out (they live in the secrets file) unless
    ``keep_secrets`` gives their value from the clinic's own file.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.metadata.get("secret"):
                kept = (keep_secrets or {}).get(f.name)
                if kept:
                    out[f.name] = kept
                continue
            out[f.name] = to_toml(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        return {str(k): to_toml(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_toml(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class Overlay:
    """Read, validate and write ``settings.toml`` for one clinic."""

    def __init__(self, state_dir: Path, config_path: Path | None) -> None:
        self.path = Path(state_dir) / OVERLAY_NAME
        self.config_path = config_path
        self._lock_path = Path(state_dir) / ".settings.lock"

    def read(self) -> tuple[dict[str, Any], str]:
        """The overlay's data (without simulator keys, which never apply) and its version."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, "none"
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"not valid TOML: {exc}"], str(self.path)) from exc
        return without_simulator_keys(data), hashlib.sha256(raw).hexdigest()[:16]

    def version(self) -> str:
        return self.read()[1]

    def raw(self) -> bytes | None:
        """The overlay file as it is now (None: there is none), for :meth:`restore`."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def restore(self, raw: bytes | None) -> None:
        """Put back what :meth:`raw` returned (a save the core refused is taken back)."""
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if raw is None:
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_name(f".{OVERLAY_NAME}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        log.info("settings overlay restored")

    def base(self, use_secrets: bool = False) -> Config:
        """The configuration without the overlay (the clinic's file over defaults)."""
        return load_config(self.config_path, use_overlay=False, use_secrets=use_secrets)

    def validate(self, candidate: dict[str, Any]) -> Config:
        """The configuration the box would load with ``candidate`` as overlay.

        Raises:
            ConfigError: one line per problem, each naming its key.
        """
        if "paths" in candidate:
            raise ConfigError(["paths: cannot be changed from the web UI's settings"])
        simulated = simulator_keys_in(candidate)
        if simulated:
            raise ConfigError(
                [
                    f"{key}: simulation cannot be set from the web UI's settings (only a demo or test box has it)"
                    for key in simulated
                ]
            )
        return load_config(self.config_path, overrides=candidate, use_overlay=False, use_secrets=False)

    def save(self, candidate: dict[str, Any], expected_version: str) -> Config:
        """Validate and write the whole overlay atomically.

        Raises:
            ConfigError: the candidate is invalid (nothing written).
            StaleSettingsError: the overlay changed since ``expected_version``.
        """
        cfg = self.validate(candidate)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.version() != expected_version:
                raise StaleSettingsError(
                    "someone saved the settings after you opened this page; reload it and make your change again"
                )
            text = tomli_w.dumps(candidate)
            tmp = self.path.with_name(f".{OVERLAY_NAME}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write("# Written by the ClinicBox web UI (Settings). Do not edit by hand while it runs.\n")
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        log.info("settings overlay saved (%d sections)", len(candidate))
        return cfg

    # -- building candidates ---------------------------------------------------
    def with_section(self, overlay: dict[str, Any], section: str, values: dict[str, Any]) -> dict[str, Any]:
        """``overlay`` with ``section``'s fields set to ``values``, keeping only
        the fields that differ from the clinic's own file."""
        base = to_toml(getattr(self.base(), section))
        candidate = copy.deepcopy(overlay)
        current = dict(candidate.get(section, {}))
        for key, value in values.items():
            if isinstance(base, dict) and base.get(key) == value:
                current.pop(key, None)
            else:
                current[key] = value
        if current:
            candidate[section] = current
        else:
            candidate.pop(section, None)
        return candidate

    def with_collection(self, overlay: dict[str, Any], path: tuple[str, ...], table: dict[str, Any]) -> dict[str, Any]:
        """``overlay`` with a wholesale-replaced collection (queues, stations,
        ivr.nodes) set to ``table``, or removed when it equals the file's."""
        base: Any = self.base()
        for part in path:
            base = getattr(base, part) if not isinstance(base, dict) else base[part]
        candidate = copy.deepcopy(overlay)
        holder = candidate
        for part in path[:-1]:
            holder = holder.setdefault(part, {})
        if to_toml(base) == table:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = table
        if len(path) > 1 and not candidate.get(path[0]):
            candidate.pop(path[0], None)
        return candidate

    def plain_secrets(self, section: str) -> dict[str, dict[str, Any]]:
        """Secret values of a collection that the clinic keeps in its own file
        (not the secrets file), so rewriting the collection keeps them."""
        cfg = load_config(self.config_path, use_secrets=False, use_overlay=True)
        items = getattr(cfg, section)
        out: dict[str, dict[str, Any]] = {}
        for key, item in items.items():
            hints = typing.get_type_hints(type(item))
            out[key] = {
                f.name: getattr(item, f.name)
                for f in dataclasses.fields(item)
                if f.metadata.get("secret") and hints[f.name] is str and getattr(item, f.name)
            }
        return out
