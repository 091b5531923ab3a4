"""The language knowledge behind reading SMS replies: one data file per language.

This module owns ``appliance/reminders/replies_data/*.toml`` and turns a
reply into a list of *items* (a word or phrase and what it is: a yes, a
no, a verb of coming, a negator, a date word...). It decides nothing; the
rules that keep the reading safe are in :mod:`appliance.reminders.replies`.

A language file (see ``replies_data/README.md`` for a translator) holds:

* ``[words]``: lists of words and phrases per kind (``confirm``, ``cancel``,
  ``stop``, ``come``, ``negator``, ``negator-after``, ``filler``, ``unsure``,
  ``ambiguous``, ``question``, ``reschedule``, ``date``, ``time``). A phrase is several
  words; the longest phrase wins. A word both in ``negator`` and in
  ``cancel`` ("nie", "no", "不") is a no on its own and a negator before
  a verb. A ``negator-after`` takes back the word just before it (Turkish
  "iptal etmeyin", Korean "가지 않아요").
* ``[[pattern]]``: a regular expression tried on one word (after folding)
  when no listed word matched, with the kind it means: inflected forms
  ("gelemeyeceğim", "갈게요", "못가요") live here.
* ``[tests] examples``: replies with what they must read as; the unit tests
  read them all, so a translator's new example is a new test.

``common.toml`` (``yes``, ``ok``, ``stop``, keypad ``1``/``2``) is read
with every language.

Tokenizers and stemmers, and why:

* English, Spanish, Polish: the Snowball stemmers (PyPI ``snowballstemmer``,
  pure Python, maintained by the Snowball project; pinned to 3.x, tested
  with 3.1.1, whose Polish stemmer is used; Debian ships 2.2).
  Data words and the reply's words go through
  the same stemmer, so "cancelled", "cancelling" and "cancel" are one word
  and a translator lists a verb once or twice, not in every person.
* Turkish: the Snowball Turkish stemmer is rejected: it strips noun
  suffixes only, works on the dotted/dotless letters patients often leave
  out, and a verb's negation is itself a suffix ("gel-eme-yeceğim"), so
  any stemming that reached verbs would erase the "not". Hand patterns
  in ``tr.toml`` read the negative suffix instead.
* Korean: KoNLPy needs a Java runtime; kiwipiepy is maintained but ships a
  model of tens of MB for a few dozen reply verbs. Rejected: patterns on
  the word's ending (``-요``, ``-습니다``, ``-ㄹ게요``) and the negators
  ``못``/``안`` in ``ko.toml``.
* Chinese: jieba's last release is from 2020 and it loads a 5 MB
  dictionary; pkuseg ships a model. Rejected: replies are a few
  characters, so a greedy longest match over ``zh.toml``'s own words
  ("去不了", "不能来") is exact and predictable; an unknown character stays
  one unknown word.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]

from appliance.errors import ReminderError

LANGUAGES = ("en", "es", "pl", "tr", "ko", "zh")
KINDS = (
    "confirm", "cancel", "stop", "waitlist", "come", "negator", "negator-after", "filler", "unsure",
    "ambiguous", "question", "reschedule", "date", "time",
)  # fmt: skip
#: Kind of a negator that is also a "no" on its own.
NEGATOR_NO = "negator-no"
UNKNOWN, NUMBER, BREAK = "unknown", "number", "|"
_STEMMERS = {"en": "english", "es": "spanish", "pl": "polish"}
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = r"\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_SCRIPT_RUN = re.compile(rf"[{_HAN}]+|[{_HANGUL}]+|[^\s{_HAN}{_HANGUL}]+")
_HAN_RUN = re.compile(rf"^[{_HAN}]+$")
#: Marks that end a clause: a negator's reach stops there ("No, I'll come").
_CLAUSE_MARKS = set(",.;:!…\n·、。，；：！") | {"\u2014", "\u2013"}
_APOSTROPHES = "'\u2019\u02bc`\u00b4"


@dataclass(frozen=True)
class Item:
    """One word or phrase of a reply and its kind."""

    kind: str
    text: str
    clause: int
    size: int = 1


@dataclass
class Lexicon:
    """One language's words, phrases and patterns, stemmed as replies are."""

    language: str
    stem: Callable[[str], str]
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    examples: list[tuple[str, str, str]] = field(default_factory=list)
    longest: int = 1
    han_words: set[str] = field(default_factory=set)

    def add(self, phrase: str, kind: str) -> None:
        words = tuple(self.stem(w) for w in words_of(phrase))
        if not words:
            raise ReminderError(f"{self.language}: an empty {kind} entry")
        old = self.phrases.get(words)
        if old is not None and old != kind:
            if {old, kind} == {"negator", "cancel"} or NEGATOR_NO in (old, kind):
                kind = NEGATOR_NO
            else:
                raise ReminderError(f"{self.language}: {phrase!r} is both {old} and {kind}; keep it under one kind")
        self.phrases[words] = kind
        self.longest = max(self.longest, len(words))
        for w in words:
            if _HAN_RUN.match(w):
                self.han_words.add(w)

    def items(self, text: str) -> list[Item]:
        """The reply's items, in order; unknown words are ``unknown`` items."""
        tokens = self._tokens(text)
        out: list[Item] = []
        i = 0
        while i < len(tokens):
            clause, word = tokens[i]
            if word == BREAK:
                i += 1
                continue
            match = self._phrase_at(tokens, i)
            if match is not None:
                size, kind = match
                out.append(Item(kind, " ".join(t for _, t in tokens[i : i + size]), clause, size))
                i += size
                continue
            out.append(Item(self._word_kind(word), word, clause))
            i += 1
        return out

    def _phrase_at(self, tokens: list[tuple[int, str]], i: int) -> tuple[int, str] | None:
        clause = tokens[i][0]
        for size in range(min(self.longest, len(tokens) - i), 0, -1):
            window = tokens[i : i + size]
            if any(c != clause or t == BREAK for c, t in window):
                continue
            kind = self.phrases.get(tuple(t for _, t in window))
            if kind is not None:
                return size, kind
        return None

    def _word_kind(self, word: str) -> str:
        for pattern, kind in self.patterns:
            if pattern.search(word):
                return kind
        if word.isdigit():
            return NUMBER
        return UNKNOWN

    def _tokens(self, text: str) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for clause, chunk in enumerate(_clauses(text)):
            for run in _SCRIPT_RUN.findall(chunk):
                for word in words_of(run):
                    if _HAN_RUN.match(word):
                        out += [(clause, w) for w in self._segment(word)]
                    else:
                        out.append((clause, self.stem(word)))
            out.append((clause, BREAK))
        return out

    def _segment(self, run: str) -> list[str]:
        """Greedy longest match over this language's own Han words."""
        words, i = [], 0
        longest = max((len(w) for w in self.han_words), default=1)
        while i < len(run):
            for size in range(min(longest, len(run) - i), 0, -1):
                if size == 1 or run[i : i + size] in self.han_words:
                    words.append(run[i : i + size])
                    i += size
                    break
        return words


