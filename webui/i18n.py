"""Translations and local formats, chosen per user.

Catalogues are standard gettext ``.po`` files under
``webui/translations/<locale>/LC_MESSAGES/messages.po`` (editable with
any translation tool, extractable with ``pybabel extract``), read with
Babel at start-up, so no compile step is needed on the box. Dates,
times and numbers are formatted by Babel in the user's language and the
clinic's time zone.

The six UI languages match the clinic languages of the config (``zh`` is
Simplified Chinese, ``zh-Hans``).
"""

from __future__ import annotations

import gettext as _gettext
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from flask import g, has_request_context, request, session

from appliance.store.timefmt import from_db

log = logging.getLogger(__name__)

LANGUAGES = ("en", "es", "pl", "tr", "ko", "zh")
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "pl": "Polski",
    "tr": "Türkçe",
    "ko": "한국어",
    "zh": "简体中文",
}
#: UI language -> catalogue folder and Babel locale.
CATALOGUE = {"en": "en", "es": "es", "pl": "pl", "tr": "tr", "ko": "ko", "zh": "zh_Hans"}
BABEL_LOCALE = {"en": "en_US", "es": "es", "pl": "pl_PL", "tr": "tr_TR", "ko": "ko_KR", "zh": "zh_Hans_CN"}
HTML_LANG = {"en": "en", "es": "es", "pl": "pl", "tr": "tr", "ko": "ko", "zh": "zh-Hans"}
DIRECTORY = Path(__file__).parent / "translations"


class Catalogue:
    """One language's messages, with its plural rule."""

    def __init__(self, messages: dict[str, str | tuple[str, ...]], plural: Callable[[int], int]) -> None:
        self.messages = messages
        self.plural = plural

    def gettext(self, msgid: str) -> str:
        value = self.messages.get(msgid)
        return value if isinstance(value, str) and value else msgid

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        value = self.messages.get(singular)
        if isinstance(value, tuple) and value:
            index = self.plural(n)
            if 0 <= index < len(value) and value[index]:
                return value[index]
        return singular if n == 1 else plural


def load_catalogues(directory: Path = DIRECTORY) -> dict[str, Catalogue]:
    catalogues: dict[str, Catalogue] = {"en": Catalogue({}, lambda n: int(n != 1))}
    for lang, folder in CATALOGUE.items():
        path = directory / folder / "LC_MESSAGES" / "messages.po"
        if lang == "en" or not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=folder)
        messages: dict[str, str | tuple[str, ...]] = {}
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            value = message.string
            if isinstance(value, tuple | list):
                messages[key] = tuple(str(v) for v in value)
            elif value:
                messages[key] = str(value)
        plural = _gettext.c2py(catalog.plural_expr)
        catalogues[lang] = Catalogue(messages, plural)
    return catalogues


_CATALOGUES: dict[str, Catalogue] = {}


def catalogues() -> dict[str, Catalogue]:
    if not _CATALOGUES:
        _CATALOGUES.update(load_catalogues())
    return _CATALOGUES


def choose_language(user_language: str | None) -> str:
    """The user's language, else the session's choice, else the browser's."""
    if user_language in LANGUAGES:
        return str(user_language)
    chosen = session.get("lang") if has_request_context() else None
    if chosen in LANGUAGES:
        return str(chosen)
    if has_request_context():
        best = request.accept_languages.best_match(["en", "es", "pl", "tr", "ko", "zh", "zh-CN", "zh-Hans"])
        if best:
            return "zh" if best.startswith("zh") else best
    return "en"


def current_language() -> str:
    if has_request_context():
        lang = g.get("lang")
        if lang in LANGUAGES:
            return str(lang)
    return "en"


def gettext(msgid: str, **variables: object) -> str:
    text = catalogues().get(current_language(), catalogues()["en"]).gettext(msgid)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = catalogues().get(current_language(), catalogues()["en"]).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


# -- local formats ----------------------------------------------------------------
def babel_locale(lang: str | None = None) -> Locale:
    return Locale.parse(BABEL_LOCALE.get(lang or current_language(), "en_US"))


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return from_db(value)
        except ValueError:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def fmt_datetime(value: datetime | str | None, tz: ZoneInfo, fmt: str = "medium") -> str:
    moment = _moment(value)
    if moment is None:
        return ""
    return format_datetime(moment, fmt, tzinfo=tz, locale=babel_locale())


def fmt_date(value: datetime | date | str | None, tz: ZoneInfo, fmt: str = "medium") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, fmt, locale=babel_locale())
    moment = _moment(value)
    return format_date(moment.astimezone(tz), fmt, locale=babel_locale()) if moment else ""


def fmt_time(value: datetime | str | None, tz: ZoneInfo) -> str:
    moment = _moment(value)
    if moment is None:
        return ""
    return format_time(moment, "short", tzinfo=tz, locale=babel_locale())


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def fmt_percent(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=babel_locale())


def fmt_duration(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``); the same in every language."""
    if seconds is None:
        return "–"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def weekday_names(lang: str | None = None) -> list[str]:
    """Monday first, in the user's language."""
    names = babel_locale(lang).days["format"]["wide"]
    return [names[i] for i in range(7)]
