"""Natural SMS replies in the six languages: the tested examples of each data file.

Every ``[tests] examples`` entry of ``replies_data/<lang>.toml`` is a reply
as patients text it (typos, no diacritics, emoji, full-width letters,
mixed scripts) with what it must read as. Per language: at least 40
examples, at least 90 % of the clear ones (confirm, cancel, stop)
understood, and none misread (read as an answer it does not give).

Figures: ``pytest -s -k figures tests/unit/reminders/test_reminder_replies_languages.py``.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.errors import ReminderError
from appliance.reminders import replies_lexicon
from appliance.reminders.replies import REASONS, read_reply
from appliance.reminders.replies_lexicon import LANGUAGES, Lexicon, lexicon

CLEAR = ("confirm", "cancel", "stop")


@dataclass
class Figures:
    examples: int
    clear: int
    understood: int
    misread: list[str]
    wrong_reason: list[str]

    @property
    def understood_pct(self) -> float:
        return 100.0 * self.understood / self.clear


def measure(language: str, patient_language: str | None) -> Figures:
    """An example marked "ambiguous" is so for a patient of its language only (the
    Polish "No" means "well"; for an English patient it is a no): it is left out
    when the patient's language is another."""
    examples = [e for e in lexicon(language).examples if patient_language == language or e[2] != "ambiguous"]
    clear = understood = 0
    misread: list[str] = []
    wrong_reason: list[str] = []
    for text, expected, reason in examples:
        got = read_reply(text, patient_language)
        if got.meaning is not None and got.meaning != expected:
            misread.append(f"{text!r}: {got.meaning}, expected {expected}")
        if expected in CLEAR:
            clear += 1
            understood += got.meaning == expected
        elif reason and patient_language == language and got.reason != reason:
            wrong_reason.append(f"{text!r}: {got.reason}, expected {reason}")
    return Figures(len(examples), clear, understood, misread, wrong_reason)


@pytest.mark.parametrize("language", LANGUAGES)
def test_figures_per_language(language: str) -> None:
    figures = measure(language, language)
    print(
        f"\n{language}: {figures.examples} replies, {figures.clear} clear, "
        f"{figures.understood} understood ({figures.understood_pct:.1f} %), {len(figures.misread)} misread"
    )
    assert figures.examples >= 40
    kinds = {expected for _, expected, _ in lexicon(language).examples}
    assert kinds == {"confirm", "cancel", "stop", "unclear"}
    assert figures.misread == []
    assert figures.understood_pct >= 90.0, figures
    assert figures.wrong_reason == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("patient_language", [None, *LANGUAGES])
def test_no_reply_is_misread_whatever_the_patients_language(language: str, patient_language: str | None) -> None:
    """A patient may answer in another language than the one on file; nothing is ever misread."""
    assert measure(language, patient_language).misread == []


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Yes I'll be there", "en", "confirm"),
        ("No puedo ir", "es", "cancel"),
        ("Nie przyjdę", "pl", "cancel"),
        ("Gelemeyeceğim", "tr", "cancel"),
        ("못 가요", "ko", "cancel"),
        ("我去不了", "zh", "cancel"),
        ("stop sms", "en", "stop"),
        ("no más mensajes", "es", "stop"),
        ("unsubscribe", "pl", "stop"),
        # The patient's language on file is Polish, the reply is in Spanish or English.
        ("Sí, ahí estaré", "pl", "confirm"),
        ("I can't come", "pl", "cancel"),
    ],
)
def test_the_replies_the_issue_names(text: str, language: str, expected: str) -> None:
    assert read_reply(text, language).meaning == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("No, I'll come", "yes-and-no"),
        ("no I'll come", "yes-and-no"),
        ("I can't come", None),
        ("I'm not able to make it", None),
        ("don't cancel", "negated-answer"),
        ("please don't stop the reminders", "negated-answer"),
        ("Imposible ir", None),
        ("my wife will come", "other-words"),
        ("not ok", "negated-answer"),
        ("Can I come at 3?", "question"),
        ("Yes, tomorrow", "date"),
        ("yes at 9am", "time"),
        ("yes but", "unsure"),
        ("cancel and stop texting me", "several-answers"),
        ("yes 1 2", "time"),
    ],
)
def test_negation_scope_and_the_safety_rules(text: str, reason: str | None) -> None:
    got = read_reply(text, "en")
    if reason is None:
        assert got.meaning == "cancel"
    else:
        assert got.meaning is None
        assert got.reason == reason


