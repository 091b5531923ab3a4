"""Helpers to read the actions an engine returned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def only(actions: Iterable[Any], kind: type[T]) -> list[T]:
    return [a for a in actions if isinstance(a, kind)]


def one(actions: Iterable[Any], kind: type[T]) -> T:
    found = only(actions, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]
