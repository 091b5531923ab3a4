"""Typed configuration sections, and the walker that checks TOML against them.

A section is a frozen dataclass whose fields carry their documentation and
limits in :func:`setting`. :func:`build` turns a parsed TOML mapping into
those dataclasses, collecting *every* problem as ``"dotted.key: what is
wrong"`` instead of stopping at the first, so a technician fixes the file
in one pass.

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``Path``,
``list[T]``, ``dict[str, T]`` (for collections keyed by a user-chosen
name, like queues), nested section dataclasses, and ``str`` with
``choices``. A field may add a ``check`` callable that returns an error
message or ``None``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Check = Callable[[Any], str | None]


def setting(
    *,
    doc: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    check: Check | None = None,
    secret: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """Declare a config field. Defaults live in ``defaults.toml``, not here.

    ``default``/``default_factory`` are only for fields that may be absent
    even from defaults.toml (entries of user-defined collections).
    """
    meta = {
        "doc": doc,
        "min": min,
        "max": max,
        "choices": choices,
        "check": check,
        "secret": secret,
    }
    if default is not dataclasses.MISSING:
        return dataclasses.field(default=default, metadata=meta)
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(metadata=meta)


class Problems:
    """Accumulates ``key: message`` lines while walking the config."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{key}: {message}" if key else message)

    def __bool__(self) -> bool:
        return bool(self.lines)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        Path: "a path",
    }.get(tp, str(tp))


def _convert(value: Any, tp: Any, key: str, meta: Mapping[str, Any], problems: Problems, base: Path | None) -> Any:
    """Convert one TOML value to ``tp``; returns a sentinel on failure."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{key}: optional fields are not supported; use an empty value")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            problems.add(key, f"expected {_type_name(tp)}, got {type(value).__name__}")
            return _BAD
        return build(tp, value, problems, prefix=key, base=base)  # type: ignore[arg-type]
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            problems.add(key, f"expected {_type_name(tp)}, got {type(value).__name__}")
            return _BAD
        items = [_convert(v, item_tp, f"{key}.{i}", {}, problems, base) for i, v in enumerate(value)]
        result: Any = [v for v in items if v is not _BAD]
        if len(result) != len(items):
            return _BAD
        return _check_limits(result, key, meta, problems)
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, Mapping):
            problems.add(key, f"expected {_type_name(tp)}, got {type(value).__name__}")
            return _BAD
        out = {}
        ok = True
        for k, v in value.items():
            conv = _convert(v, val_tp, f"{key}.{k}", {}, problems, base)
            if conv is _BAD:
                ok = False
            out[str(k)] = conv
        return _check_limits(out, key, meta, problems) if ok else _BAD
    if tp is bool:
        if not isinstance(value, bool):
            problems.add(key, f"expected true or false, got {value!r}")
            return _BAD
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(key, f"expected an integer, got {value!r}")
            return _BAD
        return _check_limits(value, key, meta, problems)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.add(key, f"expected a number, got {value!r}")
            return _BAD
        return _check_limits(float(value), key, meta, problems)
    if tp is str:
        if not isinstance(value, str):
            problems.add(key, f"expected a string, got {value!r}")
            return _BAD
        return _check_limits(value, key, meta, problems)
    if tp is Path:
        if not isinstance(value, str):
            problems.add(key, f"expected a path string, got {value!r}")
            return _BAD
        path = Path(value).expanduser()
        if value and not path.is_absolute() and base is not None:
            path = base / path
        return _check_limits(path, key, meta, problems)
    raise TypeError(f"{key}: unsupported config type {tp!r}")


def _check_limits(value: Any, key: str, meta: Mapping[str, Any], problems: Problems) -> Any:
    lo, hi, choices, check = (
        meta.get("min"),
        meta.get("max"),
        meta.get("choices"),
        meta.get("check"),
    )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if lo is not None and value < lo:
            problems.add(key, f"{value} is below the minimum {lo:g}")
            return _BAD
        if hi is not None and value > hi:
            problems.add(key, f"{value} is above the maximum {hi:g}")
            return _BAD
    if choices is not None:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in choices:
                problems.add(key, f"{v!r} is not allowed; choose one of: {', '.join(choices)}")
                return _BAD
    if check is not None:
        message = check(value)
        if message:
            problems.add(key, message)
            return _BAD
    return value


class _Bad:
    def __repr__(self) -> str:
        return "<invalid>"


_BAD: Any = _Bad()


def build(
    cls: type,
    data: Mapping[str, Any],
    problems: Problems,
    prefix: str = "",
    base: Path | None = None,
) -> Any:
    """Build dataclass ``cls`` from ``data``, reporting problems under ``prefix``."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    known = sorted(fields)
    for name in data:
        if name not in fields:
            key = f"{prefix}.{name}" if prefix else str(name)
            near = difflib.get_close_matches(str(name), known, n=1)
            hint = f'; did you mean "{near[0]}"?' if near else f"; known keys: {', '.join(known)}"
            problems.add(key, f"unknown key{hint}")
    values: dict[str, Any] = {}
    complete = True
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.add(key, "missing (it has no default)")
                complete = False
            continue
        conv = _convert(data[name], hints[name], key, f.metadata, problems, base)
        if conv is _BAD:
            complete = False
        else:
            values[name] = conv
    if not complete:
        return _BAD
    return cls(**values)


def iter_keys(cls: type, prefix: str = "") -> typing.Iterator[tuple[str, dataclasses.Field[Any]]]:
    """Every leaf key path of a section, for documentation checks."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from iter_keys(tp, key)  # type: ignore[arg-type]
        else:
            yield key, f


def deep_merge(
    base: Mapping[str, Any],
    override: Mapping[str, Any],
    replace: frozenset[str] = frozenset(),
    path: str = "",
) -> dict[str, Any]:
    """Merge ``override`` over ``base``; tables merge, everything else replaces.

    Keys listed in ``replace`` (dotted paths) are collections the user
    defines wholesale, such as ``queues``: the user's table replaces the
    default one instead of merging into it.
    """
    out = dict(base)
    for key, value in override.items():
        sub = f"{path}.{key}" if path else str(key)
        if sub not in replace and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value, replace, sub)
        else:
            out[key] = value
    return out