BAD_INPUT = [
    ("", "empty"),
    ("   \n ", "empty"),
    (None, "empty"),
    ("yes " * 60, "too-long"),
    ("Tak, " + "bardzo dziękuję " * 20, "too-long"),
    ("👍", "no-words"),
    ("😀😀😀 🙏", "no-words"),
    ("!!!???", "no-words"),
    ("Ja, ich komme gerne", "unknown-language"),
    ("Oui, je viendrai", "unknown-language"),
    ("Да, приду", "unknown-language"),
    ("はい、行きます", "unknown-language"),
    ("Vâng, tôi sẽ đến", "unknown-language"),
    # A seventh language that shares a word with one of the six: never read on that word alone.
    ("Não posso ir", "unknown-language"),
    ("Non posso venire, mi dispiace", "unknown-language"),
    ("Nein, ich kann nicht kommen", "unknown-language"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_INPUT)
@pytest.mark.parametrize("language", [None, *LANGUAGES])
def test_bad_input_is_unclear_with_its_reason(text: str | None, reason: str, language: str | None) -> None:
    got = read_reply(text, language)
    assert (got.meaning, got.reason) == (None, reason)


def test_random_text_never_crashes_and_long_noise_is_never_an_answer() -> None:
    rng = random.Random(15)
    alphabet = "yesnotak nie evet hayır 네 아니요 是不去了 ?!.,1234567890 😀👍\u200b\u0301\t\n" + "ＡＢＣ１２３？"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        got = read_reply(text, rng.choice([None, *LANGUAGES]))
        assert got.reason is None or got.reason in REASONS
        assert (got.meaning is None) == (got.reason is not None)
        if len(text) > 160:
            assert got.meaning is None


def test_every_reason_the_reader_gives_is_a_known_one() -> None:
    for language in LANGUAGES:
        for text, _, _ in lexicon(language).examples:
            got = read_reply(text, language)
            assert got.reason is None or got.reason in REASONS


def test_a_data_file_with_an_unknown_kind_or_a_contradiction_is_refused() -> None:
    lex = Lexicon("en", lambda w: w)
    with pytest.raises(ReminderError, match="unknown kind 'maybe'"):
        replies_lexicon._load_into(lex, {"words": {"maybe": ["perhaps"]}}, "en.toml")
    with pytest.raises(ReminderError, match="both confirm and cancel"):
        replies_lexicon._load_into(lex, {"words": {"confirm": ["yes"], "cancel": ["yes"]}}, "en.toml")
    with pytest.raises(ReminderError, match="not a valid regular expression"):
        replies_lexicon._load_into(lex, {"pattern": [{"regex": "(", "means": "come"}]}, "en.toml")


def test_a_translators_new_words_need_no_code() -> None:
    """What a data file says is what the reader knows: a new word becomes understood."""
    lex = Lexicon("en", lambda w: w)
    replies_lexicon._load_into(lex, {"words": {"come": ["pop in"], "negator": ["cant"]}}, "test.toml")
    assert [i.kind for i in lex.items("can't pop in")] == ["negator", "come"]


HELD_OUT = tomllib.loads((Path(__file__).parent / "replies_heldout.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_replies_written_after_the_data_are_never_misread(language: str) -> None:
    examples = HELD_OUT[language]
    clear = [e for e in examples if e["reads"] != "unclear"]
    understood = sum(read_reply(e["text"], language).meaning == e["reads"] for e in clear)
    print(f"\n{language} (held out): {len(examples)} replies, {understood}/{len(clear)} clear ones understood")
    for patient_language in (None, *LANGUAGES):
        for e in examples:
            got = read_reply(e["text"], patient_language).meaning
            assert got in (None, e["reads"]), f"{e['text']!r} read as {got} for a {patient_language} patient"
