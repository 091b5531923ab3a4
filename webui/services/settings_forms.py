"""Forms generated from the config schema, so the settings screens follow the
config file's rules (types, limits, choices) without repeating them.

:func:`fields` describes a section's fields for a template; :func:`parse`
turns the submitted form back into TOML values, reporting values that are
not even the right type ("write a whole number") per field. Everything
else (limits, cross-checks) is left to :func:`appliance.config.load_config`,
whose problems :func:`problems_by_field` maps back onto the form.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from typing import Any

from webui.i18n import gettext as _

_INT = re.compile(r"^-?\d{1,9}$")
_FLOAT = re.compile(r"^-?\d{1,9}([.,]\d{1,6})?$")


@dataclass
class FormField:
    name: str  # dotted path inside the section, e.g. "ring_timeout_s"
    kind: str  # bool, int, float, str, choice, multichoice, list, map
    doc: str
    value: Any
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    error: str = ""
    children: list[FormField] = field(default_factory=list)
    raw: str | None = None  # what the user typed, shown again after an error
    item: str = "str"  # a list's items: str, int or float

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def text(self) -> str:
        """The value as it appears in a text input or textarea."""
        if self.raw is not None:
            return self.raw
        if self.kind == "list":
            return "\n".join(str(v) for v in self.value or [])
        if self.kind == "map":
            return "\n".join(f"{k} = {v}" for k, v in (self.value or {}).items())
        if self.value is None:
            return ""
        return str(self.value)


def _kind(tp: Any, choices: tuple[str, ...] | None) -> str:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return "section"
    if origin is list:
        return "multichoice" if choices else "list"
    if origin is dict:
        return "map"
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    return "choice" if choices else "str"


def fields(cls: type, current: Any, *, exclude: tuple[str, ...] = (), prefix: str = "") -> list[FormField]:
    """Describe the editable fields of section class ``cls`` holding ``current``."""
    hints = typing.get_type_hints(cls)
    out: list[FormField] = []
    for f in dataclasses.fields(cls):
        if f.name in exclude or f.metadata.get("secret"):
            continue
        tp = hints[f.name]
        choices = f.metadata.get("choices")
        kind = _kind(tp, choices)
        name = f"{prefix}{f.name}"
        value = getattr(current, f.name) if current is not None else None
        if kind == "map" and (
            typing.get_origin(typing.get_args(tp)[1]) is dict or dataclasses.is_dataclass(typing.get_args(tp)[1])
        ):
            continue  # nested tables (prompt texts, a feed's per-sender mappings) are set elsewhere
        if kind == "section":
            out.append(
                FormField(name, kind, f.metadata.get("doc", ""), None, children=fields(tp, value, prefix=name + "."))
            )
            continue
        item = typing.get_args(tp)[0] if kind == "list" else str
        out.append(
            FormField(
                name=name,
                kind=kind,
                doc=f.metadata.get("doc", ""),
                value=value,
                choices=tuple(choices or ()),
                min=f.metadata.get("min"),
                max=f.metadata.get("max"),
                item={int: "int", float: "float"}.get(item, "str"),
            )
        )
    return out


def _split_list(text: str) -> list[str]:
    parts = re.split(r"[\n,]", text)
    return [p.strip() for p in parts if p.strip()]


def _parse_map(text: str) -> tuple[dict[str, str], str]:
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep or not key.strip():
            return out, _("line %(num)s: write it as key = value", num=number)
        out[key.strip().strip('"')] = value.strip().strip('"')
    return out, ""


def parse(form: Any, specs: list[FormField]) -> tuple[dict[str, Any], dict[str, str]]:
    """Submitted form -> (TOML values by field, errors by field name)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        key = spec.name.rsplit(".", 1)[-1]
        if spec.kind == "section":
            sub, sub_errors = parse(form, spec.children)
            values[key] = sub
            errors.update(sub_errors)
            continue
        raw = form.get(spec.name, "")
        if spec.kind == "bool":
            values[key] = form.get(spec.name) == "on"
        elif spec.kind == "int":
            text = str(raw).strip()
            if not _INT.match(text):
                errors[spec.name] = _("write a whole number")
            else:
                values[key] = int(text)
        elif spec.kind == "float":
            text = str(raw).strip().replace(",", ".")
            if not _FLOAT.match(str(raw).strip()):
                errors[spec.name] = _("write a number")
            else:
                values[key] = float(text)
        elif spec.kind == "multichoice":
            values[key] = [v for v in form.getlist(spec.name) if v]
        elif spec.kind == "list":
            items = _split_list(str(raw))
            if spec.item == "int":
                if not all(_INT.match(i) for i in items):
                    errors[spec.name] = _("write whole numbers, one per line")
                else:
                    values[key] = [int(i) for i in items]
            elif spec.item == "float":
                if not all(_FLOAT.match(i) for i in items):
                    errors[spec.name] = _("write numbers, one per line")
                else:
                    values[key] = [float(i.replace(",", ".")) for i in items]
            else:
                values[key] = items
        elif spec.kind == "map":
            parsed, problem = _parse_map(str(raw))
            if problem:
                errors[spec.name] = problem
            else:
                values[key] = parsed
        else:
            text = str(raw).strip()
            if len(text) > 500:
                errors[spec.name] = _("too long (500 characters at most)")
            elif any(ord(ch) < 32 for ch in text):
                errors[spec.name] = _("contains control characters")
            else:
                values[key] = text
    return values, errors


def problems_by_field(problems: list[str], prefix: str) -> tuple[dict[str, str], list[str]]:
    """Split config problems into those of this form's fields and the rest.

    ``prefix`` is the section's dotted path (``"trunk."``, ``"queues.front-desk."``).
    """
    mine: dict[str, str] = {}
    others: list[str] = []
    for line in problems:
        key, _sep, message = line.partition(": ")
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            name = re.sub(r"\.\d+$", "", rest)
            mine[name] = f"{mine[name]}; {message}" if name in mine else message
        else:
            others.append(line)
    return mine, others


def apply_errors(specs: list[FormField], errors: dict[str, str], submitted: Any | None) -> None:
    """Attach errors to fields, and keep what the user typed (``submitted``
    is the request's form)."""
    for spec in specs:
        if spec.kind == "section":
            apply_errors(spec.children, errors, submitted)
            continue
        spec.error = errors.get(spec.name, "")
        if submitted is None:
            continue
        if spec.kind == "bool":
            spec.value = submitted.get(spec.name) == "on"
        elif spec.kind == "multichoice":
            spec.value = submitted.getlist(spec.name)
        elif submitted.get(spec.name) is not None:
            spec.raw = str(submitted.get(spec.name))
