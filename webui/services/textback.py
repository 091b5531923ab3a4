"""The text-back texts as the settings page shows them: per language, filled in, with their SMS length.

The length is what the modem will send: the same encoder
(:func:`appliance.modem.wire.pdu.encode_sms`) picks GSM-7 when every
character fits it, else UCS-2 (Korean, Chinese, Polish or Turkish
diacritics), and splits a long text into parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appliance.config import Config
from appliance.modem.wire.pdu import EncodingError, PduError, encode_sms
from appliance.textback import TEXTS

#: Any valid number: the length does not depend on it.
_NUMBER = "+10000000000"


@dataclass(frozen=True)
class TextRow:
    language: str
    own: str  # the clinic's text ("" = the shipped one)
    shipped: str
    preview: str
    encoding: str
    parts: int
    chars: int
    error: str = ""


def length(text: str) -> tuple[str, int, str]:
    """(encoding, parts, error) of one SMS text."""
    try:
        encoded = encode_sms(_NUMBER, text)
    except (EncodingError, PduError) as exc:
        return "", 0, str(exc)
    return encoded.encoding, len(encoded.parts), ""


def text_row(lang: str, own: str, shipped: str, fields: dict[str, str], suffix: str = "") -> TextRow:
    """One language's row: ``own`` (else ``shipped``) filled in with ``fields``, plus ``suffix``."""
    template = own or shipped
    try:
        preview, error = template.format(**fields), ""
    except (KeyError, IndexError, ValueError) as exc:
        names = ", ".join("{" + name + "}" for name in fields)
        preview, error = template, f"only {names} may be filled in ({exc})"
    preview += suffix
    encoding, parts, problem = length(preview)
    return TextRow(lang, own, shipped, preview, encoding, parts, len(preview), error or problem)


def rows(cfg: Config, submitted: dict[str, str] | None = None) -> list[TextRow]:
    """One row per clinic language; ``submitted`` (a preview) overrides the saved texts."""
    saved = submitted if submitted is not None else cfg.textback.texts
    return [
        text_row(lang, saved.get(lang, "").strip(), TEXTS.get(lang, TEXTS["en"]), {"clinic": cfg.clinic.name})
        for lang in cfg.clinic.languages
    ]


def own_texts(languages: list[str], form: dict[str, str], shipped: Mapping[str, str]) -> dict[str, str]:
    """The clinic's own texts from a form: blank or the shipped text means "use the shipped one"."""
    texts = {}
    for lang in languages:
        value = str(form.get(f"text.{lang}", "")).strip()
        if value and value != shipped.get(lang, shipped["en"]):
            texts[lang] = value
    return texts


def texts_from_form(cfg: Config, form: dict[str, str]) -> dict[str, str]:
    """The clinic's own text-back texts from the form."""
    return own_texts(cfg.clinic.languages, form, TEXTS)