def fold(text: str) -> str:
    """Lower case, no accents (Turkish ı/İ and Polish ł too), full-width made
    plain; Hangul and Han kept whole; apostrophes joined ("can't" -> "cant")."""
    text = unicodedata.normalize("NFKC", text).replace("İ", "i")
    text = text.casefold().replace("ı", "i").replace("ł", "l")
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn" or ch in _APOSTROPHES:
            continue
        out.append(ch if ch.isalnum() else " ")
    return unicodedata.normalize("NFC", "".join(out))


def words_of(text: str) -> list[str]:
    return fold(text).split()


def _clauses(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _CLAUSE_MARKS:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _stemmer(language: str) -> Callable[[str], str]:
    name = _STEMMERS.get(language)
    if name is None:
        return lambda word: word
    stemmer = snowballstemmer.stemmer(name)
    return lambda word: word if not word.isalpha() or not word.isascii() else str(stemmer.stemWord(word))


def _read(name: str) -> dict[str, Any]:
    path = resources.files("appliance.reminders").joinpath("replies_data", f"{name}.toml")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReminderError(f"replies_data/{name}.toml cannot be read: {exc}") from exc


def _load_into(lexicon: Lexicon, data: dict[str, Any], source: str) -> None:
    words = data.get("words", {})
    for kind, entries in words.items():
        if kind not in KINDS:
            raise ReminderError(f"{source}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        for entry in entries:
            lexicon.add(str(entry), kind)
    for pattern in data.get("pattern", []):
        kind = str(pattern["means"])
        if kind not in KINDS:
            raise ReminderError(f"{source}: pattern {pattern['regex']!r} means unknown kind {kind!r}")
        try:
            lexicon.patterns.append((re.compile(str(pattern["regex"])), kind))
        except re.error as exc:
            raise ReminderError(
                f"{source}: pattern {pattern['regex']!r} is not a valid regular expression ({exc})"
            ) from exc
    for example in data.get("tests", {}).get("examples", []):
        lexicon.examples.append((str(example["text"]), str(example["reads"]), str(example.get("reason", ""))))


@cache
def lexicon(language: str) -> Lexicon:
    """The language's lexicon, with ``common.toml`` (loaded once, then shared)."""
    if language not in LANGUAGES:
        raise ReminderError(f"no reply data for language {language!r} (one of {', '.join(LANGUAGES)})")
    lex = Lexicon(language, _stemmer(language))
    _load_into(lex, _read(language), f"{language}.toml")
    _load_into(lex, _read("common"), "common.toml")
    return lex


def preload() -> None:
    """Load every language now (a few hundred ms once), so the first reply is read
    without that wait inside the caller's store transaction."""
    for language in LANGUAGES:
        lexicon(language)
