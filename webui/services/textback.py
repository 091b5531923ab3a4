"""The text-back texts as the settings page shows them: per language, filled in, with their SMS length.

The length is what the modem will send: the same encoder
(:func:`appliance.modem.wire.pdu.encode_sms`) picks GSM-7 when every
character fits it, else UCS-2 (Korean, Chinese, Polish or Turkish
diacritics), and splits a long text into parts.
"""

from __future__ import annotations

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


def rows(cfg: Config, submitted: dict[str, str] | None = None) -> list[TextRow]:
    """One row per clinic language; ``submitted`` (a preview) overrides the saved texts."""
    out = []
    for lang in cfg.clinic.languages:
        shipped = TEXTS.get(lang, TEXTS["en"])
        own = (submitted if submitted is not None else cfg.textback.texts).get(lang, "").strip()
        template = own or shipped
        try:
            preview, error = template.format(clinic=cfg.clinic.name), ""
        except (KeyError, IndexError, ValueError) as exc:
            preview, error = template, f"only {{clinic}} may be filled in ({exc})"
        encoding, parts, problem = length(preview)
        out.append(TextRow(lang, own, shipped, preview, encoding, parts, len(preview), error or problem))
    return out


def texts_from_form(cfg: Config, form: dict[str, str]) -> dict[str, str]:
    """The clinic's own texts from the form: blank or the shipped text means "use the shipped one"."""
    texts = {}
    for lang in cfg.clinic.languages:
        value = str(form.get(f"text.{lang}", "")).strip()
        if value and value != TEXTS.get(lang, TEXTS["en"]):
            texts[lang] = value
    return texts
