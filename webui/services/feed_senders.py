"""The per-sender HL7 mappings as the settings screen edits them (``feeds.hl7.senders``).

A sender is named by its sending application (MSH-3, first component), as
the intake looks it up. The screen edits one sender at a time with a form
generated from :class:`~appliance.config.feeds.Hl7SenderSettings`, so the
values obey the config file's own rules; the whole table is then written to
the settings overlay (the collection is replaced wholesale, like queues) and
validated by the loader as the box would load it.

A sender's table keeps only the keys that differ from the built-in defaults,
so a sender left on a default follows it if the shipped default changes.
"""

from __future__ import annotations

import re
from typing import Any

from appliance.config import Config
from appliance.config.feeds import PHONE_FIELDS, START_FIELDS, STATUS_ACTIONS, Hl7SenderSettings
from webui.i18n import gettext as _
from webui.services import settings_forms as forms
from webui.services.overlay import to_toml

#: The collection's dotted path in the config.
PATH = ("feeds", "hl7", "senders")
#: An MSH-3 namespace ID: letters, digits and a few separators, never HL7's
#: delimiters (|^~\\&), quotes, brackets or control characters.
_SENDER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,38}[A-Za-z0-9])?$")


def valid_sender(name: str) -> bool:
    """True for a name that can be an MSH-3 sending application and a config key."""
    return bool(_SENDER.match(name))


def senders(cfg: Config) -> dict[str, Hl7SenderSettings]:
    return dict(cfg.feeds.hl7.senders)


def overrides(mapping: Hl7SenderSettings) -> dict[str, Any]:
    """The keys of ``mapping`` that differ from the built-in defaults (what the sender's table holds)."""
    default = to_toml(Hl7SenderSettings())
    return {k: v for k, v in to_toml(mapping).items() if default.get(k) != v}


def table(cfg: Config) -> dict[str, dict[str, Any]]:
    """The running senders as TOML tables (each with its overrides only)."""
    return {name: overrides(mapping) for name, mapping in senders(cfg).items()}


def with_sender(cfg: Config, name: str, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The senders' table with ``name`` set to the form's ``values`` (defaults left out)."""
    default = to_toml(Hl7SenderSettings())
    out = table(cfg)
    out[name] = {k: v for k, v in values.items() if default.get(k) != v}
    return out


def without_sender(cfg: Config, name: str) -> dict[str, dict[str, Any]]:
    out = table(cfg)
    out.pop(name, None)
    return out


#: The longest code a sender puts in a field (HL7 coded values are short).
MAX_CODE = 40


def code_errors(values: dict[str, Any]) -> dict[str, str]:
    """Codes in the lists and tables that no sender could send: too long, or with control characters."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            codes = [str(k) for k in value] + [str(v) for v in value.values()]
        elif isinstance(value, list):
            codes = [str(v) for v in value]
        else:
            continue
        if any(len(c) > MAX_CODE for c in codes):
            errors[name] = _("a code is longer than %(max)s characters", max=MAX_CODE)
        elif any(ord(ch) < 32 or ord(ch) == 127 for c in codes for ch in c):
            errors[name] = _("contains control characters")
    return errors


def form_fields(mapping: Hl7SenderSettings | None) -> list[forms.FormField]:
    """The edit form's fields, from the schema (limits, choices, checks stay the config's)."""
    return forms.fields(Hl7SenderSettings, mapping or Hl7SenderSettings())


def labels() -> dict[str, str]:
    """Short labels for the form (the schema's docs are the hints)."""
    return {
        "start_fields": _("Start time, first found wins (one per line: %(fields)s)", fields=", ".join(START_FIELDS)),
        "default_duration_min": _("Duration when the message gives none (minutes)"),
        "timezone": _("Time zone of times without an offset (empty: the clinic's)"),
        "phone_fields": _("Fields with the patient's numbers (%(fields)s)", fields=", ".join(PHONE_FIELDS)),
        "mobile_equipment": _("Telecom equipment types that mark the mobile (XTN-3)"),
        "provider_segment": _("Provider from"),
        "location_segment": _("Room from"),
        "language_field": _("Take PID-15 as the patient's language"),
        "languages": _("Extra PID-15 codes (one per line: CODE = language)"),
        "statuses": _(
            "Extra filler statuses, SCH-25 (one per line: CODE = %(actions)s)", actions=" | ".join(STATUS_ACTIONS)
        ),
    }


def summary(mapping: Hl7SenderSettings) -> str:
    """One line for the list: what this sender overrides (keys only, no values)."""
    keys = list(overrides(mapping))
    return ", ".join(keys) if keys else _("the defaults")
