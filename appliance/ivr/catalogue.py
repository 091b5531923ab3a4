"""The prompt catalogue: which prompts exist and their text in each language.

Texts come from :mod:`appliance.ivr.texts`, overridden per language by
``[prompts.texts.<lang>]`` in the config; a clinic may also add new keys
there (a seasonal notice) and use them as a node's ``prompt``. Static
placeholders (``{clinic}``, ``{emergency}``) are filled from the config;
dynamic ones (``{position}``, ``{minutes}``, ``{key}``) from the
:class:`PromptRef`'s parameters.

Other packages add prompts of their own (the reminder calls' phrases, with
``{date}``, ``{time}``...) with :func:`register_texts`; clinics override
those texts the same way. :func:`check_prompt_texts` is the config check of
``[prompts.texts]``: the composition roots hand it to the config loader
(:func:`appliance.config.register_check`), which sits below the IVR.

Dynamic numbers are whole cached sentences, one per value ("Your place in
line: 3."), not a sentence fragment followed by a number clip: word order
differs by language (Korean and Chinese put the number inside the
sentence), TTS prosody stays natural, and the set is small and bounded:
positions 1 to :data:`POSITION_MAX` and minutes 1 to :data:`MINUTES_MAX`.
Beyond those, :func:`position_prompt` and :func:`wait_prompt` return
"many callers ahead" / "longer than half an hour" sentences instead.

Example:
    >>> cat = PromptCatalogue("Clinica Sol", "112")
    >>> cat.text(PromptRef.of("queue_position", position=3), "es")
    'Su lugar en la fila: 3.'
    >>> cat.text(PromptRef("emergency"), "en")
    'If this is a medical emergency, hang up and dial 1 1 2.'
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from appliance.config import Config
from appliance.config.checks import LANGUAGES
from appliance.errors import PromptError
from appliance.ivr.prompts import PromptRef
from appliance.ivr.texts import KEY_WORDS, TEXTS

#: Placeholders a text may use.
PLACEHOLDERS = frozenset({"clinic", "emergency", "position", "minutes", "key"})
#: Placeholders filled per call from the PromptRef (the rest come from config).
DYNAMIC_PLACEHOLDERS = frozenset({"position", "minutes", "key"})
#: Positions announced as a number; above this, ``queue_position_many``.
POSITION_MAX = 20
#: Minutes announced as a number; above this, ``queue_wait_long``.
MINUTES_MAX = 30
PHONE_KEYS = "0123456789*#"

#: Prompts the queue (ACD) plays; the library pre-generates them.
QUEUE_KEYS = (
    "queue_hold",
    "queue_position",
    "queue_position_many",
    "queue_wait",
    "queue_wait_long",
    "callback_offer",
    "callback_confirm",
    "callback_greeting",
    "overflow",
    "leave_message",
    "recording_notice",
)


@dataclass(frozen=True)
class TextSet:
    """Prompts another package adds to the catalogue (the reminder calls' phrases).

    Attributes:
        texts: ``{key: {language: template}}``; keys must not clash with the IVR's.
        placeholders: its dynamic ``{names}``, filled from the PromptRef's parameters.
        refs: ``refs(cfg) -> list[PromptRef]``, what :func:`config_refs` warms.
    """

    texts: Mapping[str, Mapping[str, str]]
    placeholders: frozenset[str]
    refs: Callable[[Config], list[PromptRef]]


#: Registered text sets by owner (a package name); see :func:`register_texts`.
_TEXT_SETS: dict[str, TextSet] = {}
#: Their texts and dynamic placeholders merged, rebuilt on each registration.
_EXTENSION: tuple[dict[str, Mapping[str, str]], frozenset[str]] = ({}, frozenset())


def register_texts(
    owner: str,
    texts: Mapping[str, Mapping[str, str]],
    placeholders: frozenset[str],
    refs: Callable[[Config], list[PromptRef]],
) -> None:
    """Add a package's prompts to the catalogue; registering the same owner again replaces its set.

    The IVR names no package above it: a package registers its own texts
    (``appliance.reminders`` does when imported), and clinics override them
    under ``[prompts.texts]`` like the IVR's.

    Raises:
        PromptError: a key is already the IVR's or another package's.
    """
    global _EXTENSION
    taken = set(TEXTS).union(*(s.texts for o, s in _TEXT_SETS.items() if o != owner))
    clash = set(texts) & taken
    if clash:
        raise PromptError(f"{owner} redefines prompt {sorted(clash)[0]!r}")
    _TEXT_SETS[owner] = TextSet(texts, frozenset(placeholders), refs)
    merged: dict[str, Mapping[str, str]] = {}
    names: frozenset[str] = frozenset()
    for text_set in _TEXT_SETS.values():
        merged.update(text_set.texts)
        names |= text_set.placeholders
    _EXTENSION = (merged, names)


def text_sets() -> list[TextSet]:
    """The registered text sets, in the order they were registered."""
    return list(_TEXT_SETS.values())


def extension_texts() -> tuple[dict[str, Mapping[str, str]], frozenset[str]]:
    """The texts and dynamic placeholders the registered text sets add."""
    return _EXTENSION


def all_texts(key: str) -> Mapping[str, str]:
    """Built-in texts of ``key`` per language, the IVR's or an extension's."""
    return TEXTS.get(key) or extension_texts()[0].get(key, {})


def dynamic_placeholders() -> frozenset[str]:
    return DYNAMIC_PLACEHOLDERS | extension_texts()[1]


def position_prompt(position: int) -> PromptRef:
    """The announcement of a caller's place in line."""
    if 1 <= position <= POSITION_MAX:
        return PromptRef.of("queue_position", position=position)
    return PromptRef("queue_position_many")


def wait_prompt(minutes: int) -> PromptRef:
    """The announcement of the estimated wait (at least one minute)."""
    minutes = max(1, minutes)
    if minutes <= MINUTES_MAX:
        return PromptRef.of("queue_wait", minutes=minutes)
    return PromptRef("queue_wait_long")


def dynamic_values(key: str) -> tuple[str, list[str]] | None:
    """The parameter of a dynamic prompt and every value it can take."""
    if key == "queue_position":
        return "position", [str(n) for n in range(1, POSITION_MAX + 1)]
    if key == "queue_wait":
        return "minutes", [str(n) for n in range(1, MINUTES_MAX + 1)]
    if key in ("callback_offer", "language_option"):
        return "key", list(PHONE_KEYS)
    return None


def key_word(language: str, key: str) -> str:
    """A phone key as spoken inside a sentence of ``language``."""
    if language == "ko" and key not in KEY_WORDS["ko"]:
        return f"{key}번을"
    return KEY_WORDS.get(language, {}).get(key, key)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses.

    Raises:
        ValueError: the template has unbalanced braces.
    """
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def text_problems(texts: Mapping[str, Mapping[str, str]]) -> Iterator[tuple[str, str]]:
    """Problems in ``[prompts.texts]`` overrides, as ``(key, message)``."""
    for lang, entries in texts.items():
        if lang not in LANGUAGES:
            yield f"prompts.texts.{lang}", f"unknown language; use one of {', '.join(LANGUAGES)}"
            continue
        for key, template in entries.items():
            where = f"prompts.texts.{lang}.{key}"
            if not template.strip():
                yield where, "empty text; remove the key to use the built-in text"
                continue
            try:
                used = placeholders(template)
            except ValueError as exc:
                yield where, f"{exc}; write a literal brace as {{{{ or }}}}"
                continue
            unknown = used - PLACEHOLDERS - extension_texts()[1]
            if unknown:
                yield (
                    where,
                    (
                        f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
                        + ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS | extension_texts()[1]))
                    ),
                )


def check_prompt_texts(cfg: Config) -> Iterator[tuple[str, str]]:
    """The config check of ``[prompts.texts]`` (what the roots pass to ``register_check``)."""
    yield from text_problems(cfg.prompts.texts)


class PromptCatalogue:
    """Prompt texts for one clinic.

    Args:
        clinic: the clinic's name for ``{clinic}``.
        emergency: the emergency number for ``{emergency}`` (read digit by digit).
        overrides: ``{language: {key: text}}`` from ``[prompts.texts]``.
    """

    def __init__(self, clinic: str, emergency: str, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.clinic = clinic
        self.emergency = emergency
        self._overrides = {lang: dict(entries) for lang, entries in (overrides or {}).items()}
        problems = [f"{k}: {m}" for k, m in text_problems(self._overrides)]
        if problems:
            raise PromptError("prompt texts have problems:\n  " + "\n  ".join(problems))

    @classmethod
    def from_config(cls, cfg: Config) -> PromptCatalogue:
        return cls(cfg.clinic.name, cfg.emergency_number, cfg.prompts.texts)

    def known_keys(self) -> set[str]:
        """Every key with a text in at least one language."""
        keys = set(TEXTS) | set(extension_texts()[0])
        for entries in self._overrides.values():
            keys.update(entries)
        return keys

    def has_text(self, key: str, language: str) -> bool:
        return key in self._overrides.get(language, {}) or language in all_texts(key)

    def template(self, key: str, language: str) -> str:
        """The unfilled text of ``key`` in ``language``.

        Raises:
            PromptError: no text for this key in this language.
        """
        text = self._overrides.get(language, {}).get(key)
        if text is None:
            text = all_texts(key).get(language)
        if text is None:
            raise PromptError(
                f"prompt {key!r} has no {language!r} text; add it under [prompts.texts.{language}] "
                f"or record {language}/{key}.wav"
            )
        return text

    def text(self, ref: PromptRef, language: str) -> str:
        """The text to speak for ``ref`` (``ref.language`` wins over ``language``).

        Raises:
            PromptError: unknown key or language, or a parameter is missing.
        """
        lang = ref.language or language
        template = self.template(ref.key, lang)
        params = dict(ref.params)
        dynamic = dynamic_placeholders()
        values = {name: params.get(name, "") for name in dynamic}
        values.update(
            clinic=self.clinic,
            emergency=" ".join(self.emergency),
            key=key_word(lang, params["key"]) if "key" in params else "",
        )
        missing = sorted(name for name in placeholders(template) & dynamic if name not in params)
        if missing:
            raise PromptError(f"prompt {ref.key!r} needs the parameter {missing[0]!r} (got {ref})")
        return template.format_map(values)
