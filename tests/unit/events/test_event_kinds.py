"""Event kinds are declared once, each with a payload and a notifier method, and never spelled elsewhere."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

from appliance.events import NOTIFIERS, PAYLOADS, Collector, EventBus, EventKind, Notifier, kinds
from appliance.events import notifiers as notifiers_module

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("appliance", "webui", "provisioning")
NOTIFIERS_FILE = Path(notifiers_module.__file__).resolve()
#: Files whose ``emit("...")`` is another channel, not the event bus.
OTHER_CHANNELS = {
    # The demo's SIP user agents report to their parent process on stdout (media, dtmf, bye...).
    "appliance/demo/sipua.py": "the demo user agent's stdout protocol",
    # The modem simulator emits AT result lines and URCs on its serial port.
    "appliance/modem/sim/simulator.py": "AT lines",
    "appliance/modem/sim/commands.py": "AT lines",
    "appliance/modem/sim/smsc.py": "AT lines",
    "appliance/modem/sim/voice.py": "AT lines",
}


def declared() -> set[str]:
    return set(typing.get_args(EventKind))


def methods(cls: type[Notifier]) -> dict[str, Any]:
    return {name: fn for name, fn in vars(cls).items() if inspect.isfunction(fn) and not name.startswith("_")}


def emitted_by(cls: type[Notifier], name: str) -> list[str]:
    """The kinds one notifier method emits (called with no payload: TypedDicts are not checked at run time)."""
    out = Collector()
    getattr(cls(out), name)()
    return [e.kind for e in out.take()]


def payload_of(fn: Any) -> type | None:
    """The TypedDict of ``**data: Unpack[...]``, or None for a method without a payload."""
    hints = typing.get_type_hints(fn, include_extras=True)
    data = hints.get("data")
    if data is None:
        return None
    (td,) = typing.get_args(data)
    return td  # type: ignore[no-any-return]


def test_every_declared_kind_has_a_payload_type() -> None:
    assert set(PAYLOADS) == declared()
    for kind, payload in PAYLOADS.items():
        assert typing.is_typeddict(payload), kind


def test_kinds_are_dotted_and_belong_to_a_declared_family() -> None:
    prefixes = typing.get_args(kinds.EventPrefix)
    for kind in declared():
        assert "." in kind and kind == kind.lower(), kind
        assert any(kind.startswith(p) for p in prefixes), kind


def test_every_declared_kind_has_exactly_one_notifier_method_with_its_payload() -> None:
    seen: dict[str, str] = {}
    for cls in NOTIFIERS:
        for name, fn in methods(cls).items():
            (kind,) = emitted_by(cls, name)
            assert kind not in seen, f"{kind} emitted by both {seen[kind]} and {cls.__name__}.{name}"
            seen[kind] = f"{cls.__name__}.{name}"
            expected = PAYLOADS[kind]  # type: ignore[index]
            got = payload_of(fn)
            if got is None:
                assert not expected.__annotations__, f"{cls.__name__}.{name} takes no payload but {kind} has one"
            else:
                assert got is expected, (
                    f"{cls.__name__}.{name} takes {got.__name__}, {kind} carries {expected.__name__}"
                )
    assert set(seen) == declared()


def test_no_payload_names_a_person() -> None:
    """The privacy rule of Event: no names or dates of birth; numbers only in caller/number."""
    for kind, payload in PAYLOADS.items():
        for key in typing.get_type_hints(payload):
            assert "name" not in key and "birth" not in key and key != "dob", (kind, key)
            assert "phone" not in key and ("number" not in key or key == "number"), (kind, key)


def test_a_notifier_keeps_the_wire_format() -> None:
    """``{"event": kind, "data": payload}``: the keys given, no more (optional ones stay absent)."""
    bus = EventBus()
    seen = []
    bus.subscribe(seen.append)
    from appliance.events import CallNotifier, StoreNotifier

    CallNotifier(bus.emit).started(call_id="c1", caller="+48601234567", route="trunk")
    StoreNotifier(bus.emit).unlocked()
    assert [(e.kind, e.data) for e in seen] == [
        ("call.started", {"call_id": "c1", "caller": "+48601234567", "route": "trunk"}),
        ("store.unlocked", {}),
    ]


# -- nothing spells a kind outside the notifiers ---------------------------------------------------
def spelled_kinds(source: str) -> list[tuple[int, str]]:
    """``emit("...")`` / ``Event("...")`` calls whose kind is a string (literal or f-string)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in ("emit", "Event"):
            continue
        named = [k.value for k in node.keywords if k.arg == "kind"]
        if not node.args and not named:
            continue
        first = node.args[0] if node.args else named[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((node.lineno, first.value))
        elif isinstance(first, ast.JoinedStr):
            found.append((node.lineno, ast.unparse(first)))
    return found


def sources() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize(
    "source",
    [
        'bus.emit("trunk.up", reason="x")',
        'self.c.emit("agent.state", station=s)',
        'emit("voicemail.new")',
        'self.bus.publish(Event("store.locked"))',
        'return [Event(f"provisioning.{kind}", data)]',
        'Event(kind="trunk.down")',
    ],
)
def test_the_scan_finds_a_spelled_kind(source: str) -> None:
    assert spelled_kinds(source)


def test_the_scan_lets_notifiers_and_names_pass() -> None:
    assert not spelled_kinds("self.notify.calls.started(call_id=c, caller=n, route=r)\nbus.emit(kind, **data)")
    assert not spelled_kinds("Event(kind, data)\nthreading.Event()")


def test_no_code_outside_the_notifiers_spells_an_event_kind() -> None:
    offenders = []
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        if path.resolve() == NOTIFIERS_FILE or rel in OTHER_CHANNELS:
            continue
        for line, kind in spelled_kinds(path.read_text(encoding="utf-8")):
            offenders.append(f"{rel}:{line}: {kind}")
    assert sources(), "nothing scanned"
    assert offenders == [], "emit through the feature's notifier (appliance/events/notifiers.py) instead"


def test_other_channels_still_exist() -> None:
    """An exemption for a file that is gone would hide a new one of the same name."""
    for rel in OTHER_CHANNELS:
        assert (ROOT / rel).is_file(), rel
