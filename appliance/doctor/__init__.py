"""``clinicbox doctor``: the technician's self-test.

Each check is a function ``check(ctx) -> Result | list[Result]`` registered
with :func:`check`; the modules in :data:`CHECK_MODULES` are imported to
register theirs. A check never raises: an exception becomes a FAIL with
the error's message. Fixes are written for a technician on site.

Example:
    >>> @check("example", order=99)
    ... def _example(ctx):
    ...     return ok("example", "all good")
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.errors import ClinicBoxError

log = logging.getLogger(__name__)

CHECK_MODULES = [
    "appliance.doctor.system",
    "appliance.doctor.sdcard",
    "appliance.doctor.storage",
    "appliance.doctor.switchboard",
    "appliance.doctor.appliance",
    "appliance.doctor.modem",
    "appliance.doctor.reminders",
    "appliance.doctor.edge",
    "appliance.doctor.feeds",
]


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # OK, WARN, FAIL
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def ok(name: str, detail: str) -> Result:
    return Result(name, "OK", detail)


def warn(name: str, detail: str, fix: str) -> Result:
    return Result(name, "WARN", detail, fix)


def fail(name: str, detail: str, fix: str) -> Result:
    return Result(name, "FAIL", detail, fix)


@dataclass
class Context:
    """What checks may look at. ``cache`` lets checks share expensive work.

    ``root`` is where ``/sys``, ``/proc`` and ``/etc`` are read from: ``/`` on
    the box, a fake tree in tests.
    """

    cfg: Config
    cache: dict[str, Any] = field(default_factory=dict)
    root: Path = Path("/")

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.cache:
            try:
                self.cache[key] = make()
            except Exception as exc:  # remembered so every check reports the same cause
                self.cache[key] = exc
        value = self.cache[key]
        if isinstance(value, Exception):
            raise value
        return value


CheckFn = Callable[[Context], "Result | list[Result]"]
_CHECKS: list[tuple[int, str, CheckFn]] = []


def check(name: str, order: int = 50) -> Callable[[CheckFn], CheckFn]:
    def decorate(fn: CheckFn) -> CheckFn:
        _CHECKS.append((order, name, fn))
        return fn

    return decorate


def run_checks(ctx: Context) -> list[Result]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    results: list[Result] = []
    for _, name, fn in sorted(_CHECKS, key=lambda c: (c[0], c[1])):
        try:
            out = fn(ctx)
        except ClinicBoxError as exc:
            out = fail(name, str(exc), "see the message; `clinicbox doctor --json` for details")
        except Exception as exc:  # a broken check must not hide the others
            log.exception("doctor check %s crashed", name)
            out = fail(name, f"check crashed: {exc}", "report this to ClinicBox support")
        results.extend(out if isinstance(out, list) else [out])
    return results
